// How CPU recommendations reach the simulated pods: the actuator's decisions and delays, and
// closed-loop runs with each mode.
#include "sim/actuation.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "recommender/policies/all_policies.h"
#include "sim/closed_loop.h"
#include "sim/run.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

namespace rp = recommender::policies;
using testing::ConstantTrace;

const recommender::model::WorkloadKey kKey{"test", "svc"};

recommender::output::Snapshot Recommending(double cores, const std::string& policy = "k8s_cpu") {
  recommender::output::Snapshot s;
  recommender::output::WorkloadView w;
  w.config.key = kKey;
  w.config.cpu_policy = policy;
  w.config.min_cpu_cores = 0.1;
  w.config.max_cpu_cores = 4;
  w.recommendation.cpu_cores = cores;
  s.workloads.push_back(w);
  return s;
}

std::vector<PodCpu> Pods(int n, double limit) {
  std::vector<PodCpu> out;
  for (int i = 0; i < n; ++i) out.push_back({PodName("svc", i), 0, limit});
  return out;
}

ActuationOptions Resize() {
  ActuationOptions o;
  o.mode = CpuActuation::kResize;
  return o;
}

TEST(CpuActuation, ModesAndTheCombinationsTheyRefuse) {
  EXPECT_EQ(ParseCpuActuation("resize"), CpuActuation::kResize);
  EXPECT_EQ(ParseCpuActuation("policy"), CpuActuation::kPolicy);
  EXPECT_EQ(ParseCpuActuation("kubelet"), std::nullopt);
  const PolicySpec throttle = *FindPolicy(rp::kThrottleTarget);
  const PolicySpec k8s = *FindPolicy(rp::kK8sCpu);
  const PolicySpec hpa = *FindPolicy(rp::kHpaCpu);
  EXPECT_EQ(EffectiveActuation(CpuActuation::kPolicy, throttle), CpuActuation::kCaptain);
  EXPECT_EQ(EffectiveActuation(CpuActuation::kPolicy, k8s), CpuActuation::kDirect);
  EXPECT_EQ(ActuationError(CpuActuation::kCaptain, throttle), "");
  EXPECT_NE(ActuationError(CpuActuation::kCaptain, k8s), "");
  EXPECT_EQ(ActuationError(CpuActuation::kCaptain, hpa), "");  // no CPU channel to actuate
  // Rows say the mode only when it is not the policy's own.
  EXPECT_EQ(ActuationLabel(CpuActuation::kCaptain, throttle), "");
  EXPECT_EQ(ActuationLabel(CpuActuation::kDirect, k8s), "");
  EXPECT_EQ(ActuationLabel(CpuActuation::kDirect, throttle), "cpu direct");
  EXPECT_EQ(ActuationLabel(CpuActuation::kVpa, k8s), "cpu vpa");
  EXPECT_EQ(ActuationLabel(CpuActuation::kVpa, hpa), "");
}

TEST(CpuActuator, AResizeLandsAfterTheApiCallAndTheKubelet) {
  ActuationOptions o = Resize();
  o.api_seconds = 0.1;
  o.kubelet_seconds = 1;
  CpuActuator a(o, {kKey});
  a.Pass(10, Recommending(2), Pods(1, 1));
  EXPECT_EQ(a.patches(), 1u);
  EXPECT_TRUE(a.Due(10.5).empty());
  EXPECT_TRUE(a.Due(11.09).empty());
  const std::vector<PodResize> due = a.Due(11.11);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].pod, PodName("svc", 0));
  EXPECT_DOUBLE_EQ(due[0].cores, 2);
  EXPECT_NEAR(due[0].lands_at, 11.1, 1e-9);
  EXPECT_TRUE(a.Due(20).empty());  // once
}

