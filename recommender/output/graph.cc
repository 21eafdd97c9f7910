#include "recommender/output/graph.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <tuple>

#include "common/html.h"
#include "recommender/output/json_response.h"
#include "recommender/output/keda_handler.h"

namespace recommender::output {

std::vector<GraphEdge> StrongestEdges(const predict::Predictor& model, size_t limit) {
  const std::vector<std::string>& services = model.services();
  const std::vector<float>& a = model.graph();
  const size_t n = services.size();
  std::vector<GraphEdge> edges;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i != j && a[i * n + j] > 0) edges.push_back({services[i], services[j], a[i * n + j]});
    }
  }
  std::sort(edges.begin(), edges.end(), [](const GraphEdge& x, const GraphEdge& y) {
    if (x.weight != y.weight) return x.weight > y.weight;
    return std::tie(x.from, x.to) < std::tie(y.from, y.to);
  });
  if (limit > 0 && edges.size() > limit) edges.resize(limit);
  return edges;
}

common::HttpResponse HandleGraph(const policies::DeepScalerOptions& d,
                                 const common::HttpRequest& request) {
  if (!IsGet(request)) return JsonError(405, "use GET");
  if (!d.model) {
    return JsonError(404, "no DeepScaler model loaded: " +
                              (d.unavailable.empty() ? std::string("--deepscaler.model not set")
                                                     : d.unavailable));
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("model");
  WriteString(w, d.model_source);
  w.Key("loaded_at");
  WriteString(w, FormatRfc3339(d.loaded_at));
  w.Key("steps");
  w.Int(d.model->steps());
  w.Key("services");
  w.StartArray();
  for (const std::string& s : d.model->services()) WriteString(w, s);
  w.EndArray();
  w.Key("edges");
  w.StartArray();
  for (const GraphEdge& e : StrongestEdges(*d.model)) {
    w.StartObject();
    w.Key("from");
    WriteString(w, e.from);
    w.Key("to");
    WriteString(w, e.to);
    w.Key("weight");
    w.Double(e.weight);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf.GetString());
}

std::string RenderGraphSection(const policies::DeepScalerOptions& d, size_t limit) {
  std::string out = "<h2>DeepScaler's learned service graph</h2>\n";
  if (!d.model) {
    out += "<p>No model: ";
    common::AppendHtmlEscaped(out,
                              d.unavailable.empty() ? "--deepscaler.model not set" : d.unavailable);
    out += "</p>\n";
    return out;
  }
  const std::vector<std::string>& services = d.model->services();
  const size_t n = services.size();
  const std::vector<GraphEdge> edges = StrongestEdges(*d.model, limit);
  out += "<p>";
  common::AppendHtmlEscaped(out, d.model_source);
  out += ", loaded " + FormatRfc3339(d.loaded_at) + ": the " + std::to_string(edges.size()) +
         " strongest edges; an arrow's width and label are its weight.</p>\n";
  // The services evenly on a circle, names outside it (room for long names on either side).
  constexpr double kWidth = 760, kHeight = 480, kCenter = kWidth / 2, kRadius = 200;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    const double angle = 2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n) -
                         std::numbers::pi / 2;
    x[i] = kCenter + kRadius * std::cos(angle);
    y[i] = kHeight / 2 + kRadius * std::sin(angle);
  }
  const auto index = [&](const std::string& name) {
    return static_cast<size_t>(std::find(services.begin(), services.end(), name) -
                               services.begin());
  };
  const double top = edges.empty() ? 1 : edges.front().weight;
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" "
                "refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" "
                "markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
                "fill=\"#47a\"/></marker></defs>",
                kWidth, kHeight);
  out += buf;
  for (const GraphEdge& e : edges) {
    const size_t a = index(e.from), b = index(e.to);
    // Stop short of the target's dot so the arrowhead shows.
    const double dx = x[b] - x[a], dy = y[b] - y[a];
    const double len = std::max(1.0, std::hypot(dx, dy));
    const double ex = x[b] - dx / len * 8, ey = y[b] - dy / len * 8;
    std::snprintf(buf, sizeof buf,
                  "<line class=\"edge\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#47a\" stroke-opacity=\"0.7\" stroke-width=\"%.2f\" "
                  "marker-end=\"url(#arrow)\"><title>",
                  x[a], y[a], ex, ey, 0.5 + 4 * e.weight / top);
    out += buf;
    common::AppendHtmlEscaped(out, e.from + " → " + e.to + " " + common::HtmlNumber(e.weight));
    out += "</title></line>";
    std::snprintf(buf, sizeof buf,
                  "<text class=\"weight\" x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#47a\">",
                  (x[a] + 2 * x[b]) / 3, (y[a] + 2 * y[b]) / 3);
    out += buf + common::HtmlNumber(e.weight) + "</text>";
  }
  for (size_t i = 0; i < n; ++i) {
    const bool right = x[i] >= kCenter;
    std::snprintf(buf, sizeof buf,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#333\"/><text class=\"service\" "
                  "x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\">",
                  x[i], y[i], x[i] + (right ? 9 : -9), y[i] + 4, right ? "start" : "end");
    out += buf;
    common::AppendHtmlEscaped(out, services[i]);
    out += "</text>";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace recommender::output
