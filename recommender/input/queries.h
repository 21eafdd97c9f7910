#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"

// Every series and PromQL query the recommender reads, in one place. The direct-scrape path reads
// the same series by name and computes what these queries compute (rates over the window with
// counter resets, histogram quantiles, sums and maxima by the same labels).
namespace recommender::input::queries {

// From queuelens-exporter, span view ({namespace, service[, operation | instance]}).
inline constexpr std::string_view kRequests = "queuelens_requests_total";
// Request spans seen, each once: its increase is the effective sample size of the rates.
inline constexpr std::string_view kRequestsSampled = "queuelens_requests_sampled_total";
inline constexpr std::string_view kDuration = "queuelens_request_duration_seconds";
inline constexpr std::string_view kExclusive = "queuelens_exclusive_duration_seconds";
inline constexpr std::string_view kQueueLength = "queuelens_queue_length";
inline constexpr std::string_view kUncongested = "queuelens_uncongested_service_time_seconds";
inline constexpr std::string_view kInstanceRequests = "queuelens_instance_requests_total";
inline constexpr std::string_view kInstanceDuration = "queuelens_instance_duration_seconds_total";
inline constexpr std::string_view kInstanceExclusive = "queuelens_instance_exclusive_seconds_total";

// From queuelens-exporter, kernel view ({namespace, pod, container}).
inline constexpr std::string_view kRunqueueWait = "queuelens_container_runqueue_wait_seconds_total";
inline constexpr std::string_view kTimeslices = "queuelens_container_timeslices_total";
inline constexpr std::string_view kCpuUsage = "queuelens_container_cpu_usage_seconds_total";
inline constexpr std::string_view kCpuPeriods = "queuelens_container_cpu_periods_total";
inline constexpr std::string_view kCpuThrottledPeriods =
    "queuelens_container_cpu_throttled_periods_total";
inline constexpr std::string_view kCpuPressure =
    "queuelens_container_cpu_pressure_waiting_seconds_total";
inline constexpr std::string_view kCpuLimit = "queuelens_container_cpu_limit_cores";
inline constexpr std::string_view kInterference = "queuelens_container_interference_ratio";
inline constexpr std::string_view kRecommendedCpu = "queuelens_container_recommended_cpu_cores";

// From kube-state-metrics, used when present.
inline constexpr std::string_view kKsmReplicas = "kube_deployment_status_replicas";
inline constexpr std::string_view kKsmReadyReplicas = "kube_deployment_status_replicas_ready";
inline constexpr std::string_view kKsmRequests = "kube_pod_container_resource_requests";
inline constexpr std::string_view kKsmLimits = "kube_pod_container_resource_limits";

// An instant query; "$window" stands for the rate window.
struct Query {
  std::string_view name;  // for logs and the input-error metric
  std::string_view promql;
};

// Per service.
inline constexpr Query kServiceRequestRate{
    "service_request_rate",
    "sum by (namespace, service) (rate(queuelens_requests_total[$window]))"};
inline constexpr Query kServiceSampledRequests{
    "service_sampled_requests",
    "sum by (namespace, service) (increase(queuelens_requests_sampled_total[$window]))"};
inline constexpr Query kServiceInflight{
    "service_inflight",
    "sum by (namespace, service) (rate(queuelens_request_duration_seconds_sum[$window]))"};
inline constexpr Query kServiceBusy{
    "service_busy",
    "sum by (namespace, service) (rate(queuelens_exclusive_duration_seconds_sum[$window]))"};
inline constexpr Query kServiceQueueLength{"service_queue_length",
                                           "sum by (namespace, service) (queuelens_queue_length)"};
inline constexpr Query kServiceUncongested{
    "service_uncongested",
    "max by (namespace, service) (queuelens_uncongested_service_time_seconds)"};
inline constexpr Query kServiceP95{"service_p95",
                                   "histogram_quantile(0.95, sum by (namespace, service, le) "
                                   "(rate(queuelens_request_duration_seconds_bucket[$window])))"};
inline constexpr Query kServiceP99{"service_p99",
                                   "histogram_quantile(0.99, sum by (namespace, service, le) "
                                   "(rate(queuelens_request_duration_seconds_bucket[$window])))"};
inline constexpr Query kServiceTailExclusive{
    "service_tail_exclusive",
    "histogram_quantile(0.9, sum by (namespace, service, le) "
    "(rate(queuelens_exclusive_duration_seconds_bucket[$window])))"};
inline constexpr Query kServiceInstances{
    "service_instances",
    "sum by (namespace, service, instance) (rate(queuelens_instance_requests_total[$window])) > 0"};

// Per instance (pod) of a service: the same request rate without the filter, and the rates of
// its duration and exclusive-time sums (load shifting's per-instance load and latency).
inline constexpr Query kInstanceRequestRate{
    "instance_request_rate",
    "sum by (namespace, service, instance) (rate(queuelens_instance_requests_total[$window]))"};
inline constexpr Query kInstanceDurationRate{
    "instance_duration_rate",
    "sum by (namespace, service, instance) "
    "(rate(queuelens_instance_duration_seconds_total[$window]))"};
inline constexpr Query kInstanceExclusiveRate{
    "instance_exclusive_rate",
    "sum by (namespace, service, instance) "
    "(rate(queuelens_instance_exclusive_seconds_total[$window]))"};

// Per container.
inline constexpr Query kContainerCpuUsage{
    "container_cpu_usage",
    "sum by (namespace, pod, container) "
    "(rate(queuelens_container_cpu_usage_seconds_total[$window]))"};
inline constexpr Query kContainerCpuUsageNow{
    "container_cpu_usage_now",
    "sum by (namespace, pod, container) "
    "(irate(queuelens_container_cpu_usage_seconds_total[$window]))"};
inline constexpr Query kContainerRunqueueWait{
    "container_runqueue_wait",
    "sum by (namespace, pod, container) "
    "(rate(queuelens_container_runqueue_wait_seconds_total[$window]))"};
inline constexpr Query kContainerTimeslices{
    "container_timeslices",
    "sum by (namespace, pod, container) (rate(queuelens_container_timeslices_total[$window]))"};
inline constexpr Query kContainerPeriods{
    "container_periods",
    "sum by (namespace, pod, container) (rate(queuelens_container_cpu_periods_total[$window]))"};
inline constexpr Query kContainerThrottledPeriods{
    "container_throttled_periods",
    "sum by (namespace, pod, container) "
    "(rate(queuelens_container_cpu_throttled_periods_total[$window]))"};
inline constexpr Query kContainerCpuPressure{
    "container_cpu_pressure",
    "sum by (namespace, pod, container) "
    "(rate(queuelens_container_cpu_pressure_waiting_seconds_total[$window]))"};
inline constexpr Query kContainerCpuLimit{
    "container_cpu_limit",
    "max by (namespace, pod, container) (queuelens_container_cpu_limit_cores)"};
inline constexpr Query kContainerInterference{
    "container_interference",
    "max by (namespace, pod, container) (queuelens_container_interference_ratio)"};
inline constexpr Query kContainerRecommendedCpu{
    "container_recommended_cpu",
    "max by (namespace, pod, container) (queuelens_container_recommended_cpu_cores)"};

// kube-state-metrics.
inline constexpr Query kDeploymentReplicas{
    "deployment_replicas", "max by (namespace, deployment) (kube_deployment_status_replicas)"};
inline constexpr Query kDeploymentReadyReplicas{
    "deployment_ready_replicas",
    "max by (namespace, deployment) (kube_deployment_status_replicas_ready)"};
inline constexpr Query kPodCpuRequests{
    "pod_cpu_requests",
    "sum by (namespace, pod, container) (kube_pod_container_resource_requests{resource=\"cpu\"})"};
inline constexpr Query kPodCpuLimits{
    "pod_cpu_limits",
    "sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource=\"cpu\"})"};

// A PromQL duration for the window: whole seconds ("60s") or milliseconds ("1500ms").
inline std::string PromDuration(common::Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// The query text with every "$window" replaced.
inline std::string Expand(std::string_view promql, common::Duration window) {
  static constexpr std::string_view kPlaceholder = "$window";
  const std::string w = PromDuration(window);
  std::string out;
  size_t start = 0;
  for (size_t at; (at = promql.find(kPlaceholder, start)) != std::string_view::npos;) {
    out.append(promql.substr(start, at - start)).append(w);
    start = at + kPlaceholder.size();
  }
  out.append(promql.substr(start));
  return out;
}

}  // namespace recommender::input::queries
