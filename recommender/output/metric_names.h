#pragma once

#include <string_view>

// Every metric name queuelens-recommender serves, with its HELP text, in one place. HELP says how
// each value is derived.
namespace recommender::output {

struct MetricName {
  std::string_view name;
  std::string_view help;
};

// From the published snapshot (one series per workload, rendered at scrape time).
inline constexpr MetricName kRecommendedReplicas{
    "queuelens_recommended_replicas",
    "Replicas recommended for the workload: the proposal of its replica policy after the safety "
    "post-processors (staleness hold, scale-down stabilisation, step limit, min/max). The value "
    "KEDA reads. Absent until the workload has a first usable value."};
inline constexpr MetricName kRecommendedCpu{
    "queuelens_recommended_cpu_cores",
    "Per-pod CPU limit recommended for the workload's container: the proposal of its CPU policy "
    "after the safety post-processors."};
inline constexpr MetricName kProposalReplicas{
    "queuelens_policy_proposal_replicas",
    "Replicas each policy proposes before the safety post-processors, including the policies "
    "that run in shadow; absent when the policy could not decide."};
inline constexpr MetricName kProposalCpu{
    "queuelens_policy_proposal_cpu_cores",
    "Per-pod CPU limit each policy proposes before the safety post-processors; absent when the "
    "policy could not decide or does not size CPU."};
inline constexpr MetricName kPolicyTerm{
    "queuelens_policy_term",
    "Intermediate terms of each policy's formula for the workload (see the policy's header), so "
    "every decision can be explained."};
inline constexpr MetricName kStale{
    "queuelens_recommendation_stale",
    "1 when the workload's inputs were missing, older than --staleness or invalid (a refused "
    "value, see queuelens_recommender_input_invalid_values_total), so the last good "
    "recommendation is held (never scaled down); else 0."};
inline constexpr MetricName kInputAge{
    "queuelens_recommendation_input_age_seconds",
    "Age of the newest input sample behind the workload's signals at the pass; absent when "
    "there is none."};
inline constexpr MetricName kThrottleTarget{
    "queuelens_throttle_target_ratio",
    "The Tower's current CFS throttled-period ratio target per group (high_cpu: workloads with "
    "tower_high_cpu_group, other: the rest), served to exporters at /api/v1/targets."};
inline constexpr MetricName kWorkloads{
    "queuelens_recommender_workloads",
    "Workloads sized, by origin (configured in --config, or discovered from trace services)."};
inline constexpr MetricName kLastPass{"queuelens_recommender_last_pass_timestamp_seconds",
                                      "Unix time of the last completed recommendation pass."};

// Kept in the process's prometheus::Registry.
inline constexpr MetricName kLoopStep{
    "queuelens_recommender_loop_step_seconds",
    "Wall time of each step of a recommendation pass: feed (fetch inputs), model (update windows, "
    "derive signals), evaluate (policies), combine (safety post-processors), publish (snapshot "
    "and checkpoint)."};
inline constexpr MetricName kInputErrors{
    "queuelens_recommender_input_errors_total",
    "Inputs that failed in a pass, by input (a scraped URL or a Prometheus query name) and reason "
    "(fetch: no usable answer, or one over --exporter.max-bytes; too_many_series: more sample "
    "lines than --exporter.max-series, refused unparsed; parse: malformed lines skipped; query: "
    "Prometheus error)."};
inline constexpr MetricName kMalformedLines{
    "queuelens_recommender_input_malformed_lines_total",
    "Lines of scraped exposition text that could not be parsed and were skipped."};
inline constexpr MetricName kInvalidValues{
    "queuelens_recommender_input_invalid_values_total",
    "Input values refused before use, by reason: counter_non_finite (NaN or +-Inf), "
    "counter_negative, counter_too_large (above 2^53), counter_implausible_increase (rose more "
    "than --input.max-counter-rate per second since the series was last counted; a decrease is "
    "a reset, not an error), gauge_non_finite; with --prometheus.url also rate_non_finite, "
    "rate_negative and rate_implausible (a query's rate above --input.max-counter-rate). Each "
    "workload fed by a refused value records nothing that pass and holds its last good "
    "recommendation, marked stale."};
inline constexpr MetricName kCheckpointErrors{
    "queuelens_recommender_checkpoint_errors_total",
    "Checkpoint saves or restores that failed, by operation (save, restore)."};
// From load_shifting (one series per instance of a workload with two or more).
inline constexpr MetricName kInstanceWeight{
    "queuelens_instance_weight",
    "Routing weight load_shifting gives the instance (pod) of the service: its share of the "
    "service's requests, stepped every update from the instances' online latency gradients (see "
    "recommender/policies/load_shifting.h); the weights of a service sum to 1. For a proxy with "
    "per-endpoint weights; queuelens does not apply them itself."};
inline constexpr MetricName kInstanceDeletionCost{
    "queuelens_instance_deletion_cost",
    "The controller.kubernetes.io/pod-deletion-cost load_shifting gives the pod: its rank by "
    "interference ratio, then latency, the most interfered 0, so a scale-in removes it first."};
inline constexpr MetricName kInstancePolicyTerm{
    "queuelens_instance_policy_term",
    "Per-instance terms of load_shifting's formula (load, latency, interference, table buckets, "
    "slope and its source, marginal latency, weight), so every weight can be explained."};
inline constexpr MetricName kDeepScalerModelLoaded{
    "queuelens_recommender_deepscaler_model_loaded",
    "1 when the deepscaler policy has a model (--deepscaler.model read and accepted, in a build "
    "with libtorch); 0 when it is unavailable: it then proposes nothing and says why."};
inline constexpr MetricName kBuildInfo{"queuelens_build_info",
                                       "Always 1; labels carry the queuelens version."};

}  // namespace recommender::output
