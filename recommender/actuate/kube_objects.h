#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "recommender/workload_config.h"

// Pure readers and writers of the Kubernetes objects the actuators use: Pod (core/v1),
// VerticalPodAutoscaler (autoscaling.k8s.io/v1) and Lease (coordination.k8s.io/v1).
namespace recommender::actuate {

// A CPU quantity in cores: "250m", "2", "1.5", "100u", "5e-1"; nullopt when malformed.
std::optional<double> ParseCpu(std::string_view quantity);

// "2026-12-07T07:56:50.123456Z" (a metav1.MicroTime) and its reader, which also takes whole
// seconds and numeric offsets are refused.
std::string FormatMicroTime(common::TimePoint t);
std::optional<common::TimePoint> ParseTime(std::string_view text);

std::optional<ResizeFields> ParseResizeFields(std::string_view text);
std::string_view ResizeFieldsName(ResizeFields fields);

struct PodContainer {
  std::string name;
  std::optional<double> cpu_request;  // spec: the desired values, which a resize changes
  std::optional<double> cpu_limit;
};

struct PodState {
  std::string name;
  std::string uid;
  std::string phase;
  std::vector<PodContainer> containers;
  std::string resize_pending;  // PodResizePending's reason (Infeasible, Deferred) when True
  std::string resize_pending_message;
  bool resize_in_progress = false;  // PodResizeInProgress True

  const PodContainer* Container(std::string_view name) const;
};

std::optional<PodState> ParsePod(std::string_view json, std::string* error);
std::optional<std::vector<PodState>> ParsePodList(std::string_view json, std::string* error);

// The strategic-merge patch of a pod's resize subresource setting the container's CPU.
std::string ResizePatch(std::string_view container, double cores, ResizeFields fields);

// The pod annotation a ReplicaSet orders its scale-in by (lower cost first; int32 as a string).
inline constexpr std::string_view kPodDeletionCost = "controller.kubernetes.io/pod-deletion-cost";
// A JSON merge patch (application/merge-patch+json) of a pod's metadata.annotations setting
// kPodDeletionCost to `cost`:
//   {"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"<cost>"}}}
std::string DeletionCostPatch(int cost);

struct VpaContainerPolicy {
  std::string container;  // or "*", the default policy
  bool off = false;       // mode: Off
  bool controls_cpu = true;
  std::optional<double> min_cpu;  // minAllowed.cpu
  std::optional<double> max_cpu;  // maxAllowed.cpu
};

struct VpaRecommendation {  // one containerRecommendations entry, CPU quantities as written
  std::string container;
  std::string target, lower_bound, upper_bound, uncapped_target;
  bool operator==(const VpaRecommendation&) const = default;
};

struct Vpa {
  std::string k8s_namespace;
  std::string name;
  std::string resource_version;
  std::vector<std::string> recommenders;  // spec.recommenders[].name
  std::string target_kind;                // spec.targetRef
  std::string target_name;
  std::vector<VpaContainerPolicy> policies;
  std::vector<VpaRecommendation> recommendation;  // status.recommendation, CPU entries only
  std::string provided;         // RecommendationProvided condition's status: "True", "False" or ""
  std::string conditions_json;  // status.conditions other than RecommendationProvided, as JSON

  // The policy for `container`: its own, else "*", else nullptr.
  const VpaContainerPolicy* PolicyFor(std::string_view container) const;
};

std::optional<Vpa> ParseVpa(std::string_view json, std::string* error);
// A VerticalPodAutoscalerList; `resource_version` gets the list's metadata.resourceVersion.
std::optional<std::vector<Vpa>> ParseVpaList(std::string_view json, std::string* resource_version,
                                             std::string* error);

// One line of a watch stream: ADDED, MODIFIED, DELETED and BOOKMARK carry an object (a bookmark
// only its resourceVersion); ERROR carries a metav1.Status whose code (410 Gone when the
// resourceVersion expired) is in `code`.
struct VpaWatchEvent {
  std::string type;
  Vpa object;
  int code = 0;
  std::string message;
};
std::optional<VpaWatchEvent> ParseVpaWatchEvent(std::string_view line, std::string* error);

// The JSON merge patch of the VPA's status subresource: the recommendation and the
// RecommendationProvided condition, the other conditions kept as they were.
std::string VpaStatusPatch(const Vpa& vpa, const std::vector<VpaRecommendation>& recommendation,
                           common::TimePoint now);

struct Lease {
  std::string holder;
  int duration_seconds = 0;
  std::optional<common::TimePoint> acquire_time;
  std::optional<common::TimePoint> renew_time;
  int transitions = 0;
  std::string resource_version;
  bool operator==(const Lease&) const = default;
};

std::optional<Lease> ParseLease(std::string_view json, std::string* error);
// The whole Lease object for create (empty resource_version) or update.
std::string LeaseBody(std::string_view k8s_namespace, std::string_view name, const Lease& lease);

// The message of a metav1.Status body, else the body cut to 200 bytes.
std::string StatusMessage(std::string_view body);

}  // namespace recommender::actuate
