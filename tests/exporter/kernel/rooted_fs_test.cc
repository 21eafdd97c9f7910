#include "exporter/kernel/rooted_fs.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::FixtureTree;

TEST(FsRootTest, JoinsWithoutDoubleSlashes) {
  EXPECT_EQ(FsRoot("/proc").Path("1/mountinfo"), "/proc/1/mountinfo");
  EXPECT_EQ(FsRoot("/host/proc/").Path("/pressure/cpu"), "/host/proc/pressure/cpu");
  EXPECT_EQ(FsRoot("/").Path("proc"), "/proc");
}

TEST(StatusFromErrnoTest, MapsErrnoToTheCountedReasons) {
  EXPECT_EQ(StatusFromErrno(ENOENT), ReadStatus::kMissing);
  EXPECT_EQ(StatusFromErrno(ENOTDIR), ReadStatus::kMissing);
  EXPECT_EQ(StatusFromErrno(EACCES), ReadStatus::kPermission);
  EXPECT_EQ(StatusFromErrno(EPERM), ReadStatus::kPermission);
  EXPECT_EQ(StatusFromErrno(ESRCH), ReadStatus::kVanished);   // a task that exited
  EXPECT_EQ(StatusFromErrno(ENODEV), ReadStatus::kVanished);  // a removed cgroup's open file
  EXPECT_EQ(StatusFromErrno(EIO), ReadStatus::kIoError);
  EXPECT_EQ(ReadStatusName(ReadStatus::kVanished), "vanished");
  EXPECT_EQ(ReadStatusName(ReadStatus::kIoError), "io");
}

TEST(StatFileTest, KeepsTheDescriptorWhileTheBudgetAllowsAndSeesNewContent) {
  FixtureTree tree("hybrid_systemd");
  tree.Write("a", "1 2 3\n");
  tree.Write("b", "x\n");
  FdBudget budget{.max = 1, .used = 0};
  ReadBuffer buf;
  StatFile a((tree.root() / "a").string(), &budget);
  StatFile b((tree.root() / "b").string(), &budget);
  ASSERT_EQ(a.Read(buf), ReadStatus::kOk);
  EXPECT_EQ(buf.view(), "1 2 3\n");
  EXPECT_TRUE(a.kept_open());
  ASSERT_EQ(b.Read(buf), ReadStatus::kOk);
  EXPECT_FALSE(b.kept_open());  // over budget: opened for each read
  EXPECT_EQ(budget.used, 1u);

  tree.Write("a", "4 5 6\n");  // in place, like the kernel
  ASSERT_EQ(a.Read(buf), ReadStatus::kOk);
  EXPECT_EQ(buf.view(), "4 5 6\n");

  StatFile moved = std::move(a);
  EXPECT_TRUE(moved.kept_open());
  EXPECT_FALSE(a.kept_open());  // NOLINT(bugprone-use-after-move): the moved-from state
  moved.Close();
  EXPECT_EQ(budget.used, 0u);
}

TEST(StatFileTest, MissingFilesReportMissing) {
  FdBudget budget{.max = 10, .used = 0};
  ReadBuffer buf;
  StatFile f("/nonexistent/queuelens/file", &budget);
  EXPECT_EQ(f.Read(buf), ReadStatus::kMissing);
  EXPECT_EQ(budget.used, 0u);
  EXPECT_EQ(ReadFile("/nonexistent/queuelens/file", buf), ReadStatus::kMissing);
}

TEST(ReadBufferTest, GrowsForFilesLargerThanTheFirstBuffer) {
  FixtureTree tree("hybrid_systemd");
  std::string big;
  for (int tid = 1; tid <= 5000; ++tid) big += std::to_string(tid) + "\n";
  tree.Write("cgroup.threads", big);
  ReadBuffer buf;
  ASSERT_EQ(ReadFile((tree.root() / "cgroup.threads").string(), buf), ReadStatus::kOk);
  EXPECT_EQ(buf.view(), big);
  // A directory cannot be read: an I/O error, not a crash.
  EXPECT_EQ(ReadFile(tree.root().string(), buf), ReadStatus::kIoError);
}

TEST(ListSubdirsTest, ListsDirectoriesOnlyWithTheirInodes) {
  FixtureTree tree("hybrid_systemd");
  std::vector<DirEntry> entries;
  ASSERT_EQ(ListSubdirs((tree.root() / "sys/fs/cgroup").string(), entries), ReadStatus::kOk);
  std::vector<std::string> names;
  for (const auto& e : entries) {
    names.push_back(e.name);
    EXPECT_EQ(e.inode, InodeOf((tree.root() / "sys/fs/cgroup" / e.name).string()));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", "cpuacct", "unified"}));
  EXPECT_EQ(ListSubdirs((tree.root() / "missing").string(), entries), ReadStatus::kMissing);
  EXPECT_EQ(InodeOf((tree.root() / "missing").string()), 0u);
}

TEST(WriteFileTest, ReplacesTheContentOfAnExistingFileOnly) {
  FixtureTree tree("v2_systemd");
  const std::string path =
      (tree.root() / "sys/fs/cgroup/system.slice/containerd.service/cpu.max").string();
  EXPECT_EQ(WriteFile(path, "50000 100000"), WriteStatus::kOk);
  EXPECT_EQ(fixtures::ReadText(path), "50000 100000");
  EXPECT_EQ(WriteFile(path, "max 100000"), WriteStatus::kOk);
  EXPECT_EQ(fixtures::ReadText(path), "max 100000");
  // A removed cgroup: its files are gone, and none is created.
  const std::string gone = (tree.root() / "sys/fs/cgroup/nowhere/cpu.max").string();
  EXPECT_EQ(WriteFile(gone, "1000 100000"), WriteStatus::kVanished);
  EXPECT_FALSE(std::filesystem::exists(gone));
}

TEST(WriteStatusFromErrnoTest, MapsErrnoToTheCountedReasons) {
  EXPECT_EQ(WriteStatusFromErrno(EROFS), WriteStatus::kReadOnly);
  EXPECT_EQ(WriteStatusFromErrno(EACCES), WriteStatus::kPermission);
  EXPECT_EQ(WriteStatusFromErrno(EPERM), WriteStatus::kPermission);
  EXPECT_EQ(WriteStatusFromErrno(ENOENT), WriteStatus::kVanished);
  EXPECT_EQ(WriteStatusFromErrno(ENODEV), WriteStatus::kVanished);
  EXPECT_EQ(WriteStatusFromErrno(EINVAL), WriteStatus::kInvalid);
  EXPECT_EQ(WriteStatusFromErrno(EIO), WriteStatus::kIoError);
  EXPECT_EQ(WriteStatusName(WriteStatus::kReadOnly), "read_only");
  EXPECT_EQ(WriteStatusName(WriteStatus::kInvalid), "invalid");
}

}  // namespace
}  // namespace exporter::kernel
