#pragma once

#include <string>
#include <vector>

#include "common/http_server.h"
#include "recommender/policies/deepscaler.h"

// The service graph DeepScaler's model learned, as JSON (/api/v1/graph) and as an inline SVG
// section of the status page. Both read the loaded model only; nothing is computed per request
// beyond sorting its edges.
namespace recommender::output {

struct GraphEdge {
  std::string from, to;
  double weight = 0;
};

// The learned graph's edges between different services with a weight above 0, strongest first
// (ties by name); at most `limit` (0: all).
std::vector<GraphEdge> StrongestEdges(const predict::Predictor& model, size_t limit = 0);

// {"model": FILE, "loaded_at": RFC 3339, "steps": minutes, "services": [...], "edges":
// [{"from", "to", "weight"}, ...] strongest first}; without a model, 404 with {"error": why}.
common::HttpResponse HandleGraph(const policies::DeepScalerOptions& deepscaler,
                                 const common::HttpRequest& request);

// A status-page section: the services on a circle, an arrow per edge (the `limit` strongest),
// its width and label the weight; without a model, a line saying why.
std::string RenderGraphSection(const policies::DeepScalerOptions& deepscaler, size_t limit = 40);

}  // namespace recommender::output
