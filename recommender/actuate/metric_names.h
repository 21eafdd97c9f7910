#pragma once

#include "recommender/output/metric_names.h"

// The actuators' metrics (recommender/actuate), with HELP saying how each is derived.
namespace recommender::actuate {

using output::MetricName;

inline constexpr MetricName kKubeFailures{
    "queuelens_recommender_kube_request_failures_total",
    "Kubernetes API calls that failed after their retries, by operation (pods_list, pod_get, "
    "pod_resize, pod_deletion_cost, vpa_list, vpa_watch, vpa_status, lease_get, lease_write) and "
    "reason (409, 410, "
    "429, 404, 4xx, 5xx, transport, decode)."};
inline constexpr MetricName kKubeRetries{
    "queuelens_recommender_kube_request_retries_total",
    "Kubernetes API calls repeated after a 429, 5xx or transport failure (after Retry-After "
    "when the server sent one, else exponential backoff), by operation."};
inline constexpr MetricName kResizePatches{
    "queuelens_recommender_resize_patches_total",
    "PATCHes of pods' resize subresource with the recommended CPU, by workload and result "
    "(applied: 2xx; failed: anything else after retries, also counted in "
    "queuelens_recommender_kube_request_failures_total)."};
inline constexpr MetricName kDeletionCostPatches{
    "queuelens_recommender_deletion_cost_patches_total",
    "PATCHes of pods' controller.kubernetes.io/pod-deletion-cost annotation with load_shifting's "
    "cost (--kubernetes.pod-deletion-cost), sent when a pod's cost changes, by workload and "
    "result (applied: 2xx; failed: anything else after retries)."};
inline constexpr MetricName kResizeSkipped{
    "queuelens_recommender_resize_skipped_total",
    "Pod resizes not sent in a pass, by reason: hysteresis (within --kubernetes.resize-hysteresis "
    "of the pod's value), rate_limited (--kubernetes.resize-rate), infeasible (the kubelet "
    "refused this size or a larger one within --kubernetes.resize-infeasible-retry), "
    "no_container (the pod has no container named like the workload's)."};
inline constexpr MetricName kResizePods{
    "queuelens_recommender_resize_pods",
    "Running pods of resized workloads by resize state, read from the pods' conditions at the "
    "last pass: infeasible and deferred (PodResizePending with that reason), in_progress "
    "(PodResizeInProgress)."};
inline constexpr MetricName kVpaObjects{
    "queuelens_recommender_vpa_objects",
    "VerticalPodAutoscaler objects whose spec.recommenders names --vpa.recommender-name, as "
    "held from the last list and watch."};
inline constexpr MetricName kVpaWrites{
    "queuelens_recommender_vpa_status_writes_total",
    "PATCHes of VPA status (recommendation and RecommendationProvided), by result; a pass "
    "writes a VPA only when its recommendation or condition changed."};
inline constexpr MetricName kVpaRelists{
    "queuelens_recommender_vpa_relists_total",
    "Full lists of VerticalPodAutoscalers, by reason: start, gone (the watch's resourceVersion "
    "expired, 410) and error (a failed list or watch)."};
inline constexpr MetricName kLeader{
    "queuelens_recommender_leader",
    "1 while this replica holds the --leader-elect Lease (renewed within 2/3 of its duration) "
    "and so may patch pods and VPA status; 0 otherwise. 1 without --leader-elect."};

}  // namespace recommender::actuate
