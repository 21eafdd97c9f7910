// The real exporter and recommender in closed loop with simulations, and tuning on them.
#include "sim/closed_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "recommender/policies/all_policies.h"
#include "sim/evaluate.h"
#include "sim/run.h"
#include "sim/scoreboard.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::Short;
using ::testing::StartsWith;

TEST(ClosedLoopTest, HpaAddsReplicasUnderLoad) {
  const RunResult r =
      RunOne(testing::OverloadedApp(), ConstantTrace(600, 120), *FindPolicy("hpa_cpu"), Short(120));
  EXPECT_GT(r.summary.scaling_actions, 0u);
  EXPECT_EQ(r.summary.cgroup_writes, 0u);
  // ceil(current · utilisation / 0.8) over a few 15 s syncs: 2.4 cores need at least 3 pods.
  EXPECT_GE(r.series.replicas.back(), 3);
  EXPECT_GT(r.spans, 60'000u);  // every request's span went through the exporter
}

TEST(ClosedLoopTest, ThrottleTargetRaisesAThrottledLimit) {
  const RunResult r = RunOne(testing::OverloadedApp(), ConstantTrace(600, 120),
                             *FindPolicy(recommender::policies::kThrottleTarget), Short(120));
  // The Captains write the cgroups on the node: no action goes through the API.
  EXPECT_GT(r.summary.cgroup_writes, 0u);
  EXPECT_EQ(r.summary.scaling_actions, 0u);
  EXPECT_NEAR(r.series.replicas.back(), 1, 1e-9);  // a CPU-only policy
  EXPECT_GT(r.series.cores.back(), 2.4);
}

TEST(ClosedLoopTest, CaptainLimitReachesTheContainerTheSameTick) {
  const App app = testing::OverloadedApp();
  Simulation sim(app, ConstantTrace(600, 20), {.seed = 1});
  ClosedLoop loop(sim, {.policy = *FindPolicy(recommender::policies::kThrottleTarget)});
  int changes = 0, off_interval_changes = 0;
  double last = sim.cpu().Limit(sim.replicas()[0].container);
  for (int k = 1; k <= 100; ++k) {
    sim.RunUntil(k * 0.1);
    loop.Tick(k * 0.1);
    const auto captains = loop.captains();
    ASSERT_EQ(captains.size(), 1u);
    const double limit = sim.cpu().Limit(sim.replicas()[0].container);
    // What the Captain decided at this tick is the container's quota now, not at the next
    // policy interval (every 10 ticks) through the recommender.
    EXPECT_DOUBLE_EQ(limit, captains[0].recommended_cpu_cores) << "tick " << k;
    if (limit != last) {
      ++changes;
      if (k % 10 != 0) ++off_interval_changes;
    }
    last = limit;
  }
  EXPECT_GT(changes, 0);
  EXPECT_GT(off_interval_changes, 0);
  EXPECT_DOUBLE_EQ(sim.CpuLimit(0), 1);  // the pod spec is not rewritten, as with cgroup writes
}

TEST(ClosedLoopTest, ACaptainStartsWhenItsPodTurnsReady) {
  App app = testing::OverloadedApp();
  app.pod_startup = 5;
  Simulation sim(app, ConstantTrace(100, 20), {.seed = 1});
  ClosedLoop loop(sim, {.policy = *FindPolicy(recommender::policies::kThrottleTarget)});
  bool was_starting = false, became_ready = false;
  for (int k = 1; k <= 150; ++k) {
    if (k == 10) sim.SetReplicas(0, 2);
    sim.RunUntil(k * 0.1);
    loop.Tick(k * 0.1);
    if (sim.replicas().size() < 2) continue;
    const Replica& added = sim.replicas()[1];
    if (added.state == ReplicaState::kStarting) {
      // Idle while it starts: a Captain on it would shrink its quota towards the floor.
      was_starting = true;
      EXPECT_EQ(loop.captains().size(), 1u) << "tick " << k;
      EXPECT_DOUBLE_EQ(sim.cpu().Limit(added.container), sim.CpuLimit(0)) << "tick " << k;
    } else if (added.state == ReplicaState::kReady && !became_ready) {
      // Its first quota is the Captain's first step from the pod's limit, not from a floor.
      became_ready = true;
      EXPECT_EQ(loop.captains().size(), 2u);
      EXPECT_GT(sim.cpu().Limit(added.container), 0.5 * sim.CpuLimit(0));
    }
  }
  EXPECT_TRUE(was_starting);
  EXPECT_TRUE(became_ready);
}

TEST(ClosedLoopTest, VpaIsABaselineThatLeavesAPodInsideItsBoundsAlone) {
  const std::optional<PolicySpec> vpa = FindPolicy(recommender::policies::kVpa);
  ASSERT_TRUE(vpa);
  EXPECT_EQ(vpa->cpu_policy, "vpa");
  EXPECT_TRUE(vpa->replica_policy.empty());
  EXPECT_FALSE(vpa->tunable);
  // Two minutes of history: confidence 2/1440, lower bound ≈ 0.4 core, so a 1-core pod stays.
  const RunResult r = RunOne(testing::OverloadedApp(), ConstantTrace(600, 130), *vpa, Short(130));
  EXPECT_EQ(r.summary.scaling_actions, 0u);
  EXPECT_NEAR(r.series.cores.back(), 1, 1e-9);
}

TEST(ClosedLoopTest, RecommenderScrapesTheExporterText) {
  const App app = testing::OverloadedApp();
  Simulation sim(app, ConstantTrace(100, 20), {.seed = 1});
  ClosedLoop loop(sim, {.policy = *FindPolicy(recommender::policies::kThrottleTarget)});
  for (int k = 1; k <= 150; ++k) {  // past the exporter's 5 s trace wait
    sim.RunUntil(k * 0.1);
    loop.Tick(k * 0.1);
  }
  const std::string& text = loop.exporter_text();
  EXPECT_THAT(text, HasSubstr("queuelens_requests_total{"));
  EXPECT_THAT(text, HasSubstr("queuelens_container_cpu_usage_seconds_total{"));
  EXPECT_THAT(text, HasSubstr("queuelens_container_recommended_cpu_cores{namespace=\"test\","
                              "pod=\"" +
                              PodName("svc", 0) + "\",container=\"svc\"}"));
  const auto snap = loop.recommendations();
  ASSERT_EQ(snap->workloads.size(), 1u);
  const auto& view = snap->workloads[0];
  EXPECT_EQ(view.config.key.workload, "svc");
  EXPECT_DOUBLE_EQ(view.signals.current_replicas, 1);  // from the kube-state-metrics text
  EXPECT_GT(view.signals.request_rate, 50);
  EXPECT_GT(view.signals.cpu_usage_cores, 0.2);
}

TEST(ClosedLoopTest, TuneKeepsTheCheapestTargetThatMeetsTheSlo) {
  // At 600 req/s this app's P99 rises from about 0.9 s at target 0.3 to 3.4 s at 0.9: with a
  // 1.2 s SLO the walk down the grid stops in the middle; with 50 ms no target passes.
  for (double slo : {1.2, 0.05}) {
    const Scoreboard b = testing::TunedOverloaded("k8s_cpu_fast", slo, 90, 1);
    ASSERT_EQ(b.policies.size(), 1u);
    const RunSummary& s = b.policies[0].seeds[0].summary;
    EXPECT_THAT(s.setting, HasSubstr("target"));
    EXPECT_EQ(s.pass, slo > 1);
    // The grid is walked from the top; the walk ends at the target kept, or at the bottom.
    const std::string walk = testing::WalkNote(b, "k8s_cpu_fast");
    EXPECT_THAT(walk,
                StartsWith("k8s_cpu_fast tuned: targets tried (seeds passed/run) 0.9 (0/1), "));
    EXPECT_THAT(walk, EndsWith(s.pass ? s.setting.substr(s.setting.find(' ') + 1) + " (1/1)"
                                      : "0.3 (0/1)"));
    App app = testing::OverloadedApp();
    app.slo_p99 = slo;
    // Every other target costs more or misses the SLO.
    for (double target : TuneGrid()) {
      PolicySpec spec = *FindPolicy("k8s_cpu_fast");
      spec.target_utilization = target;
      const RunSummary other = RunOne(app, ConstantTrace(600, 90), spec, Short(90)).summary;
      if (other.pass) {
        EXPECT_TRUE(s.pass) << slo << " " << target;
        EXPECT_GE(other.core_hours, s.core_hours) << slo << " " << target;
      }
    }
  }
}

}  // namespace
}  // namespace sim
