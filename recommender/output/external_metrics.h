#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_server.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// The Kubernetes external metrics API, external.metrics.k8s.io/v1beta1, as the kube-aggregator
// and the HPA controller call it (contracts.md §1): discovery documents and
//   GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}?labelSelector=...
// answered from the published snapshot, one item per matching workload of namespace {ns}:
//   queuelens-recommended-replicas   the recommendation (KEDA's replicas)
//   queuelens-queue-length           the model's queue length, requests
//   queuelens-inflight-requests      the model's mean requests in flight
//   queuelens-runqueue-wait-seconds  the model's run-queue wait per timeslice
// Each item's metricLabels are namespace, workload and service; a workload with several trace
// services matches when the selector matches with any one of them as `service` (the value is
// the workload's, so it is listed once). Errors are metav1.Status JSON: 404 NotFound for an
// unknown metric or no match (the HPA then keeps the current scale), 503 ServiceUnavailable when
// a matching workload has no value yet (a partial sum could scale down), 400 BadRequest for a
// bad labelSelector.

// One requirement of a label selector; a selector holds when all of its requirements do.
struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // one for kEquals / kNotEquals, none for the existence ops
};
using LabelSelector = std::vector<LabelRequirement>;  // empty: matches everything
using Labels = std::map<std::string, std::string, std::less<>>;

// Kubernetes' label selector text (labels.Parse; what metav1.LabelSelectorAsSelector prints):
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma = AND, blanks between
// tokens. Keys are qualified names ([prefix/]name), values label values. nullopt with *error
// saying where when the text is not a selector.
std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error);
// `!=` and `notin` also hold when the label is absent, as in Kubernetes.
bool Matches(const LabelSelector& selector, const Labels& labels);

// `value` as a Kubernetes quantity at milli precision, the precision the HPA reads:
// "3", "1500m", "-250m"; a non-zero value that would round to 0m in micro or nano units
// ("50u", "7n"). `value` must be finite.
std::string FormatQuantity(double value);

// The API server's check of its caller, the kube-aggregator: nullopt lets the request through;
// else 401 Unauthorized without a verified client certificate, 403 Forbidden when its common
// name is not in `allowed_names` (empty: any name).
std::optional<common::HttpResponse> RefuseUnauthenticated(
    const common::HttpRequest& request, const std::vector<std::string>& allowed_names);

// Every path of the API server but the probes: /apis (406 when asked for aggregated discovery,
// so the aggregator falls back to the legacy documents), /apis/external.metrics.k8s.io,
// /apis/external.metrics.k8s.io/v1beta1 and the metric values; /openapi/v2, /openapi/v3 and
// anything else 404 Status; only GET (and HEAD).
common::HttpResponse HandleExternalMetrics(const Snapshot& snapshot,
                                           const common::HttpRequest& request);

}  // namespace recommender::output