TEST(CpuActuator, HysteresisAndClampsAreTheActuators) {
  CpuActuator a(Resize(), {kKey});
  a.Pass(1, Recommending(1.05), Pods(1, 1));  // within 10 % of the pod's 1 core
  EXPECT_EQ(a.patches(), 0u);
  EXPECT_EQ(a.skipped_hysteresis(), 1u);
  a.Pass(2, Recommending(9), Pods(1, 1));  // clamped to the workload's 4 cores
  ASSERT_EQ(a.patches(), 1u);
  // While the resize is on its way the pod's spec already says 4: nothing is sent again.
  a.Pass(3, Recommending(9), Pods(1, 1));
  EXPECT_EQ(a.patches(), 1u);
  const std::vector<PodResize> due = a.Due(10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_DOUBLE_EQ(due[0].cores, 4);
}

TEST(CpuActuator, PatchesPerSecondAreCapped) {
  ActuationOptions o = Resize();
  o.resize_rate = 2;  // a bucket of 2
  CpuActuator a(o, {kKey});
  a.Pass(0, Recommending(2), Pods(5, 1));
  EXPECT_EQ(a.patches(), 2u);
  EXPECT_EQ(a.skipped_rate(), 3u);
  a.Pass(0.5, Recommending(2), Pods(5, 1));  // one token refilled
  EXPECT_EQ(a.patches(), 3u);
  a.Pass(1.5, Recommending(2), Pods(5, 1));  // two more
  EXPECT_EQ(a.patches(), 5u);
  a.Pass(10, Recommending(2), Pods(5, 1));  // every pod's spec holds 2 already
  EXPECT_EQ(a.patches(), 5u);
}

TEST(CpuActuator, AnInfeasibleSizeIsNotAskedForAgain) {
  CpuActuator a(Resize(), {kKey});
  a.Pass(0, Recommending(2), Pods(1, 1));
  const std::vector<PodResize> due = a.Due(5);
  ASSERT_EQ(due.size(), 1u);
  a.Refused(due[0], ResizeVerdict::kInfeasible, 5);
  EXPECT_EQ(a.infeasible(), 1u);
  a.Pass(6, Recommending(3), Pods(1, 1));  // larger than refused
  EXPECT_EQ(a.patches(), 1u);
  EXPECT_EQ(a.skipped_infeasible(), 1u);
  a.Pass(7, Recommending(1.5), Pods(1, 1));  // smaller may fit
  EXPECT_EQ(a.patches(), 2u);
}

TEST(CpuActuator, ADeferredResizeIsRetried) {
  CpuActuator a(Resize(), {kKey});
  a.Pass(0, Recommending(2), Pods(1, 1));
  std::vector<PodResize> due = a.Due(5);
  ASSERT_EQ(due.size(), 1u);
  a.Refused(due[0], ResizeVerdict::kDeferred, 5);
  due = a.Due(5.1);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_DOUBLE_EQ(due[0].cores, 2);
  EXPECT_EQ(a.patches(), 1u);  // the kubelet retries, not the actuator
}

TEST(KubeletAdmits, DeferredWhenTheNodeIsFullInfeasibleBeyondItsSize) {
  EXPECT_EQ(KubeletAdmits(1, 0.5, 4, 4), ResizeVerdict::kApplied);  // shrinking always fits
  EXPECT_EQ(KubeletAdmits(1, 2, 4, 3), ResizeVerdict::kApplied);
  EXPECT_EQ(KubeletAdmits(1, 2, 4, 3.5), ResizeVerdict::kDeferred);
  EXPECT_EQ(KubeletAdmits(1, 5, 4, 1), ResizeVerdict::kInfeasible);
}

TEST(CpuActuator, VpaUpdatesOnlyOutsideTheBoundsAndOnlyOnItsPeriod) {
  ActuationOptions o;
  o.mode = CpuActuation::kVpa;
  o.vpa_updater_seconds = 60;
  CpuActuator a(o, {kKey});
  // k8s_cpu has no spread: bounds are the recommendation ± 10 %.
  a.Pass(30, Recommending(1.05), Pods(2, 1));
  ASSERT_TRUE(a.vpa_status(0));
  EXPECT_NEAR(a.vpa_status(0)->lower, 0.945, 1e-12);
  EXPECT_NEAR(a.vpa_status(0)->upper, 1.155, 1e-12);
  a.Pass(60, Recommending(1.05), Pods(2, 1));  // on the period, but inside the bounds
  EXPECT_EQ(a.patches(), 0u);
  a.Pass(61, Recommending(2), Pods(2, 1));  // outside, between two updater runs
  a.Pass(119, Recommending(2), Pods(2, 1));
  EXPECT_EQ(a.patches(), 0u);
  a.Pass(120, Recommending(2), Pods(2, 1));
  EXPECT_EQ(a.patches(), 2u);  // no rate cap: the updater evicts or resizes all it finds
  const std::vector<PodResize> due = a.Due(121.2);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_DOUBLE_EQ(due[0].cores, 2);
  // The pods' requests are inside the new bounds now.
  a.Pass(180, Recommending(2.1), Pods(2, 2));
  EXPECT_EQ(a.patches(), 2u);
  // A late pass still runs the updater once, on the next multiple of the period.
  a.Pass(305, Recommending(4), Pods(2, 2));
  EXPECT_EQ(a.patches(), 4u);
  a.Pass(330, Recommending(1), Pods(2, 2));
  EXPECT_EQ(a.patches(), 4u);
  a.Pass(360, Recommending(1), Pods(2, 2));
  EXPECT_EQ(a.patches(), 6u);
}

// The first time the pod's container limit changes, in simulated seconds.
double FirstChange(CpuActuation mode) {
  const App app = testing::OverloadedApp();
  Simulation sim(app, ConstantTrace(600, 60), {.seed = 1});
  ActuationOptions actuation;
  actuation.mode = mode;
  ClosedLoop loop(sim, {.policy = *FindPolicy(rp::kK8sCpuFast), .actuation = actuation});
  for (int k = 1; k <= 400; ++k) {
    sim.RunUntil(k * 0.1);
    loop.Tick(k * 0.1);
    if (sim.cpu().Limit(sim.replicas()[0].container) != 1) return k * 0.1;
  }
  return -1;
}

TEST(ClosedLoopActuation, AResizeTakesEffectAfterItsDelays) {
  const double direct = FirstChange(CpuActuation::kDirect);
  const double resize = FirstChange(CpuActuation::kResize);
  ASSERT_GT(direct, 0);
  ASSERT_GT(resize, 0);
  // The same recommender pass decides; the resize lands 0.1 s + 1 s later.
  EXPECT_NEAR(resize - direct, ActuationOptions{}.delay(), 0.1 + 1e-9);
}

TEST(ClosedLoopActuation, AResizeBeyondTheNodeIsInfeasibleAndNotRepeated) {
  App app = testing::OverloadedApp();
  app.nodes[0].allocatable = 2;  // the Guaranteed pod may grow from 1 core to 2, not to 4
  Simulation sim(app, ConstantTrace(600, 60), {.seed = 1});
  ActuationOptions resize;
  resize.mode = CpuActuation::kResize;
  ClosedLoop loop(sim, {.policy = *FindPolicy(rp::kK8sCpuFast), .actuation = resize});
  ASSERT_TRUE(sim.replicas()[0].guaranteed);
  for (int k = 1; k <= 600; ++k) {
    sim.RunUntil(k * 0.1);
    loop.Tick(k * 0.1);
    ASSERT_LE(sim.cpu().Limit(sim.replicas()[0].container), 2) << "tick " << k;
  }
  const CpuActuator& a = *loop.actuator();
  EXPECT_GE(a.infeasible(), 1u);
  // The recommendation stays at 4 cores: the refused size is not sent again every pass.
  EXPECT_GT(a.skipped_hysteresis() + a.skipped_infeasible(), 40u);
  EXPECT_LE(a.patches(), 3u);
}

TEST(ClosedLoopActuation, CaptainIsThrottleTargetsOwnAndRefusedForOthers) {
  const App app = testing::OverloadedApp();
  Simulation sim(app, ConstantTrace(600, 10), {.seed = 1});
  ActuationOptions captain;
  captain.mode = CpuActuation::kCaptain;
  EXPECT_THROW(ClosedLoop(sim, {.policy = *FindPolicy(rp::kK8sCpu), .actuation = captain}),
               std::invalid_argument);
  RunOptions run;
  run.warmup = 0;
  run.duration = 60;
  const RunSummary own =
      RunOne(app, ConstantTrace(600, 60), *FindPolicy(rp::kThrottleTarget), run).summary;
  run.actuation = captain;
  const RunSummary named =
      RunOne(app, ConstantTrace(600, 60), *FindPolicy(rp::kThrottleTarget), run).summary;
  EXPECT_DOUBLE_EQ(own.core_hours, named.core_hours);
  EXPECT_EQ(own.cgroup_writes, named.cgroup_writes);
  EXPECT_EQ(named.setting, "");
}

TEST(ClosedLoopActuation, EachModeCostsDifferently) {
  const App app = testing::OverloadedApp();
  RunOptions run;
  run.warmup = 0;
  run.duration = 150;
  const auto with = [&](CpuActuation mode) {
    run.actuation.mode = mode;
    return RunOne(app, ConstantTrace(600, 150), *FindPolicy(rp::kK8sCpuFast), run);
  };
  const RunResult direct = with(CpuActuation::kDirect);
  const RunResult resize = with(CpuActuation::kResize);
  const RunResult vpa = with(CpuActuation::kVpa);
  EXPECT_EQ(direct.summary.setting, "");
  EXPECT_EQ(resize.summary.setting, "cpu resize");
  EXPECT_EQ(vpa.summary.setting, "cpu vpa");
  // Every mode raises the 1-core limit towards the 2.4 cores of demand.
  for (const RunResult* r : {&direct, &resize, &vpa}) {
    EXPECT_GT(r->series.cores.back(), 2.4) << r->summary.setting;
  }
  // Resizes land 1.1 s after each decision: less CPU early on and a longer tail than direct.
  EXPECT_LT(resize.series.cores[0], direct.series.cores[0]);
  EXPECT_GT(resize.summary.p99, direct.summary.p99);
  // The last step up fell within the resize hysteresis (10 %) and was not sent; direct applies
  // every change.
  EXPECT_LT(resize.series.cores.back(), direct.series.cores.back());
  EXPECT_GT(resize.series.cores.back(), 0.9 * direct.series.cores.back());
  // VPA's updater first runs a minute in: until then the pod keeps 1 core and queues grow.
  EXPECT_NEAR(vpa.series.cores[3], 1, 1e-9);  // 30–40 s
  EXPECT_GT(direct.series.cores[3], 2);
  EXPECT_GT(vpa.summary.p99, 2 * direct.summary.p99);
  EXPECT_GT(vpa.summary.violation_minutes, direct.summary.violation_minutes);
  EXPECT_LT(vpa.summary.core_hours, direct.summary.core_hours);
}

}  // namespace
}  // namespace sim
