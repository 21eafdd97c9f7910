#include "sim/scoreboard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/html.h"
#include "sim/policies.h"

namespace sim {
namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[256];
  const int n = std::snprintf(buf, sizeof(buf), fmt, args...);
  return std::string(buf, static_cast<size_t>(std::max(0, n)));
}

// value / base as text: "-" when both are zero, "inf" when only the base is.
std::string Ratio(double value, double base) {
  if (base == 0) return value == 0 ? "-" : "inf";
  return Format("%.2f", value / base);
}

double RatioValue(double value, double base) {
  if (base == 0) return value == 0 ? 1 : std::numeric_limits<double>::infinity();
  return value / base;
}

std::string PolicyLabel(const RunSummary& s) {
  return s.setting.empty() ? s.policy : s.policy + " (" + s.setting + ")";
}

struct Row {
  std::vector<std::string> cells;
};

// The table's columns: header and the cells of one run against the baseline.
std::vector<std::string> Header() {
  return {"policy", "core-h",   "x hpa", "used core-h", "x hpa", "P99 ms",  "x hpa",
          "SLO",    "viol min", "x hpa", "throttled",   "x hpa", "actions", "x hpa"};
}

std::vector<std::string> Cells(const RunSummary& s, const RunSummary* base) {
  const RunSummary b = base ? *base : s;
  return {PolicyLabel(s),
          Format("%.3f", s.core_hours),
          Ratio(s.core_hours, b.core_hours),
          Format("%.3f", s.usage_core_hours),
          Ratio(s.usage_core_hours, b.usage_core_hours),
          Format("%.1f", s.p99 * 1e3),
          Ratio(s.p99, b.p99),
          s.pass ? "pass" : "FAIL",
          Format("%d/%d", s.violation_minutes, s.minutes),
          Ratio(s.violation_minutes, b.violation_minutes),
          Format("%.2f%%", s.throttled_ratio * 100),
          Ratio(s.throttled_ratio, b.throttled_ratio),
          Format("%llu", static_cast<unsigned long long>(s.scaling_actions)),
          Ratio(static_cast<double>(s.scaling_actions), static_cast<double>(b.scaling_actions))};
}

std::string Title(const Scoreboard& board) {
  return Format("%s, trace %s, seed %llu, SLO P99 %.0f ms", board.app.c_str(), board.trace.c_str(),
                static_cast<unsigned long long>(board.seed), board.slo * 1e3);
}

// --- SVG line charts ---------------------------------------------------------------------------

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

struct Line {
  std::string label;
  const char* color;
  double step;  // seconds between points
  const std::vector<double>* values;
};

