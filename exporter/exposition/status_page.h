#pragma once

#include <string>
#include <string_view>

#include "exporter/state/kernel_snapshot.h"
#include "exporter/state/snapshot.h"

namespace exporter::exposition {

// The landing page: a table per service (operations with windowed quantiles), instances, the call
// graph and pipeline health, as plain HTML. `extra` is HTML appended before the footer.
// "sampled at 5 % (ot.th)": the window's effective probability and how the last request's was
// found.
std::string SamplingDescription(double probability, spans::SamplingMethod method);

std::string RenderStatusPage(const state::StateSnapshot& snapshot, std::string_view extra = {});

// HTML for RenderStatusPage's `extra`: the instance imbalance of each service and, when kernel
// collection runs (kernel != nullptr), the pods seen both in spans and on this node with their
// joined span and kernel figures, every container's kernel view, and collection health.
std::string RenderInterferenceSection(const state::StateSnapshot& spans,
                                      const state::KernelSnapshot* kernel);

// The same facts as JSON, for tools and the recommender's direct path: GET /api/v1/services.
std::string RenderServicesJson(const state::StateSnapshot& snapshot);

}  // namespace exporter::exposition
