#include "exporter/sources/kernel_poller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "tests/exporter/kernel/fixture_tree.h"
#include "tests/support/fake_clock.h"

namespace exporter::sources {
namespace {

using kernel::fixtures::FixturePath;
using kernel::fixtures::kT0;
using kernel::fixtures::MakeCollector;

const state::KernelStateOptions kStateOptions{.window = std::chrono::seconds{60},
                                              .window_buckets = 4,
                                              .series_idle = std::chrono::minutes{5}};

TEST(KernelPollerTest, PublishesAnEmptySnapshotBeforeTheFirstCollection) {
  KernelPoller poller(
      MakeCollector(FixturePath("v1_cgroupfs/proc"), FixturePath("v1_cgroupfs/sys")),
      kStateOptions);
  EXPECT_TRUE(poller.Snapshot()->containers.empty());
  EXPECT_EQ(poller.Snapshot()->collections, 0u);
}

TEST(KernelPollerTest, TheThreadCollectsUntilDestroyed) {
  common::FakeClock clock(kT0);
  KernelPoller poller(
      MakeCollector(FixturePath("v1_cgroupfs/proc"), FixturePath("v1_cgroupfs/sys")),
      kStateOptions);
  poller.Start(clock, std::chrono::milliseconds{1});
  // Bounded: at most 10 s of 1 ms collections.
  for (int i = 0; i < 10'000 && poller.Snapshot()->collections < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  EXPECT_GE(poller.Snapshot()->collections, 3u);
  EXPECT_EQ(poller.Snapshot()->containers.size(), 4u);
}

}  // namespace
}  // namespace exporter::sources