// One chart: minutes on x, `lines` on y (log scale when asked), a shaded warm-up and an
// optional dashed reference line (the SLO).
std::string Chart(const std::string& title, const std::string& unit, const std::vector<Line>& lines,
                  double warmup, double end, bool log_scale, double reference, double scale) {
  constexpr double kW = 760, kH = 240, kLeft = 64, kRight = 12, kTop = 26, kBottom = 34;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Line& l : lines) {
    for (double v : *l.values) {
      if (!std::isfinite(v) || (log_scale && v <= 0)) continue;
      lo = std::min(lo, v * scale);
      hi = std::max(hi, v * scale);
    }
  }
  if (reference > 0) {
    lo = std::min(lo, reference * scale);
    hi = std::max(hi, reference * scale);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (!log_scale) lo = 0;
  if (hi <= lo) hi = lo + 1;
  auto ty = [&](double v) {
    const double f = log_scale
                         ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return kTop + ph * (1 - std::clamp(f, 0.0, 1.0));
  };
  auto tx = [&](double seconds) { return kLeft + pw * std::clamp(seconds / end, 0.0, 1.0); };

  std::string s = Format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\">",
      kW, kH, kW, kH);
  s += Format("<text x=\"%.0f\" y=\"16\" class=\"t\">", kLeft) + common::HtmlEscaped(title) +
       "</text>";
  s += Format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"warm\"/>", kLeft,
              kTop, tx(warmup) - kLeft, ph);
  s += Format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>", kLeft,
              kTop, pw, ph);
  // y ticks at 1, 2 and 5 times powers of ten
  std::vector<double> ticks;
  if (log_scale) {
    for (double d = std::pow(10, std::floor(std::log10(lo))); d <= hi; d *= 10) {
      for (double m : {1.0, 2.0, 5.0}) {
        if (d * m >= lo && d * m <= hi) ticks.push_back(d * m);
      }
    }
    if (ticks.size() > 8) {  // a wide range: powers of ten only
      std::erase_if(ticks, [](double v) {
        return std::abs(std::log10(v) - std::round(std::log10(v))) > 1e-9;
      });
    }
  } else {
    const double raw = hi / 4;
    const double decade = std::pow(10, std::floor(std::log10(raw)));
    const double step = raw <= decade       ? decade
                        : raw <= 2 * decade ? 2 * decade
                        : raw <= 5 * decade ? 5 * decade
                                            : 10 * decade;
    hi = std::ceil(hi / step) * step;
    for (double v = 0; v <= hi + step / 2; v += step) ticks.push_back(v);
  }
  for (double v : ticks) {
    s += Format("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", kLeft,
                kLeft + pw, ty(v), ty(v));
    s += Format("<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%.3g</text>",
                kLeft - 4, ty(v) + 4, v);
  }
  s += Format(
           "<text x=\"12\" y=\"%.1f\" class=\"ax\" transform=\"rotate(-90 12 %.1f)\" "
           "text-anchor=\"middle\">",
           kTop + ph / 2, kTop + ph / 2) +
       common::HtmlEscaped(unit) + "</text>";
  // x ticks every 10 minutes
  for (double m = 0; m * 60 <= end + 1e-9; m += 10) {
    s += Format("<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">%.0f</text>",
                tx(m * 60), kTop + ph + 14, m);
  }
  s += Format(
      "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">minutes (shaded: "
      "warm-up)</text>",
      kLeft + pw / 2, kH - 4);
  if (reference > 0) {
    s += Format("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"ref\"/>", kLeft,
                kLeft + pw, ty(reference * scale), ty(reference * scale));
  }
  for (const Line& l : lines) {
    std::string path;
    bool pen_down = false;
    for (size_t i = 0; i < l.values->size(); ++i) {
      const double v = (*l.values)[i] * scale;
      if (!std::isfinite(v) || (log_scale && v <= 0)) {
        pen_down = false;
        continue;
      }
      path += Format("%s%.1f,%.1f ", pen_down ? "L" : "M",
                     tx((static_cast<double>(i) + 0.5) * l.step), ty(v));
      pen_down = true;
    }
    s += "<path d=\"" + path + "\" stroke=\"" + l.color + "\" class=\"line\"><title>" +
         common::HtmlEscaped(l.label) + "</title></path>";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace

const RunResult* Scoreboard::Baseline() const {
  for (const RunResult& r : runs) {
    if (r.summary.policy == kBaselinePolicy) return &r;
  }
  return nullptr;
}

std::string FormatScoreboard(const Scoreboard& board) {
  const RunResult* base = board.Baseline();
  std::vector<std::vector<std::string>> rows = {Header()};
  for (const RunResult& r : board.runs) {
    rows.push_back(Cells(r.summary, base ? &base->summary : nullptr));
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out = Title(board) + "\n";
  if (!board.runs.empty()) {
    const RunResult& r = board.runs.front();
    out += Format("measured: %.0f min after a %.0f min warm-up; x hpa = ratio to %s\n",
                  (r.simulated_seconds - r.warmup) / 60, r.warmup / 60,
                  std::string(kBaselinePolicy).c_str());
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      const size_t pad = width[c] - row[c].size();
      if (c == 0) {
        out += row[c] + std::string(pad, ' ');
      } else {
        out += "  " + std::string(pad, ' ') + row[c];
      }
    }
    out += "\n";
  }
  for (const std::string& n : board.notes) out += "note: " + n + "\n";
  return out;
}

std::string ScoreboardCsv(const Scoreboard& board) {
  const RunResult* base = board.Baseline();
  std::string out =
      "app,trace,seed,policy,setting,requests,core_hours,core_hours_vs_hpa,usage_core_hours,"
      "usage_vs_hpa,p50_seconds,p99_seconds,p99_vs_hpa,slo_seconds,pass,violation_minutes,"
      "minutes,violation_minutes_vs_hpa,throttled_ratio,throttled_ratio_vs_hpa,scaling_actions,"
      "scaling_actions_vs_hpa,mean_replicas\n";
  for (const RunResult& r : board.runs) {
    const RunSummary& s = r.summary;
    const RunSummary& b = base ? base->summary : s;
    out += board.app + "," + board.trace + "," + std::to_string(board.seed) + "," + s.policy + "," +
           s.setting + "," + std::to_string(s.requests) + ",";
    out += Format(
        "%.6f,%.6g,%.6f,%.6g,%.6f,%.6f,%.6g,%.6f,%s,%d,%d,%.6g,%.6f,%.6g,%llu,%.6g,%.3f\n",
        s.core_hours, RatioValue(s.core_hours, b.core_hours), s.usage_core_hours,
        RatioValue(s.usage_core_hours, b.usage_core_hours), s.p50, s.p99, RatioValue(s.p99, b.p99),
        s.slo, s.pass ? "true" : "false", s.violation_minutes, s.minutes,
        RatioValue(s.violation_minutes, b.violation_minutes), s.throttled_ratio,
        RatioValue(s.throttled_ratio, b.throttled_ratio),
        static_cast<unsigned long long>(s.scaling_actions),
        RatioValue(static_cast<double>(s.scaling_actions), static_cast<double>(b.scaling_actions)),
        s.mean_replicas);
  }
  return out;
}

std::string ScoreboardHtml(const Scoreboard& board) {
  const RunResult* base = board.Baseline();
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>queuelens-sim: " +
      common::HtmlEscaped(Title(board)) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:24px;color:#222}\n"
      "table{border-collapse:collapse;font-size:13px}\n"
      "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "td.fail{color:#b00;font-weight:bold}\n"
      "svg{display:block;margin:18px 0}\n"
      ".t{font-size:14px;font-weight:bold}.ax{font-size:11px;fill:#555}\n"
      ".frame{fill:none;stroke:#999}.warm{fill:#eee}.grid{stroke:#e4e4e4}\n"
      ".ref{stroke:#b00;stroke-dasharray:5 4}.line{fill:none;stroke-width:1.5}\n"
      ".key span{display:inline-block;margin-right:14px}"
      ".key i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}\n"
      "</style></head><body>\n<h1>queuelens-sim scoreboard</h1>\n<p>" +
      common::HtmlEscaped(Title(board)) + "</p>\n<table>\n<tr>";
  for (const std::string& c : Header()) h += "<th>" + common::HtmlEscaped(c) + "</th>";
  h += "</tr>\n";
  for (const RunResult& r : board.runs) {
    h += "<tr>";
    const auto cells = Cells(r.summary, base ? &base->summary : nullptr);
    for (size_t c = 0; c < cells.size(); ++c) {
      h += (c == 7 && !r.summary.pass) ? "<td class=\"fail\">" : "<td>";
      h += common::HtmlEscaped(cells[c]) + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n";
  for (const std::string& n : board.notes) h += "<p>Note: " + common::HtmlEscaped(n) + "</p>\n";

  h += "<p class=\"key\">";
  std::vector<Line> throughput, replicas, cores, p99;
  for (size_t i = 0; i < board.runs.size(); ++i) {
    const RunResult& r = board.runs[i];
    const char* color = kColors[i % std::size(kColors)];
    const std::string label = PolicyLabel(r.summary);
    h += "<span><i style=\"background:" + std::string(color) + "\"></i>" +
         common::HtmlEscaped(label) + "</span>";
    throughput.push_back({label, color, r.series.step, &r.series.throughput});
    replicas.push_back({label, color, r.series.step, &r.series.replicas});
    cores.push_back({label, color, r.series.step, &r.series.cores});
    p99.push_back({label, color, 60, &r.series.p99_minutes});
  }
  h += "</p>\n";
  const double warmup = board.runs.empty() ? 0 : board.runs.front().warmup;
  const double end = board.runs.empty() ? 1 : board.runs.front().simulated_seconds;
  h += Chart("Throughput", "requests/s", throughput, warmup, end, false, 0, 1);
  h += Chart("Replicas (all services)", "pods", replicas, warmup, end, false, 0, 1);
  h += Chart("Allocated CPU (sum of limits)", "cores", cores, warmup, end, false, 0, 1);
  h += Chart("End-to-end P99 per minute (dashed: SLO)", "ms (log)", p99, warmup, end, true,
             board.slo, 1e3);
  h += "</body></html>\n";
  return h;
}

}  // namespace sim
