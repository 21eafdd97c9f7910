#include "exporter/kernel/cgroup_discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::FixturePath;
using ::testing::UnorderedElementsAre;

const std::string kId(64, 'a');
constexpr char kUid[] = "0b6e5ec8-1f3a-4c1b-9f0e-2d7a4c8b9e10";
constexpr char kUidSystemd[] = "0b6e5ec8_1f3a_4c1b_9f0e_2d7a4c8b9e10";

struct Case {
  std::string path;
  QosClass qos;
  Runtime runtime;
};

TEST(ClassifyCgroupPathTest, EveryDriverQosClassAndRuntime) {
  const std::string s = kUidSystemd;
  const Case cases[] = {
      // systemd driver
      {"/kubepods.slice/kubepods-pod" + s + ".slice/cri-containerd-" + kId + ".scope",
       QosClass::kGuaranteed, Runtime::kContainerd},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + s +
           ".slice/cri-containerd-" + kId + ".scope",
       QosClass::kBurstable, Runtime::kContainerd},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + s + ".slice/crio-" +
           kId + ".scope",
       QosClass::kBestEffort, Runtime::kCrio},
      {"/kubepods.slice/kubepods-pod" + s + ".slice/docker-" + kId + ".scope",
       QosClass::kGuaranteed, Runtime::kDocker},
      // nested under another cgroup root (kind, --cgroup-root)
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           s + ".slice/cri-containerd-" + kId + ".scope",
       QosClass::kBestEffort, Runtime::kContainerd},
      // cgroupfs driver
      {"/kubepods/pod" + std::string(kUid) + "/" + kId, QosClass::kGuaranteed, Runtime::kUnknown},
      {"/kubepods/burstable/pod" + std::string(kUid) + "/" + kId, QosClass::kBurstable,
       Runtime::kUnknown},
      {"/kubepods/besteffort/pod" + std::string(kUid) + "/crio-" + kId, QosClass::kBestEffort,
       Runtime::kCrio},
  };
  for (const Case& c : cases) {
    const auto pc = ClassifyCgroupPath(c.path);
    ASSERT_TRUE(pc) << c.path;
    EXPECT_EQ(pc->pod_uid, kUid) << c.path;
    EXPECT_EQ(pc->container_id, kId) << c.path;
    EXPECT_EQ(pc->qos, c.qos) << c.path;
    EXPECT_EQ(pc->runtime, c.runtime) << c.path;
  }
}

TEST(ClassifyCgroupPathTest, RejectsWhatIsNotAContainer) {
  const std::string s = kUidSystemd;
  const std::string not_containers[] = {
      "/",
      "/kubepods.slice",
      "/kubepods.slice/kubepods-pod" + s + ".slice",  // the pod itself
      "/kubepods.slice/kubepods-pod" + s + ".slice/crio-conmon-" + kId + ".scope",
      "/kubepods.slice/kubepods-pod" + s + ".slice/cri-containerd-1234.scope",
      "/kubepods.slice/kubepods-pod" + s + ".slice/cri-containerd-" + std::string(64, 'G') +
          ".scope",
      "/system.slice/docker-" + kId + ".scope",                  // a container outside Kubernetes
      "/kubepods/pod" + std::string(kUid) + "/" + kId + "/sub",  // below a container
      "/kubepods/podnot-a-uid/" + kId,
      "/other/pod" + std::string(kUid) + "/" + kId,  // not under kubepods
  };
  for (const std::string& path : not_containers) EXPECT_FALSE(ClassifyCgroupPath(path)) << path;
}

