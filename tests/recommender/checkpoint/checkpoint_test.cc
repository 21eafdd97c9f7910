#include "recommender/checkpoint/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/recommender/loop_fixture.h"
#include "tests/support/temp_dir.h"

namespace recommender {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { file_ = dir_.File("state.json"); }

  std::string Checkpoint(const LoopHarness& h, common::TimePoint now) const {
    return WriteCheckpoint(h.loop->model(), h.loop->tower(), h.loop->memories(), now);
  }

  testing_support::ScopedTempDir dir_{"checkpoint_test"};
  std::string file_;
};

TEST_F(CheckpointTest, ARestartLosesNothing) {
  LoopHarness before(file_);
  before.Run(90);  // long enough for the Tower to choose and the windows to fill
  before.loop->SaveCheckpoint(before.clock.Now());
  ASSERT_TRUE(fs::exists(file_));
  EXPECT_FALSE(fs::exists(file_ + ".tmp"));

  LoopHarness after(file_);
  after.clock.Set(before.clock.Now());
  after.loop->RestoreCheckpoint();
  EXPECT_EQ(Checkpoint(after, after.clock.Now()), Checkpoint(before, before.clock.Now()));
  EXPECT_EQ(
      after.Metric("queuelens_recommender_checkpoint_errors_total", {{"operation", "restore"}}), 0);

  // The next pass of the restarted loop decides exactly what the old one would have.
  before.inputs->inflight = after.inputs->inflight = 60;
  before.Run(1);
  after.Run(1);
  EXPECT_EQ(after.Cart().recommendation.replicas, before.Cart().recommendation.replicas);
  EXPECT_EQ(after.Cart().recommendation.cpu_cores, before.Cart().recommendation.cpu_cores);
  EXPECT_EQ(after.Cart().recommendation.reason, before.Cart().recommendation.reason);
  EXPECT_EQ(after.Cart().signals.cpu_usage_history, before.Cart().signals.cpu_usage_history);
}

TEST_F(CheckpointTest, ACorruptFileIsReportedAndIgnored) {
  std::ofstream(file_) << "{\"format\": \"queuelens-recommender-checkpoint\", \"vers";
  LoopHarness h(file_);
  h.loop->RestoreCheckpoint();
  EXPECT_EQ(h.Metric("queuelens_recommender_checkpoint_errors_total", {{"operation", "restore"}}),
            1);
  h.Run(1);  // and the loop runs on from scratch
  EXPECT_TRUE(h.Cart().recommendation.replicas);
  // The next save replaces the corrupt file with a good one.
  LoopHarness again(file_);
  again.loop->RestoreCheckpoint();
  EXPECT_EQ(
      again.Metric("queuelens_recommender_checkpoint_errors_total", {{"operation", "restore"}}), 0);
}

TEST_F(CheckpointTest, RestoreIsAllOrNothing) {
  LoopHarness source;
  source.Run(10);
  const std::string good = Checkpoint(source, source.clock.Now());

  const auto rejected = [&](const std::string& text, const std::string& why) {
    model::Model unused({CartConfig()}, {});
    policies::Tower tower;
    Memories memories;
    std::string error;
    EXPECT_FALSE(ReadCheckpoint(text, unused, tower, memories, nullptr, &error)) << why;
    EXPECT_THAT(error, HasSubstr(why));
    EXPECT_TRUE(memories.empty());
    EXPECT_TRUE(unused.state(0).series(model::WorkloadState::kRequestRate).empty());
    EXPECT_FALSE(tower.has_choice());
  };
  rejected(good.substr(0, good.size() / 2), "not JSON");
  rejected("[]", "not a queuelens recommender checkpoint");
  std::string v1 = good;
  v1.replace(v1.find("\"version\":2"), 11, "\"version\":1");
  rejected(v1, "unsupported checkpoint version");
  std::string bad_series = good;
  bad_series.replace(bad_series.find("\"request_rate\""), 14, "\"requests_rate\"");
  rejected(bad_series, "requests_rate: unknown series");
  std::string bad_policy = good;
  bad_policy.replace(bad_policy.find("\"last_good\""), 11, "\"last_gold\"");
  rejected(bad_policy, "workloads[0]: ");
}

TEST_F(CheckpointTest, WorkloadsNoLongerConfiguredAreSkipped) {
  LoopHarness source;
  source.Run(3);
  std::string text = Checkpoint(source, source.clock.Now());
  text.replace(text.find("\"workload\":\"cart\""), 17, "\"workload\":\"gone\"");
  model::Model m({CartConfig()}, {});
  policies::Tower tower;
  Memories memories;
  RestoreReport report;
  std::string error;
  ASSERT_TRUE(ReadCheckpoint(text, m, tower, memories, &report, &error)) << error;
  EXPECT_EQ(report.workloads, 0u);
  EXPECT_EQ(report.skipped, 1u);
}

TEST_F(CheckpointTest, FilesAreWrittenAtomicallyAndReadWithinALimit) {
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(file_, "one", &error)) << error;
  ASSERT_TRUE(WriteFileAtomically(file_, "two", &error)) << error;
  EXPECT_EQ(ReadSmallFile(file_, 100, &error), "two");
  EXPECT_FALSE(fs::exists(file_ + ".tmp"));

  EXPECT_FALSE(ReadSmallFile(file_, 2, &error));
  EXPECT_THAT(error, HasSubstr("larger than 2 bytes"));
  EXPECT_FALSE(ReadSmallFile(dir_.File("absent"), 100, &error));
  EXPECT_TRUE(error.empty());  // missing: a fresh start, not an error
  EXPECT_FALSE(WriteFileAtomically(dir_.File("no/such/dir/state.json"), "x", &error));
  EXPECT_THAT(error, HasSubstr("cannot create"));
}

}  // namespace
}  // namespace recommender
