#include "exporter/state/interference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace exporter::state {
namespace {

StateSnapshot::Instance Instance(std::string ns, std::string service, std::string instance,
                                 double mean_exclusive) {
  StateSnapshot::Instance i;
  i.k8s_namespace = std::move(ns);
  i.service = std::move(service);
  i.instance = std::move(instance);
  i.window_mean_exclusive = mean_exclusive;
  return i;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(InstanceImbalanceTest, MaxOverMedianPerServiceWithTwoOrMoreInstances) {
  StateSnapshot snap;
  snap.instances = {
      Instance("shop", "cart", "cart-0", 0.010),     Instance("shop", "cart", "cart-1", 0.020),
      Instance("shop", "cart", "cart-2", 0.090),     Instance("shop", "cart", "cart-3", 0.030),
      Instance("shop", "cart", "idle", kNaN),         // no requests in the window: left out
      Instance("shop", "search", "search-0", 0.005),  // alone: no imbalance to speak of
      Instance("shop", "user", "user-0", 0.004),     Instance("shop", "user", "user-1", 0.004),
      Instance("shop", "zero", "zero-0", 0),         Instance("shop", "zero", "zero-1", 0),
  };
  const auto out = ComputeInstanceImbalance(snap);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].service, "cart");
  EXPECT_EQ(out[0].instances, 4u);
  EXPECT_DOUBLE_EQ(out[0].ratio, 0.090 / 0.025);  // median of 10, 20, 30, 90 ms = 25 ms
  EXPECT_EQ(out[1].service, "user");
  EXPECT_DOUBLE_EQ(out[1].ratio, 1.0);
}

TEST(InstanceImbalanceTest, OddCountsUseTheMiddleValue) {
  StateSnapshot snap;
  snap.instances = {Instance("", "a", "1", 3), Instance("", "a", "2", 1),
                    Instance("", "a", "3", 2)};
  EXPECT_DOUBLE_EQ(ComputeInstanceImbalance(snap).at(0).ratio, 1.5);
}

TEST(JoinPodsTest, MatchesInstancesToPodsByNameAndCompatibleNamespace) {
  StateSnapshot spans;
  spans.instances = {Instance("shop", "cart", "cart-0", 0.01),
                     Instance("", "cart-sidecar", "cart-0", 0.01),   // namespace unknown
                     Instance("other", "cart", "cart-0", 0.01),      // another namespace
                     Instance("shop", "search", "search-0", 0.01)};  // not on this node
  KernelSnapshot kernel;
  KernelSnapshot::Container c;
  c.k8s_namespace = "shop";
  c.pod = "cart-0";
  c.pod_uid = "uid-1";
  c.container = "cart";
  kernel.containers.push_back(c);
  c.container = "redis";
  kernel.containers.push_back(c);
  KernelSnapshot::Container service;  // a cgroup selected by path: not a pod
  service.container = "/system.slice/cart-0";
  service.pod = "";
  kernel.containers.push_back(service);

  const auto pods = JoinPods(spans, kernel);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].pod, "cart-0");
  ASSERT_EQ(pods[0].instances.size(), 2u);
  EXPECT_EQ(pods[0].instances[0]->service, "cart");
  EXPECT_EQ(pods[0].instances[1]->service, "cart-sidecar");
  EXPECT_EQ(pods[0].containers.size(), 2u);
}

}  // namespace
}  // namespace exporter::state
