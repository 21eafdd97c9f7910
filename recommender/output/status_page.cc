#include "recommender/output/status_page.h"

#include <chrono>
#include <string_view>
#include <utility>
#include <vector>

#include "common/html.h"
#include "recommender/output/keda_handler.h"

namespace recommender::output {
namespace {

std::string Num(double v) { return common::HtmlNumber(v); }
std::string Num(const std::optional<int>& v) { return v ? std::to_string(*v) : "–"; }
std::string Num(const std::optional<double>& v) { return v ? Num(*v) : "–"; }

// "replicas 3 → 5 by queue_sizing, 40 s ago", or "" when the channel has not changed.
std::string Change(std::string_view channel, const ChannelChange& c, common::TimePoint now) {
  if (c.at == common::TimePoint{}) return "";
  const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - c.at).count();
  return std::string(channel) + " " + Num(c.from) + " → " + Num(c.to) + " by " + c.policy + ", " +
         std::to_string(ago) + " s ago";
}

// The more recent of the two channels' last changes: which half acted, and when.
std::string LastChange(const WorkloadTrend& t, common::TimePoint now) {
  return t.cpu.at > t.replicas.at ? Change("CPU", t.cpu, now) : Change("replicas", t.replicas, now);
}

// The trend of one channel: a column of the points.
std::vector<double> Column(const std::vector<TrendPoint>& points, double TrendPoint::*field) {
  std::vector<double> out;
  out.reserve(points.size());
  for (const TrendPoint& p : points) out.push_back(p.*field);
  return out;
}

// The last minutes of load, queue, replicas and CPU (dashed: the recommendation), and each
// channel's last change with the reason given for it.
void AppendTrend(std::string& out, const WorkloadTrend& t, common::TimePoint now) {
  if (!t.points || t.points->empty()) return;
  const std::vector<TrendPoint>& p = *t.points;
  const auto minutes = std::chrono::duration_cast<std::chrono::seconds>(now - p.front().at);
  out += "<p class=\"trend\">last " + std::to_string((minutes.count() + 30) / 60) + " min: ";
  const std::vector<double> load = Column(p, &TrendPoint::request_rate);
  const std::vector<double> queue = Column(p, &TrendPoint::queue_length);
  const std::vector<double> replicas = Column(p, &TrendPoint::replicas);
  const std::vector<double> rec_replicas = Column(p, &TrendPoint::recommended_replicas);
  const std::vector<double> cpu = Column(p, &TrendPoint::cpu_limit_cores);
  const std::vector<double> rec_cpu = Column(p, &TrendPoint::recommended_cpu_cores);
  common::AppendSparkline(out, "load req/s", {load});
  common::AppendSparkline(out, "queue", {queue});
  common::AppendSparkline(out, "replicas", {replicas, rec_replicas});
  common::AppendSparkline(out, "CPU cores", {cpu, rec_cpu});
  out += "</p>\n";
  for (const auto& [channel, change] :
       {std::pair<std::string_view, const ChannelChange*>{"replicas", &t.replicas},
        {"CPU", &t.cpu}}) {
    if (change->at == common::TimePoint{}) continue;
    out += "<p class=\"change\">";
    common::AppendHtmlEscaped(out, Change(channel, *change, now) + ": " + change->reason);
    out += "</p>\n";
  }
}

}  // namespace

std::string RenderStatusPage(const Snapshot& snap) {
  std::string out;
  out.reserve(16 * 1024 + snap.workloads.size() * 1024);
  common::AppendStatusPageHead(
      out, "queuelens recommender",
      "td.l{text-align:left}.stale{color:#b00}svg.spark{margin-right:1em;font-size:11px}",
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
       "recommended CPU", "CPU policy", "P99", "SLO", "stale", "last change", "why"},
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
                                LastChange(w.trend, snap.computed_at), r.reason});
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
    AppendTrend(out, w.trend, snap.computed_at);
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
