// The kernel flags of queuelens-exporter: defaults, parsing, validation and the options they make.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/config.h"

namespace exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class KernelFlagsTest : public ::testing::Test {
 protected:
  KernelFlagsTest() : flags_("queuelens-exporter", "test") { config_.Register(flags_); }

  void Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "queuelens-exporter");
    ASSERT_EQ(flags_.Parse(static_cast<int>(args.size()), args.data(), &error_),
              common::FlagSet::Outcome::kOk)
        << error_;
  }

  ExporterConfig config_;
  common::FlagSet flags_;
  std::string error_;
};

TEST_F(KernelFlagsTest, OffByDefaultWithHostPathsAndOneSecond) {
  Parse({});
  EXPECT_FALSE(config_.kernel_enabled);
  EXPECT_EQ(config_.kernel_interval, seconds{1});
  EXPECT_EQ(config_.kernel_discovery_interval, seconds{10});
  EXPECT_TRUE(config_.kernel_keep_files_open);
  EXPECT_EQ(config_.path_procfs, "/proc");
  EXPECT_EQ(config_.path_sysfs, "/sys");
  EXPECT_EQ(config_.kubelet_url, "");
  EXPECT_THAT(config_.Validate(), IsEmpty());
}

TEST_F(KernelFlagsTest, FlagsReachTheCollectorAndStateOptions) {
  Parse({"--kernel.enabled", "--kernel.interval=250ms", "--kernel.discovery-interval=30s",
         "--no-kernel.keep-files-open", "--kernel.cgroup-include=/system\\.slice/.*",
         "--kernel.cgroup-exclude=.*besteffort.*", "--path.procfs=/host/proc",
         "--path.sysfs=/host/sys", "--kubelet.url=http://127.0.0.1:10255/pods",
         "--window.length=30s", "--window.buckets=6"});
  ASSERT_THAT(config_.Validate(), IsEmpty());
  EXPECT_TRUE(config_.kernel_enabled);
  EXPECT_EQ(config_.kernel_interval, milliseconds{250});
  const kernel::CollectorOptions c = config_.ToCollectorOptions(1000);
  EXPECT_FALSE(c.keep_files_open);
  EXPECT_EQ(c.max_open_files, 1000u);
  EXPECT_EQ(c.discovery_interval, seconds{30});
  EXPECT_EQ(c.cgroup_include, "/system\\.slice/.*");
  EXPECT_EQ(c.cgroup_exclude, ".*besteffort.*");
  EXPECT_EQ(c.kubelet_url, "http://127.0.0.1:10255/pods");
  const state::KernelStateOptions s = config_.ToKernelStateOptions();
  EXPECT_EQ(s.window, seconds{30});
  EXPECT_EQ(s.window_buckets, 6);
  EXPECT_EQ(s.series_idle, config_.series_idle_timeout);
}

TEST_F(KernelFlagsTest, CapsAndCaptainFlags) {
  Parse({"--kernel.enabled", "--kernel.max-open-files=200", "--kernel.max-containers=50",
         "--captain.tick=50ms", "--captain.default-target=0.1",
         "--recommender.url=http://queuelens-recommender:8471", "--recommender.interval=30s"});
  ASSERT_THAT(config_.Validate(), IsEmpty());
  EXPECT_EQ(config_.ToCollectorOptions(1000).max_open_files, 200u);  // the lower of the two
  EXPECT_EQ(config_.ToCollectorOptions(100).max_open_files, 100u);
  EXPECT_EQ(config_.ToCollectorOptions(1000).max_containers, 50u);
  const auto run = config_.ToCaptainsRun(nullptr);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->tick, milliseconds{50});
  EXPECT_DOUBLE_EQ(run->options.default_target, 0.1);
  EXPECT_FALSE(run->targets);  // no poller given

  Parse({"--no-captain.enabled"});
  EXPECT_FALSE(config_.ToCaptainsRun(nullptr).has_value());

  Parse({"--kernel.max-open-files=-1", "--kernel.max-containers=0", "--captain.tick=0",
         "--captain.default-target=2", "--recommender.url=recommender:8471"});
  std::string all;
  for (const std::string& p : config_.Validate()) all += p + "\n";
  EXPECT_THAT(all, HasSubstr("--kernel.max-open-files must be >= 0"));
  EXPECT_THAT(all, HasSubstr("--kernel.max-containers must be > 0"));
  EXPECT_THAT(all, HasSubstr("--captain.tick must be a positive duration"));
  EXPECT_THAT(all, HasSubstr("--captain.default-target must be in [0, 1]"));
  EXPECT_THAT(all, HasSubstr("--recommender.url must start with http://"));
}

TEST_F(KernelFlagsTest, ValidateReportsEveryKernelProblem) {
  Parse({"--kernel.enabled", "--kernel.interval=0", "--kernel.discovery-interval=0",
         "--kernel.cgroup-include=(", "--kernel.cgroup-exclude=[a-", "--kubelet.url=kubelet:10250",
         "--kubelet.timeout=0", "--path.sysfs="});
  const std::vector<std::string> problems = config_.Validate();
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  EXPECT_EQ(problems.size(), 7u) << all;
  EXPECT_THAT(all, HasSubstr("--kernel.interval must be a positive duration"));
  EXPECT_THAT(all, HasSubstr("--kernel.discovery-interval must be a positive duration"));
  EXPECT_THAT(all, HasSubstr("--kubelet.timeout must be a positive duration"));
  EXPECT_THAT(all, HasSubstr("--kernel.cgroup-include: bad regex \"(\""));
  EXPECT_THAT(all, HasSubstr("--kernel.cgroup-exclude: bad regex"));
  EXPECT_THAT(all, HasSubstr("--kubelet.url must start with http:// or https://"));
  EXPECT_THAT(all, HasSubstr("--path.procfs and --path.sysfs must not be empty"));
}

TEST_F(KernelFlagsTest, TaskstatsIsAutoByDefaultAndTakesOffAutoOrOn) {
  Parse({});
  EXPECT_EQ(config_.kernel_taskstats, "auto");
  for (const char* mode : {"--kernel.taskstats=off", "--kernel.taskstats=on"}) {
    Parse({mode});
    EXPECT_THAT(config_.Validate(), IsEmpty());
  }
  Parse({"--kernel.taskstats=yes"});
  ASSERT_EQ(config_.Validate().size(), 1u);
  EXPECT_THAT(config_.Validate()[0], HasSubstr("--kernel.taskstats must be off, auto or on"));
}

}  // namespace
}  // namespace exporter
