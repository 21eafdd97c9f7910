#pragma once

#include <string>

#include "recommender/output/snapshot.h"

namespace recommender::output {

// The landing page: one row per workload with current vs recommended replicas and CPU, the
// winning policies and why, then every policy's proposal, the Tower's targets, the last pass'
// step timings and input errors, as plain HTML.
std::string RenderStatusPage(const Snapshot& snapshot);

}  // namespace recommender::output
