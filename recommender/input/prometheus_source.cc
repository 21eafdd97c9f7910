#include "recommender/input/prometheus_source.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>

#include "recommender/input/queries.h"

namespace recommender::input {
namespace {

std::string Label(const QuerySample& s, const std::string& name) {
  auto it = s.labels.find(name);
  return it == s.labels.end() ? std::string() : it->second;
}

// How each query's answer is checked before it is used.
enum class Kind { kRate, kGauge, kQuantile };

Invalid Check(Kind kind, double v, double max_rate) {
  switch (kind) {
    case Kind::kRate:
      if (!std::isfinite(v)) return Invalid::kRateNonFinite;
      if (v < 0) return Invalid::kRateNegative;
      return v > max_rate ? Invalid::kRateImplausible : Invalid::kNone;
    case Kind::kGauge:
      return std::isfinite(v) ? Invalid::kNone : Invalid::kGaugeNonFinite;
    case Kind::kQuantile:
      // histogram_quantile() is NaN over a window without requests: absent, not wrong.
      return std::isnan(v) || std::isfinite(v) ? Invalid::kNone : Invalid::kGaugeNonFinite;
  }
  return Invalid::kNone;
}

}  // namespace

FetchResult PrometheusSource::Fetch(common::TimePoint now) {
  namespace q = queries;
  FetchResult result;
  std::map<std::pair<std::string, std::string>, ServiceObservation> services;
  std::map<std::tuple<std::string, std::string, std::string>, ContainerObservation> containers;
  std::map<std::pair<std::string, std::string>, DeploymentObservation> deployments;
  bool reachable = true;

  const auto run = [&](const q::Query& query, const std::function<void(const QuerySample&)>& f) {
    if (!reachable) return;
    const QueryResult r = client_.InstantQuery(q::Expand(query.promql, window_));
    if (!r.ok) {
      result.errors.push_back({std::string(query.name), "query", r.error});
      reachable = r.http_status != 0;
      return;
    }
    for (const QuerySample& s : r.samples) f(s);
  };
  const auto service = [&](const QuerySample& s) -> ServiceObservation& {
    ServiceObservation& o = services[{Label(s, "namespace"), Label(s, "service")}];
    o.k8s_namespace = Label(s, "namespace");
    o.service = Label(s, "service");
    return o;
  };
  const auto container = [&](const QuerySample& s) -> ContainerObservation& {
    ContainerObservation& o =
        containers[{Label(s, "namespace"), Label(s, "pod"), Label(s, "container")}];
    o.k8s_namespace = Label(s, "namespace");
    o.pod = Label(s, "pod");
    o.container = Label(s, "container");
    o.at = now;
    return o;
  };
  const auto deployment = [&](const QuerySample& s) -> DeploymentObservation& {
    DeploymentObservation& o = deployments[{Label(s, "namespace"), Label(s, "deployment")}];
    o.k8s_namespace = Label(s, "namespace");
    o.deployment = Label(s, "deployment");
    o.at = now;
    return o;
  };
  // The value when it passes its check; else the observation is marked and the value absent.
  const auto checked = [&](Kind kind, const QuerySample& s, Invalid& invalid) {
    const Invalid bad = Check(kind, s.value, max_rate_);
    if (bad == Invalid::kNone) return s.value;
    result.CountInvalid(bad);
    Refuse(invalid, bad);
    return kAbsent;
  };
  const auto set = [&](double ServiceObservation::*field, Kind kind) {
    return [&, field, kind](const QuerySample& s) {
      ServiceObservation& o = service(s);
      o.*field = checked(kind, s, o.invalid);
    };
  };

  run(q::kServiceRequestRate, [&](const QuerySample& s) {
    ServiceObservation& o = service(s);
    o.request_rate = checked(Kind::kRate, s, o.invalid);
    o.at = now;
  });
  run(q::kServiceSampledRequests, set(&ServiceObservation::sampled_requests, Kind::kGauge));
  run(q::kServiceInflight, set(&ServiceObservation::inflight, Kind::kRate));
  run(q::kServiceBusy, set(&ServiceObservation::busy, Kind::kRate));
  run(q::kServiceQueueLength, set(&ServiceObservation::queue_length, Kind::kGauge));
  run(q::kServiceUncongested, set(&ServiceObservation::uncongested_seconds, Kind::kGauge));
  run(q::kServiceP95, set(&ServiceObservation::p95_seconds, Kind::kQuantile));
  run(q::kServiceP99, set(&ServiceObservation::p99_seconds, Kind::kQuantile));
  run(q::kServiceTailExclusive, set(&ServiceObservation::tail_exclusive_seconds, Kind::kQuantile));
  run(q::kServiceInstances,
      [&](const QuerySample& s) { service(s).instances.push_back(Label(s, "instance")); });
  const auto set_i = [&](double InstanceObservation::*field) {
    return [&, field](const QuerySample& s) {
      ServiceObservation& o = service(s);
      const std::string instance = Label(s, "instance");
      auto it = std::find_if(o.instance_rates.begin(), o.instance_rates.end(),
                             [&](const InstanceObservation& i) { return i.instance == instance; });
      if (it == o.instance_rates.end()) {
        it = o.instance_rates.insert(o.instance_rates.end(),
                                     InstanceObservation{.instance = instance});
      }
      (*it).*field = checked(Kind::kRate, s, o.invalid);
    };
  };
  run(q::kInstanceRequestRate, set_i(&InstanceObservation::request_rate));
  run(q::kInstanceDurationRate, set_i(&InstanceObservation::duration_rate));
  run(q::kInstanceExclusiveRate, set_i(&InstanceObservation::exclusive_rate));

  const auto set_c = [&](double ContainerObservation::*field, Kind kind) {
    return [&, field, kind](const QuerySample& s) {
      ContainerObservation& o = container(s);
      o.*field = checked(kind, s, o.invalid);
    };
  };
  run(q::kContainerCpuUsage, set_c(&ContainerObservation::cpu_usage_cores, Kind::kRate));
  run(q::kContainerCpuUsageNow, set_c(&ContainerObservation::cpu_usage_now_cores, Kind::kRate));
  run(q::kContainerRunqueueWait, set_c(&ContainerObservation::runqueue_wait_rate, Kind::kRate));
  run(q::kContainerTimeslices, set_c(&ContainerObservation::timeslice_rate, Kind::kRate));
  run(q::kContainerPeriods, set_c(&ContainerObservation::periods_rate, Kind::kRate));
  run(q::kContainerThrottledPeriods,
      set_c(&ContainerObservation::throttled_periods_rate, Kind::kRate));
  run(q::kContainerCpuPressure, set_c(&ContainerObservation::cpu_pressure_rate, Kind::kRate));
  run(q::kContainerCpuLimit, set_c(&ContainerObservation::cpu_limit_cores, Kind::kGauge));
  run(q::kContainerInterference, set_c(&ContainerObservation::interference_ratio, Kind::kGauge));
  run(q::kContainerRecommendedCpu,
      set_c(&ContainerObservation::recommended_cpu_cores, Kind::kGauge));
  run(q::kPodCpuRequests, set_c(&ContainerObservation::cpu_request_cores, Kind::kGauge));
  // The cgroup's own limit wins over the pod spec's: it is what the kernel enforces.
  run(q::kPodCpuLimits, [&](const QuerySample& s) {
    ContainerObservation& o = container(s);
    const double limit = checked(Kind::kGauge, s, o.invalid);
    if (std::isnan(o.cpu_limit_cores)) o.cpu_limit_cores = limit;
  });
  run(q::kDeploymentReplicas, [&](const QuerySample& s) {
    DeploymentObservation& o = deployment(s);
    o.replicas = checked(Kind::kGauge, s, o.invalid);
  });
  run(q::kDeploymentReadyReplicas, [&](const QuerySample& s) {
    DeploymentObservation& o = deployment(s);
    o.ready_replicas = checked(Kind::kGauge, s, o.invalid);
  });

  for (auto& [id, o] : services) {
    // Gauges without a request rate come from series Prometheus still looks back to, not from
    // an exporter being scraped now.
    std::sort(o.instance_rates.begin(), o.instance_rates.end(),
              [](const auto& a, const auto& b) { return a.instance < b.instance; });
    if (o.at != common::TimePoint{}) result.observations.services.push_back(std::move(o));
  }
  for (auto& [id, o] : containers) result.observations.containers.push_back(std::move(o));
  for (auto& [id, o] : deployments) result.observations.deployments.push_back(std::move(o));
  return result;
}

}  // namespace recommender::input
