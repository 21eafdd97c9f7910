// What the simulator shows the outside world, read back by the code that reads the real thing:
// the exporter's kernel collector on the cgroup tree, its OTLP parser on the spans, the
// recommender's text parser on the kube-state-metrics series.
#include "sim/emitters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "exporter/kernel/collector.h"
#include "exporter/spans/otlp_proto.h"
#include "exporter/state/kernel_state.h"
#include "recommender/input/prometheus_text.h"
#include "sim/cgroupfs.h"
#include "sim/live.h"
#include "tests/sim/test_apps.h"
#include "tests/support/temp_dir.h"

namespace sim {
namespace {

using testing::ConstantTrace;

// Two replicas of one throttled service after two busy seconds.
struct Busy {
  App app = testing::SingleServiceApp(
      64, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.004, .cv = 0}, 0.5);
  Simulation sim{app, ConstantTrace(200, 10), {.seed = 6}};
  Busy() {
    sim.SetReplicas(0, 2);
    sim.RunUntil(2);
  }
};

TEST(EmittersTest, KernelSampleCarriesTheCounters) {
  Busy b;
  exporter::kernel::KernelSample sample;
  FillKernelSample(b.sim, sample);
  ASSERT_EQ(sample.containers.size(), 2u);
  const auto& c = sample.containers[0];
  const ContainerCounters k = b.sim.Counters(0);
  EXPECT_EQ(c.k8s_namespace, "test");
  EXPECT_EQ(c.pod, PodName("svc", 0));
  EXPECT_EQ(c.container, "svc");
  EXPECT_EQ(*c.usage_ns, static_cast<uint64_t>(std::llround(k.usage_seconds * 1e9)));
  EXPECT_EQ(*c.periods, k.periods);
  EXPECT_GT(*c.throttled_periods, 0u);  // 0.8 cores of demand per pod under a 0.5 limit
  EXPECT_DOUBLE_EQ(*c.limit_cores, 0.5);
  EXPECT_NE(sample.containers[0].cgroup, sample.containers[1].cgroup);
  EXPECT_NE(sample.containers[0].cgroup_inode, sample.containers[1].cgroup_inode);
}

TEST(EmittersTest, AResizeKeepsThePodsCgroupSoTheExportersCounterDoesNotJump) {
  Busy b;  // request = limit = 0.5: Guaranteed
  exporter::kernel::KernelSample sample;
  exporter::state::KernelState kernel({});
  const common::TimePoint t0{std::chrono::seconds{1'700'000'000}};
  FillKernelSample(b.sim, sample);
  const std::string cgroup = sample.containers[0].cgroup;
  EXPECT_EQ(sample.containers[0].qos, "guaranteed");
  kernel.Apply(sample, t0);
  const double before = kernel.Snapshot(t0)->containers[0].cpu_usage_seconds.value_or(-1);

  // A limit above the request would make a new pod Burstable; this one keeps its class, its
  // cgroup and so its counter, which grows by at most one second at the new limit.
  b.sim.SetCpuLimit(0, 1);
  b.sim.RunUntil(3);
  FillKernelSample(b.sim, sample);
  EXPECT_EQ(sample.containers[0].cgroup, cgroup);
  EXPECT_EQ(sample.containers[0].qos, "guaranteed");
  EXPECT_DOUBLE_EQ(*sample.containers[0].limit_cores, 1);
  kernel.Apply(sample, t0 + std::chrono::seconds{1});
  const double after =
      kernel.Snapshot(t0 + std::chrono::seconds{1})->containers[0].cpu_usage_seconds.value_or(-1);
  EXPECT_GT(after, before);
  EXPECT_LE(after - before, 1.0 + 1e-9);

  // A replica created after the resize is Burstable from the start.
  b.sim.SetReplicas(0, 3);
  FillKernelSample(b.sim, sample);
  ASSERT_EQ(sample.containers.size(), 3u);
  EXPECT_EQ(sample.containers[2].qos, "burstable");
  EXPECT_NE(sample.containers[2].cgroup.find("kubepods-burstable.slice"), std::string::npos);
}

TEST(EmittersTest, AReusedSampleEqualsAFreshOneAsReplicasComeAndGo) {
  Busy b;
  exporter::kernel::KernelSample reused;
  FillKernelSample(b.sim, reused);
  const auto check = [&] {
    exporter::kernel::KernelSample fresh;
    FillKernelSample(b.sim, fresh);
    FillKernelSample(b.sim, reused);
    ASSERT_EQ(reused.containers.size(), fresh.containers.size());
    for (size_t i = 0; i < fresh.containers.size(); ++i) {
      const auto& a = reused.containers[i];
      const auto& f = fresh.containers[i];
      EXPECT_EQ(a.pod, f.pod);
      EXPECT_EQ(a.cgroup, f.cgroup);
      EXPECT_EQ(a.cgroup_inode, f.cgroup_inode);
      EXPECT_EQ(a.pod_uid, f.pod_uid);
      EXPECT_EQ(a.container_id, f.container_id);
      EXPECT_EQ(a.qos, f.qos);
      EXPECT_EQ(a.usage_ns, f.usage_ns);
      EXPECT_EQ(a.limit_cores, f.limit_cores);
    }
  };
  b.sim.SetReplicas(0, 1);  // the second pod drains and goes
  b.sim.RunUntil(4);
  check();
  b.sim.SetCpuLimit(0, 0);  // no limit: new pods are Burstable and report none
  b.sim.SetReplicas(0, 3);
  b.sim.RunUntil(6);
  check();
}

TEST(EmittersTest, ExporterCollectorReadsTheCgroupTree) {
  Busy b;
  const testing_support::ScopedTempDir dir("queuelens-sim");
  CgroupTree tree(dir.path(), 4);
  tree.Write(b.sim);
  ASSERT_EQ(tree.write_errors(), 0u);
  exporter::kernel::Collector collector(exporter::kernel::FsRoot(dir.path() + "/proc"),
                                        exporter::kernel::FsRoot(dir.path() + "/sys"), {}, nullptr);
  exporter::kernel::KernelSample sample;
  collector.Collect(common::TimePoint{}, sample);
  EXPECT_EQ(sample.cgroup_mode, "v2");
  ASSERT_EQ(sample.containers.size(), 2u);
  std::map<std::string, const exporter::kernel::KernelSample::Container*> by_pod;
  for (const auto& c : sample.containers) by_pod[c.pod] = &c;
  for (uint32_t r = 0; r < 2; ++r) {
    const ContainerCounters k = b.sim.Counters(r);
    const auto* c = by_pod[b.sim.replicas()[r].pod];
    ASSERT_NE(c, nullptr) << b.sim.replicas()[r].pod;  // named from HOSTNAME in its environ
    EXPECT_EQ(c->k8s_namespace, "test");
    EXPECT_EQ(*c->usage_ns / 1000, static_cast<uint64_t>(std::llround(k.usage_seconds * 1e6)));
    EXPECT_EQ(*c->periods, k.periods);
    EXPECT_EQ(*c->throttled_periods, k.throttled_periods);
    EXPECT_DOUBLE_EQ(*c->limit_cores, 0.5);
    EXPECT_TRUE(c->has_tasks);
    EXPECT_EQ(c->wait_ns, static_cast<uint64_t>(std::llround(k.run_delay_seconds * 1e9)));
  }
  // The node's run-queue wait is the containers' sum, and PSI "some" at least the largest stall.
  ASSERT_TRUE(sample.node.runqueue_wait_ns.has_value());
  EXPECT_EQ(sample.node.cpus, 4);
  EXPECT_EQ(*sample.node.runqueue_wait_ns,
            by_pod.begin()->second->wait_ns + std::next(by_pod.begin())->second->wait_ns);
  ASSERT_TRUE(sample.node.pressure_some_ns.has_value());
  uint64_t largest = 0;
  for (const auto& c : sample.containers) largest = std::max(largest, *c.pressure_some_ns);
  EXPECT_GE(*sample.node.pressure_some_ns, largest);

  // With the kubelet's pod list the containers get their names too.
  const std::string pods = KubeletPodList(b.sim);
  exporter::kernel::Collector with_kubelet(
      exporter::kernel::FsRoot(dir.path() + "/proc"), exporter::kernel::FsRoot(dir.path() + "/sys"),
      {.kubelet_url = "http://kubelet/pods"},
      [&](const std::string&) { return common::HttpResult{.status = 200, .body = pods}; });
  exporter::kernel::KernelSample named;
  with_kubelet.Collect(common::TimePoint{}, named);
  ASSERT_EQ(named.containers.size(), 2u);
  for (const auto& c : named.containers) {
    EXPECT_EQ(c.container, "svc");
    EXPECT_EQ(c.k8s_namespace, "test");
  }

  // A removed pod's cgroup goes away.
  b.sim.SetReplicas(0, 1);
  b.sim.RunUntil(3);
  tree.Write(b.sim);
  const uint64_t wait_before = *sample.node.runqueue_wait_ns;
  collector.Collect(common::TimePoint{std::chrono::seconds{20}}, sample);
  ASSERT_EQ(sample.containers.size(), 1u);
  EXPECT_EQ(sample.containers[0].pod, PodName("svc", 0));
  // The gone container's wait stays in the node's sum: node counters never go backwards.
  EXPECT_GE(*sample.node.runqueue_wait_ns, wait_before);
}

TEST(EmittersTest, PodNamesLookLikeDeploymentPods) {
  // The shape alerts/recommender.rules.yml strips to find the deployment.
  const std::regex deployment_pod("(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}");
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) {
    const std::string name = PodName("user-timeline-service", i);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(name, m, deployment_pod)) << name;
    EXPECT_EQ(m[1], "user-timeline-service");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 100u);
  EXPECT_EQ(PodName("svc", 7), PodName("svc", 7));
  // One template hash per deployment, as one ReplicaSet's pods share it.
  EXPECT_EQ(PodName("svc", 0).substr(0, 15), PodName("svc", 1).substr(0, 15));
  EXPECT_NE(PodName("svc", 0).substr(0, 15), PodName("svd", 0).substr(0, 15));
}

TEST(EmittersTest, OtlpRequestParsesBackToTheSameSpans) {
  Busy b;
  const auto& spans = b.sim.spans();
  ASSERT_GT(spans.size(), 100u);
  exporter::spans::SpanBatch parsed;
  const exporter::spans::ParseResult r =
      exporter::spans::ParseOtlpProto(ToOtlpRequest(spans), parsed);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(parsed.size(), spans.size());
  std::map<uint64_t, const exporter::spans::Span*> by_id;
  for (const auto& s : parsed.spans()) by_id[s.span_id] = &s;
  for (const auto& s : spans.spans()) {
    const auto* p = by_id[s.span_id];
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->trace_id, s.trace_id);
    EXPECT_EQ(p->start_unix_nano, s.start_unix_nano);
    EXPECT_EQ(p->end_unix_nano, s.end_unix_nano);
    EXPECT_EQ(p->service, s.service);
    EXPECT_EQ(p->operation, s.operation);
    EXPECT_EQ(p->instance, s.instance);
    EXPECT_EQ(p->k8s_namespace, s.k8s_namespace);
  }
}

