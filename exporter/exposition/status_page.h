#pragma once

#include <string>
#include <string_view>

#include "exporter/state/snapshot.h"

namespace exporter::exposition {

// The landing page: a table per service (operations with windowed quantiles), instances, the call
// graph and pipeline health, as plain HTML. `extra` is HTML appended before the footer.
std::string RenderStatusPage(const state::StateSnapshot& snapshot, std::string_view extra = {});

// The same facts as JSON, for tools and the recommender's direct path: GET /api/v1/services.
std::string RenderServicesJson(const state::StateSnapshot& snapshot);

}  // namespace exporter::exposition
