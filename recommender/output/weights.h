#pragma once

#include <string>
#include <vector>

#include "common/http_server.h"
#include "prometheus/metric_family.h"
#include "recommender/output/snapshot.h"

// load_shifting's per-instance outputs: routing weights and pod-deletion costs, as metrics and as
// JSON for a proxy or controller that programs per-endpoint weights. queuelens does not program
// a mesh or proxy itself.
namespace recommender::output {

// queuelens_instance_weight, queuelens_instance_deletion_cost and queuelens_instance_policy_term,
// one series per instance of every workload with weights.
std::vector<prometheus::MetricFamily> WeightFamilies(const Snapshot& snapshot);

// {"namespace", "service", "computedAt", "policy": "load_shifting", "mostInterfered",
//  "weights": [{"instance", "weight", "deletionCost"}]}; weights is empty (every instance
// even) while the workload has fewer than two instances with load and latency.
std::string RenderWeightsJson(const Snapshot& snapshot, const WorkloadView& view);

// GET /api/v1/weights/{namespace}/{service} (service: the workload's name): 404 with a JSON error
// for an unknown workload or another path, 405 for other methods.
common::HttpResponse HandleWeights(const Snapshot& snapshot, const common::HttpRequest& request);

}  // namespace recommender::output
