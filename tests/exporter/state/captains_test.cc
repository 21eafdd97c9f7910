#include "exporter/state/captains.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/sources/targets_poller.h"

namespace exporter::state {
namespace {

using kernel::KernelSample;
using std::chrono::milliseconds;

const common::TimePoint kT0{std::chrono::seconds{1'787'392'800}};

constexpr std::string_view kTargets = R"({"computedAt":"2026-12-04T12:00:00Z","chosen":true,
  "targets":[
    {"namespace":"shop","workload":"cart","container":"cart","throttleTarget":0.1},
    {"namespace":"shop","workload":"cart-api","container":"api","throttleTarget":0.2},
    {"namespace":"shop","workload":"cart-api","container":"sidecar","throttleTarget":0.3},
    {"namespace":"other","workload":"cart","container":"cart","throttleTarget":0.25}]})";

ThrottleTargets Parsed(std::string_view json) {
  std::string error;
  std::optional<ThrottleTargets> t = sources::ParseThrottleTargets(json, &error);
  EXPECT_TRUE(t.has_value()) << error;
  return t.value_or(ThrottleTargets{});
}

TEST(ThrottleTargetsTest, PodsMatchTheirDeploymentByTheLongestPrefix) {
  const ThrottleTargets t = Parsed(kTargets);
  ASSERT_EQ(t.entries.size(), 4u);
  EXPECT_DOUBLE_EQ(t.For("shop", "cart-7d9f8b6c5d-x2b4q", "cart", 0.5), 0.1);
  EXPECT_DOUBLE_EQ(t.For("shop", "cart-api-7d9f8b6c5d-x2b4q", "api", 0.5), 0.2);
  EXPECT_DOUBLE_EQ(t.For("shop", "cart-api-7d9f8b6c5d-x2b4q", "sidecar", 0.5), 0.3);
  EXPECT_DOUBLE_EQ(t.For("other", "cart-7d9f8b6c5d-x2b4q", "cart", 0.5), 0.25);
  // No workload of the namespace prefixes the pod, or the prefix is not followed by '-'.
  EXPECT_DOUBLE_EQ(t.For("shop", "carts-7d9f8b6c5d-x2b4q", "cart", 0.5), 0.5);
  EXPECT_DOUBLE_EQ(t.For("shop", "cart", "cart", 0.5), 0.5);
  EXPECT_DOUBLE_EQ(t.For("nowhere", "cart-1", "cart", 0.5), 0.5);
}

// One container at a 1-core limit that is throttled in every period (or in none).
KernelSample::Container Container(double usage_seconds, uint64_t throttled, uint64_t inode = 7) {
  KernelSample::Container c;
  c.k8s_namespace = "shop";
  c.pod = "cart-7d9f8b6c5d-x2b4q";
  c.container = "cart";
  c.cgroup = "/kubepods.slice/cart.scope";
  c.cgroup_inode = inode;
  c.usage_ns = static_cast<uint64_t>(usage_seconds * 1e9);
  c.throttled_periods = throttled;
  c.limit_cores = 1.0;
  return c;
}

TEST(CaptainsTest, ThrottlingAboveThreeTimesTheTargetScalesUpAtTheDecision) {
  Captains captains({});
  const ThrottleTargets targets = Parsed(kTargets);  // cart: t = 0.1
  KernelSample sample;
  sample.node.cpus = 8;
  for (int tick = 0; tick <= 10; ++tick) {
    sample.containers = {Container(0.1 * tick, static_cast<uint64_t>(tick))};
    captains.Step(sample, targets, kT0 + milliseconds{100 * tick});
  }
  const std::vector<KernelSnapshot::Captain> snap = captains.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  // r = 10 throttled ticks / 10 = 1 > 3t = 0.3: limit × (1 + 1 − 0.3).
  EXPECT_DOUBLE_EQ(snap[0].recommended_cpu_cores, 1.7);
  EXPECT_DOUBLE_EQ(snap[0].throttle_target, 0.1);
  EXPECT_EQ(snap[0].action, "scale_up");
  EXPECT_DOUBLE_EQ(snap[0].margin, 3 + (1 - 0.1));
}

TEST(CaptainsTest, IdleContainersScaleDownAndUnknownWorkloadsUseTheDefaultTarget) {
  Captains captains({.captain = {}, .default_target = 0.05, .idle = std::chrono::seconds{30}});
  KernelSample sample;
  for (int tick = 0; tick <= 10; ++tick) {
    sample.containers = {Container(0.02 * tick, 0)};  // 0.2 cores, never throttled
    captains.Step(sample, ThrottleTargets{}, kT0 + milliseconds{100 * tick});
  }
  const auto snap = captains.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_DOUBLE_EQ(snap[0].throttle_target, 0.05);
  EXPECT_EQ(snap[0].action, "scale_down");
  // umax + σ·margin with a steady 0.2 cores is 0.2 (up to rounding), below 0.9; the floor is ½.
  EXPECT_DOUBLE_EQ(snap[0].recommended_cpu_cores, 0.5);
}

TEST(CaptainsTest, ARestartedContainerGetsANewCaptainAndGoneOnesAreForgotten) {
  Captains captains({});
  KernelSample sample;
  for (int tick = 0; tick <= 10; ++tick) {
    sample.containers = {Container(0.1 * tick, static_cast<uint64_t>(tick))};
    captains.Step(sample, ThrottleTargets{}, kT0 + milliseconds{100 * tick});
  }
  ASSERT_GT(captains.Snapshot()[0].recommended_cpu_cores, 1.0);
  // Same labels, new cgroup inode: counters start over and the Captain starts at the limit.
  sample.containers = {Container(0, 0, /*inode=*/8)};
  captains.Step(sample, ThrottleTargets{}, kT0 + milliseconds{1100});
  EXPECT_DOUBLE_EQ(captains.Snapshot()[0].recommended_cpu_cores, 1.0);
  EXPECT_EQ(captains.Snapshot()[0].action, "hold");
  // Not sampled for longer than `idle`: gone.
  sample.containers.clear();
  captains.Step(sample, ThrottleTargets{}, kT0 + std::chrono::seconds{40});
  EXPECT_TRUE(captains.Snapshot().empty());
}

TEST(CaptainsTest, ContainersWithoutCountersAreSkipped) {
  Captains captains({});
  KernelSample sample;
  KernelSample::Container c = Container(0, 0);
  c.throttled_periods.reset();  // no cpu controller
  sample.containers = {c};
  captains.Step(sample, ThrottleTargets{}, kT0);
  EXPECT_TRUE(captains.Snapshot().empty());
}

}  // namespace
}  // namespace exporter::state
