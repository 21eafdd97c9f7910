#include "sim/shifting.h"

#include <vector>

namespace sim {

void ApplyShifting(Simulation& sim, uint32_t service,
                   const recommender::output::WorkloadView& view) {
  if (view.weights.empty()) return;  // fewer than two instances: nothing to weigh
  std::vector<PodWeight> weights;
  weights.reserve(view.weights.size());
  for (const auto& w : view.weights) {
    weights.push_back({.pod = w.instance, .weight = w.weight, .deletion_cost = w.deletion_cost});
  }
  sim.SetRouteWeights(service, weights);
  const auto& replicas = view.recommendation.replicas;
  if (!replicas || *replicas <= sim.Replicas(service) || view.most_interfered.empty()) return;
  for (const Replica& r : sim.replicas()) {
    if (r.service == service && r.pod == view.most_interfered && r.state != ReplicaState::kGone) {
      sim.AvoidNode(service, r.node);
      return;
    }
  }
}

}  // namespace sim
