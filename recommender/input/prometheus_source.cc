#include "recommender/input/prometheus_source.h"

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
  const auto set = [](double ServiceObservation::*field, auto& get) {
    return [field, &get](const QuerySample& s) { get(s).*field = s.value; };
  };

  run(q::kServiceRequestRate, [&](const QuerySample& s) {
    ServiceObservation& o = service(s);
    o.request_rate = s.value;
    o.at = now;
  });
  run(q::kServiceInflight, set(&ServiceObservation::inflight, service));
  run(q::kServiceBusy, set(&ServiceObservation::busy, service));
  run(q::kServiceQueueLength, set(&ServiceObservation::queue_length, service));
  run(q::kServiceUncongested, set(&ServiceObservation::uncongested_seconds, service));
  run(q::kServiceP95, set(&ServiceObservation::p95_seconds, service));
  run(q::kServiceP99, set(&ServiceObservation::p99_seconds, service));
  run(q::kServiceTailExclusive, set(&ServiceObservation::tail_exclusive_seconds, service));
  run(q::kServiceInstances,
      [&](const QuerySample& s) { service(s).instances.push_back(Label(s, "instance")); });

  const auto set_c = [&](double ContainerObservation::*field) {
    return [field, &container](const QuerySample& s) { container(s).*field = s.value; };
  };
  run(q::kContainerCpuUsage, set_c(&ContainerObservation::cpu_usage_cores));
  run(q::kContainerCpuUsageNow, set_c(&ContainerObservation::cpu_usage_now_cores));
  run(q::kContainerRunqueueWait, set_c(&ContainerObservation::runqueue_wait_rate));
  run(q::kContainerTimeslices, set_c(&ContainerObservation::timeslice_rate));
  run(q::kContainerPeriods, set_c(&ContainerObservation::periods_rate));
  run(q::kContainerThrottledPeriods, set_c(&ContainerObservation::throttled_periods_rate));
  run(q::kContainerCpuLimit, set_c(&ContainerObservation::cpu_limit_cores));
  run(q::kContainerInterference, set_c(&ContainerObservation::interference_ratio));
  run(q::kContainerRecommendedCpu, set_c(&ContainerObservation::recommended_cpu_cores));
  run(q::kPodCpuRequests, set_c(&ContainerObservation::cpu_request_cores));
  // The cgroup's own limit wins over the pod spec's: it is what the kernel enforces.
  run(q::kPodCpuLimits, [&](const QuerySample& s) {
    ContainerObservation& o = container(s);
    if (std::isnan(o.cpu_limit_cores)) o.cpu_limit_cores = s.value;
  });
  run(q::kDeploymentReplicas, [&](const QuerySample& s) { deployment(s).replicas = s.value; });
  run(q::kDeploymentReadyReplicas,
      [&](const QuerySample& s) { deployment(s).ready_replicas = s.value; });

  for (auto& [id, o] : services) {
    // Gauges without a request rate come from series Prometheus still looks back to, not from
    // an exporter being scraped now.
    if (o.at != common::TimePoint{}) result.observations.services.push_back(std::move(o));
  }
  for (auto& [id, o] : containers) result.observations.containers.push_back(std::move(o));
  for (auto& [id, o] : deployments) result.observations.deployments.push_back(std::move(o));
  return result;
}

}  // namespace recommender::input
