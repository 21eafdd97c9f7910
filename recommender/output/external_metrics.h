#pragma once

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
// bad labelSelector (label_selector.h). Values are quantities (quantity.h); the TLS server checks
// its caller first (aggregator_auth.h).

// Every path of the API server but the probes: /apis (406 when asked for aggregated discovery,
// so the aggregator falls back to the legacy documents), /apis/external.metrics.k8s.io,
// /apis/external.metrics.k8s.io/v1beta1 and the metric values; /openapi/v2, /openapi/v3 and
// anything else 404 Status; only GET (and HEAD).
common::HttpResponse HandleExternalMetrics(const Snapshot& snapshot,
                                           const common::HttpRequest& request);

}  // namespace recommender::output
