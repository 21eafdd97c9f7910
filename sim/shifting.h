#pragma once

#include <cstdint>

#include "recommender/output/snapshot.h"
#include "sim/simulation.h"

namespace sim {

// Applies load_shifting's outputs for one service, as a cluster would: the weights go to the
// service's routing (a proxy with per-endpoint weights), the deletion costs to the pods (the
// controller.kubernetes.io/pod-deletion-cost annotation), and when the recommendation adds a
// replica, the new pod prefers a node other than the most interfered instance's (preferred pod
// anti-affinity). Call before the recommendation's replicas are applied.
void ApplyShifting(Simulation& sim, uint32_t service,
                   const recommender::output::WorkloadView& view);

}  // namespace sim