// Head sampling keeps whole traces at the given rate and marks them as an SDK does.
TEST(EmittersTest, SpanSamplerKeepsWholeTracesAndWritesTheThreshold) {
  EXPECT_EQ(SpanSampler(1).trace_state(), "");
  EXPECT_EQ(SpanSampler(0.5).trace_state(), "ot=th:8");
  EXPECT_EQ(SpanSampler(0.25).trace_state(), "ot=th:c");
  const SpanSampler sampler(0.1);
  ASSERT_EQ(sampler.trace_state(), "ot=th:e6666666666666");

  Busy b;
  std::map<uint64_t, size_t> spans_per_trace;
  for (const auto& s : b.sim.spans().spans()) ++spans_per_trace[s.trace_id.lo];
  const size_t all_spans = b.sim.spans().size();
  sampler.Apply(b.sim.spans());
  std::map<uint64_t, size_t> kept;
  for (const auto& s : b.sim.spans().spans()) {
    ++kept[s.trace_id.lo];
    EXPECT_EQ(s.sampling_method, exporter::spans::SamplingMethod::kOtelThreshold);
    EXPECT_NEAR(s.adjusted_count, 10, 1e-9);
  }
  for (const auto& [trace, n] : kept) EXPECT_EQ(n, spans_per_trace[trace]) << trace;  // whole
  // Binomial: 4 standard deviations around 10 % of the traces.
  const double n = static_cast<double>(spans_per_trace.size());
  ASSERT_GT(n, 300);
  EXPECT_NEAR(static_cast<double>(kept.size()), 0.1 * n, 4 * std::sqrt(n * 0.1 * 0.9));
  EXPECT_LT(b.sim.spans().size(), all_spans);

  // The exporter reads the threshold back from the OTLP request.
  exporter::spans::SpanBatch parsed;
  ASSERT_TRUE(
      exporter::spans::ParseOtlpProto(ToOtlpRequest(b.sim.spans(), sampler.trace_state()), parsed)
          .ok());
  ASSERT_EQ(parsed.size(), b.sim.spans().size());
  for (const auto& s : parsed.spans()) EXPECT_NEAR(s.adjusted_count, 10, 1e-9);
}