TEST(DetectLayoutTest, RecognisesV1V2AndHybridMounts) {
  const FsRoot sysfs("/host/sys");
  auto detect = [&](const char* fixture) {
    return DetectLayout(
        ParseMountinfo(fixtures::ReadText(FixturePath(fixture) + "/proc/1/mountinfo")), sysfs);
  };
  const CgroupLayout v2 = detect("v2_systemd");
  EXPECT_EQ(v2.mode, CgroupMode::kV2);
  EXPECT_EQ(v2.unified, "/host/sys/fs/cgroup");
  EXPECT_EQ(v2.walk_root(), "/host/sys/fs/cgroup");

  const CgroupLayout v1 = detect("v1_cgroupfs");
  EXPECT_EQ(v1.mode, CgroupMode::kV1);
  EXPECT_EQ(v1.cpu, "/host/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(v1.cpuacct, v1.cpu);
  EXPECT_EQ(v1.unified, "");

  const CgroupLayout hybrid = detect("hybrid_systemd");
  EXPECT_EQ(hybrid.mode, CgroupMode::kHybrid);
  EXPECT_EQ(hybrid.cpu, "/host/sys/fs/cgroup/cpu");
  EXPECT_EQ(hybrid.cpuacct, "/host/sys/fs/cgroup/cpuacct");
  EXPECT_EQ(hybrid.unified, "/host/sys/fs/cgroup/unified");
  EXPECT_EQ(hybrid.walk_root(), hybrid.cpu);
}

TEST(DetectLayoutTest, PrefersWholeHierarchiesAndIgnoresMountsOutsideSys) {
  const auto layout = DetectLayout(
      ParseMountinfo("50 1 0:40 /kubepods /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                     "51 1 0:40 / /sys/fs/cgroup/cpu2 rw - cgroup cgroup rw,cpu\n"
                     "52 1 0:41 / /mnt/cgroup2 rw - cgroup2 cgroup2 rw\n"),
      FsRoot("/sys/"));
  EXPECT_EQ(layout.mode, CgroupMode::kV1);
  EXPECT_EQ(layout.cpu, "/sys/fs/cgroup/cpu2");
  EXPECT_EQ(layout.cpuacct, "");
  EXPECT_EQ(layout.walk_root(), "/sys/fs/cgroup/cpu2");
  EXPECT_EQ(DetectLayout({}, FsRoot("/sys")).mode, CgroupMode::kNone);
}

TEST(CgroupFilterTest, KubernetesByDefaultOthersOnlyWhenIncluded) {
  const CgroupFilter none("", "");
  EXPECT_TRUE(none.Selects("/kubepods/x", true));
  EXPECT_FALSE(none.Selects("/system.slice/a.service", false));
  const CgroupFilter filter(R"(/system\.slice/.*\.service|/)", ".*besteffort.*|/system.slice/b.*");
  EXPECT_TRUE(filter.Selects("/system.slice/a.service", false));
  EXPECT_TRUE(filter.Selects("/", false));
  EXPECT_FALSE(filter.Selects("/system.slice/b.service", false));
  EXPECT_FALSE(filter.Selects("/system.slice/a.service/sub", false));  // whole-path match
  EXPECT_FALSE(filter.Selects("/kubepods/besteffort/x", true));
  EXPECT_THROW(CgroupFilter("(", ""), std::regex_error);
}

std::vector<std::string> Paths(const std::vector<DiscoveredCgroup>& found) {
  std::vector<std::string> out;
  for (const auto& d : found) out.push_back(d.path);
  return out;
}

TEST(DiscoverCgroupsTest, WalksAFixtureHierarchy) {
  std::vector<DiscoveredCgroup> found;
  const std::string root = FixturePath("v1_cgroupfs/sys/fs/cgroup/cpu,cpuacct");
  ASSERT_EQ(DiscoverCgroups(root, CgroupFilter("/|/kubepods/burstable", ""), found),
            ReadStatus::kOk);
  const std::string d = "/kubepods/pod11111111-2222-4333-8444-555555555555/";
  EXPECT_THAT(
      Paths(found),
      UnorderedElementsAre("/", "/kubepods/burstable",
                           d + "4245940adb9ec3b804eec63d34504219f09b35371d86e0e9a3d6a6e4017d1f3d",
                           d + "33a123e5d474e8f3495a7c304f17184276715204ccb2887317f37bcb216b4681",
                           "/kubepods/burstable/pod66666666-7777-4888-9999-aaaaaaaaaaaa/"
                           "22249aa61fd2594e50910aa574afbb977f9df8f7377e6f02e19c72245d899ad8",
                           "/kubepods/besteffort/podbbbbbbbb-cccc-4ddd-8eee-ffffffffffff/"
                           "deae2d4d75857c1081f113bcfc950dca567dd5a2e14e6ac8fb8e5785ff4dd5ec"));
  for (const auto& c : found) {
    EXPECT_NE(c.inode, 0u) << c.path;
    EXPECT_EQ(c.pod.has_value(), c.path.size() > 30) << c.path;
  }
  EXPECT_EQ(found.front().path, "/");
  std::vector<DiscoveredCgroup> none;
  EXPECT_EQ(DiscoverCgroups(FixturePath("no-such-dir"), CgroupFilter("", ""), none),
            ReadStatus::kMissing);
}

TEST(DiscoverCgroupsTest, CgroupV2WithTheCgroupfsDriver) {
  std::vector<DiscoveredCgroup> found;
  ASSERT_EQ(DiscoverCgroups(FixturePath("v2_cgroupfs/sys/fs/cgroup"), CgroupFilter("", ""), found),
            ReadStatus::kOk);
  std::vector<std::string> seen;
  for (const auto& c : found) {
    ASSERT_TRUE(c.pod) << c.path;
    seen.push_back(c.pod->pod_uid.substr(0, 8) + " " + c.pod->container_id.substr(0, 12) + " " +
                   std::string(QosName(c.pod->qos)) + " " +
                   std::string(RuntimeName(c.pod->runtime)));
  }
  // crio-conmon-<id> beside B1 is CRI-O's monitor, not a container.
  EXPECT_THAT(seen, UnorderedElementsAre("6c1f2e3d ab195c011384 guaranteed ",
                                         "6c1f2e3d 4e35974212e5 guaranteed ",
                                         "7d2e3f4a c2d4252773b8 burstable cri-o",
                                         "8e3f4a5b 2db171599fb0 besteffort "));
}

}  // namespace
}  // namespace exporter::kernel
