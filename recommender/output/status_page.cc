#include "recommender/output/status_page.h"

#include <string_view>

#include "common/html.h"
#include "recommender/output/keda_handler.h"

namespace recommender::output {
namespace {

std::string Num(double v) { return common::HtmlNumber(v); }
std::string Num(const std::optional<int>& v) { return v ? std::to_string(*v) : "–"; }
std::string Num(const std::optional<double>& v) { return v ? Num(*v) : "–"; }

}  // namespace

std::string RenderStatusPage(const Snapshot& snap) {
  std::string out;
  out.reserve(16 * 1024 + snap.workloads.size() * 1024);
  common::AppendStatusPageHead(
      out, "queuelens recommender", "td.l{text-align:left}.stale{color:#b00}",
      {"/metrics", "/api/v1/recommendations", "/api/v1/targets", "/healthz"});
  if (snap.computed_at == common::TimePoint{}) {
    out += "<p>No recommendation pass has completed yet.</p>\n</body></html>\n";
    return out;
  }
  out +=
      "<p>pass " + std::to_string(snap.pass) + " at " + FormatRfc3339(snap.computed_at) + "</p>\n";

  out += "<h2>Workloads</h2>\n<table>\n";
  common::AppendHtmlRow(
      out,
      {"workload", "replicas now", "recommended", "replica policy", "CPU limit now",
       "recommended CPU", "CPU policy", "P99", "SLO", "stale", "why"},
      true);
  for (const WorkloadView& w : snap.workloads) {
    const combine::Recommendation& r = w.recommendation;
    const std::string name = w.config.key.k8s_namespace + "/" + w.config.key.workload +
                             (w.discovered ? " (discovered)" : "");
    common::AppendHtmlRow(out, {name, Num(w.signals.current_replicas), Num(r.replicas), r.policy,
                                Num(w.signals.cpu_limit_cores), Num(r.cpu_cores), r.cpu_policy,
                                common::HtmlMilliseconds(w.signals.p99_latency_seconds),
                                common::HtmlMilliseconds(w.config.slo_p99_seconds),
                                !w.signals.invalid_input.empty()
                                    ? "stale: invalid input (" + w.signals.invalid_input + ")"
                                : r.stale ? "stale"
                                          : "",
                                r.reason});
  }
  out += "</table>\n";

  for (const WorkloadView& w : snap.workloads) {
    out += "<h3>";
    common::AppendHtmlEscaped(out, w.config.key.k8s_namespace + "/" + w.config.key.workload);
    out += ": proposals</h3>\n<table>\n";
    common::AppendHtmlRow(out, {"policy", "replicas", "CPU", "terms", "reason"}, true);
    for (const policies::Proposal& p : w.proposals) {
      std::string terms;
      for (const auto& [term, value] : p.terms) {
        terms += (terms.empty() ? "" : ", ") + term + "=" + Num(value);
      }
      const bool applied = p.policy == w.config.replica_policy || p.policy == w.config.cpu_policy;
      common::AppendHtmlRow(out, {applied ? p.policy + " (applied)" : p.policy, Num(p.replicas),
                                  Num(p.cpu_cores), terms, p.reason});
    }
    out += "</table>\n";
  }

  out += "<h2>Throttle targets (Tower)</h2>\n<table>\n";
  common::AppendHtmlRow(out, {"group", "target"}, true);
  common::AppendHtmlRow(out, {"high_cpu", Num(snap.tower.high_cpu_target)});
  common::AppendHtmlRow(out, {"other", Num(snap.tower.other_target)});
  out += "</table>\n";

  out += "<h2>Last pass</h2>\n<table>\n";
  common::AppendHtmlRow(out, {"step", "duration"}, true);
  for (const StepTiming& s : snap.steps)
    common::AppendHtmlRow(out, {s.step, common::HtmlMilliseconds(s.seconds)});
  out += "</table>\n";
  if (!snap.input_errors.empty()) {
    out += "<h2 class=\"stale\">Input errors</h2>\n<table>\n";
    common::AppendHtmlRow(out, {"input", "reason", "message"}, true);
    for (const input::InputError& e : snap.input_errors)
      common::AppendHtmlRow(out, {e.input, e.reason, e.message});
    out += "</table>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace recommender::output