TEST(EmittersTest, KubeStateMetricsTextParses) {
  App app = testing::SingleServiceApp(
      64, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.004, .cv = 0}, 0.5);
  app.pod_startup = 5;
  app.services[0].replicas = 2;
  Simulation sim(app, ConstantTrace(200, 10), {.seed = 6});
  sim.RunUntil(1);
  sim.SetReplicas(0, 3);  // one more, still starting
  const auto text = recommender::input::ParsePrometheusText(KubeStateMetricsText(sim));
  EXPECT_EQ(text.malformed_lines, 0u);
  std::map<std::string, double> values;
  for (const auto& s : text.samples) {
    values[s.name + "/" + std::string(recommender::input::LabelValue(s.labels, "pod"))] = s.value;
  }
  EXPECT_EQ(values["kube_deployment_status_replicas/"], 3);
  EXPECT_EQ(values["kube_deployment_status_replicas_ready/"], 2);
  EXPECT_EQ(values["kube_pod_container_resource_limits/" + PodName("svc", 2)], 0.5);
  EXPECT_EQ(values["kube_pod_container_resource_requests/" + PodName("svc", 0)],
            0.5);  // request = limit
}

TEST(EmittersTest, NodeSchedstatAndPressureIncludeAntagonists) {
  const App app = testing::SingleServiceApp(
      4, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.002, .cv = 0});
  Scenario noisy;
  noisy.antagonists.push_back({.on = {.kind = Holding::Kind::kConstant, .mean = 1e6},
                               .off = {.kind = Holding::Kind::kConstant, .mean = 1},
                               .threads = 8});
  Simulation sim(app, ConstantTrace(200, 5), {.seed = 2, .scenario = noisy});
  sim.RunUntil(5);
  const testing_support::ScopedTempDir dir("queuelens-sim");
  CgroupTree tree(dir.path(), 4);
  tree.Write(sim);
  exporter::kernel::Collector collector(exporter::kernel::FsRoot(dir.path() + "/proc"),
                                        exporter::kernel::FsRoot(dir.path() + "/sys"), {}, nullptr);
  exporter::kernel::KernelSample sample;
  collector.Collect(common::TimePoint{}, sample);
  ASSERT_EQ(sample.containers.size(), 1u);
  ASSERT_TRUE(sample.node.runqueue_wait_ns.has_value());
  // Eight batch threads on four cores wait most of the time; the pod's threads little.
  const NodeCounters others = sim.cpu().NodeStats(0, 5);
  EXPECT_GT(others.other_run_delay_seconds, 8 * 5 * 0.5);
  EXPECT_EQ(*sample.node.runqueue_wait_ns,
            sample.containers[0].wait_ns +
                static_cast<uint64_t>(std::llround(others.other_run_delay_seconds * 1e9)));
  // The node was contended all along: system-wide PSI "some" is the whole time.
  ASSERT_TRUE(sample.node.pressure_some_ns.has_value());
  EXPECT_NEAR(static_cast<double>(*sample.node.pressure_some_ns) / 1e9, 5, 1e-5);
}

}  // namespace
}  // namespace sim
