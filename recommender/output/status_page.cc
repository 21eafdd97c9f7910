#include "recommender/output/status_page.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string_view>

#include "common/html.h"
#include "common/version.h"
#include "recommender/output/keda_handler.h"

namespace recommender::output {
namespace {

std::string Num(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string Num(const std::optional<int>& v) { return v ? std::to_string(*v) : "–"; }
std::string Num(const std::optional<double>& v) { return v ? Num(*v) : "–"; }

std::string Ms(double seconds) { return std::isfinite(seconds) ? Num(seconds * 1e3) + " ms" : "–"; }

void Row(std::string& out, std::initializer_list<std::string_view> cells, bool header = false) {
  out += "<tr>";
  for (std::string_view c : cells) {
    out += header ? "<th>" : "<td>";
    common::AppendHtmlEscaped(out, c);
    out += header ? "</th>" : "</td>";
  }
  out += "</tr>\n";
}

}  // namespace

std::string RenderStatusPage(const Snapshot& snap) {
  std::string out;
  out.reserve(16 * 1024 + snap.workloads.size() * 1024);
  out +=
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>queuelens recommender</title>"
      "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
      "margin-bottom:1.2em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
      "td:first-child,th:first-child{text-align:left}td.l{text-align:left}"
      ".stale{color:#b00}</style></head><body>\n<h1>queuelens recommender</h1>\n<p>version ";
  out += common::kVersion;
  out +=
      " · <a href=\"/metrics\">/metrics</a> · <a href=\"/api/v1/recommendations\">"
      "/api/v1/recommendations</a> · <a href=\"/api/v1/targets\">/api/v1/targets</a> · "
      "<a href=\"/healthz\">/healthz</a></p>\n";
  if (snap.computed_at == common::TimePoint{}) {
    out += "<p>No recommendation pass has completed yet.</p>\n</body></html>\n";
    return out;
  }
  out +=
      "<p>pass " + std::to_string(snap.pass) + " at " + FormatRfc3339(snap.computed_at) + "</p>\n";

  out += "<h2>Workloads</h2>\n<table>\n";
  Row(out,
      {"workload", "replicas now", "recommended", "replica policy", "CPU limit now",
       "recommended CPU", "CPU policy", "P99", "SLO", "stale", "why"},
      true);
  for (const WorkloadView& w : snap.workloads) {
    const combine::Recommendation& r = w.recommendation;
    const std::string name = w.config.key.k8s_namespace + "/" + w.config.key.workload +
                             (w.discovered ? " (discovered)" : "");
    Row(out,
        {name, Num(w.signals.current_replicas), Num(r.replicas), r.policy,
         Num(w.signals.cpu_limit_cores), Num(r.cpu_cores), r.cpu_policy,
         Ms(w.signals.p99_latency_seconds), Ms(w.config.slo_p99_seconds),
         !w.signals.invalid_input.empty() ? "stale: invalid input (" + w.signals.invalid_input + ")"
         : r.stale                        ? "stale"
                                          : "",
         r.reason});
  }
  out += "</table>\n";

  for (const WorkloadView& w : snap.workloads) {
    out += "<h3>";
    common::AppendHtmlEscaped(out, w.config.key.k8s_namespace + "/" + w.config.key.workload);
    out += ": proposals</h3>\n<table>\n";
    Row(out, {"policy", "replicas", "CPU", "terms", "reason"}, true);
    for (const policies::Proposal& p : w.proposals) {
      std::string terms;
      for (const auto& [term, value] : p.terms) {
        terms += (terms.empty() ? "" : ", ") + term + "=" + Num(value);
      }
      const bool applied = p.policy == w.config.replica_policy || p.policy == w.config.cpu_policy;
      Row(out, {applied ? p.policy + " (applied)" : p.policy, Num(p.replicas), Num(p.cpu_cores),
                terms, p.reason});
    }
    out += "</table>\n";
  }

  out += "<h2>Throttle targets (Tower)</h2>\n<table>\n";
  Row(out, {"group", "target"}, true);
  Row(out, {"high_cpu", Num(snap.tower.high_cpu_target)});
  Row(out, {"other", Num(snap.tower.other_target)});
  out += "</table>\n";

  out += "<h2>Last pass</h2>\n<table>\n";
  Row(out, {"step", "duration"}, true);
  for (const StepTiming& s : snap.steps) Row(out, {s.step, Ms(s.seconds)});
  out += "</table>\n";
  if (!snap.input_errors.empty()) {
    out += "<h2 class=\"stale\">Input errors</h2>\n<table>\n";
    Row(out, {"input", "reason", "message"}, true);
    for (const input::InputError& e : snap.input_errors) Row(out, {e.input, e.reason, e.message});
    out += "</table>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace recommender::output
