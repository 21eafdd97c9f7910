#include "sim/scoreboard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>

#include "common/html.h"
#include "sim/policies.h"

namespace sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Format(const char* fmt, auto... args) {
  char buf[256];
  const int n = std::snprintf(buf, sizeof(buf), fmt, args...);
  return std::string(buf, static_cast<size_t>(std::max(0, n)));
}

double RatioValue(double value, double base) {
  if (base == 0) return value == 0 ? 1 : std::numeric_limits<double>::infinity();
  return value / base;
}

std::string PolicyLabel(const PolicyRuns& p) {
  return p.setting().empty() ? p.name() : p.name() + " (" + p.setting() + ")";
}

// A metric of one run as the table and the summary CSV show it.
struct Metric {
  const char* csv;     // column stem in the CSV
  const char* header;  // column in the table
  const char* format;  // printf format of the table's value (after `scale`)
  double scale;
  double (*get)(const RunSummary&);
};

const std::vector<Metric>& Metrics() {
  static const std::vector<Metric> kMetrics = {
      {"core_hours", "core-h", "%.3f", 1, [](const RunSummary& s) { return s.core_hours; }},
      {"usage_core_hours", "used core-h", "%.3f", 1,
       [](const RunSummary& s) { return s.usage_core_hours; }},
      {"p50_seconds", "", "", 1, [](const RunSummary& s) { return s.p50; }},
      {"p99_seconds", "P99 ms", "%.1f", 1e3, [](const RunSummary& s) { return s.p99; }},
      {"violation_minutes", "viol min", "%.1f", 1,
       [](const RunSummary& s) { return static_cast<double>(s.violation_minutes); }},
      {"throttled_ratio", "throttled %", "%.2f", 100,
       [](const RunSummary& s) { return s.throttled_ratio; }},
      {"scaling_actions", "actions", "%.0f", 1,
       [](const RunSummary& s) { return static_cast<double>(s.scaling_actions); }},
      {"cgroup_writes", "cgroup writes", "%.0f", 1,
       [](const RunSummary& s) { return static_cast<double>(s.cgroup_writes); }},
      {"mean_replicas", "", "", 1, [](const RunSummary& s) { return s.mean_replicas; }},
      {"pending_pod_minutes", "pending pod-min", "%.1f", 1,
       [](const RunSummary& s) { return s.pending_pod_minutes; }},
  };
  return kMetrics;
}

std::vector<double> Values(const PolicyRuns& p, double (*get)(const RunSummary&)) {
  std::vector<double> out;
  for (const RunResult& r : p.seeds) out.push_back(get(r.summary));
  return out;
}

// Core-hours over `base`'s in the same seed (the same arrivals), one value per seed; empty
// without a base.
std::vector<double> CoreHourRatios(const PolicyRuns& p, const PolicyRuns* base) {
  std::vector<double> out;
  if (!base) return out;
  for (size_t i = 0; i < p.seeds.size() && i < base->seeds.size(); ++i) {
    out.push_back(RatioValue(p.seeds[i].summary.core_hours, base->seeds[i].summary.core_hours));
  }
  return out;
}

// "mean ± half-width", or the mean alone with one seed; "-" for nothing.
std::string Cell(const std::vector<double>& values, const char* format, double scale) {
  if (values.empty()) return "-";
  const Estimate e = Estimate95(values);
  if (!std::isfinite(e.mean)) return "inf";
  std::string s = Format(format, e.mean * scale);
  if (e.n >= 2 && std::isfinite(e.half_width)) s += " ± " + Format(format, e.half_width * scale);
  return s;
}

// The columns of Cells().
std::vector<std::string> Header() {
  std::vector<std::string> header = {"policy", "seeds passed"};
  for (const Metric& m : Metrics()) {
    if (*m.header == '\0') continue;
    header.push_back(m.header);
    if (std::string_view(m.csv) == "core_hours") {
      header.push_back("x ref");
      header.push_back("x hpa");
    }
  }
  return header;
}
constexpr size_t kPassColumn = 1;

std::vector<std::string> Cells(const PolicyRuns& p, const PolicyRuns* reference,
                               const PolicyRuns* hpa) {
  std::vector<std::string> cells = {
      PolicyLabel(p), Format("%d/%zu%s", p.passes(), p.seeds.size(), p.pass() ? "" : " FAIL")};
  for (const Metric& m : Metrics()) {
    if (*m.header == '\0') continue;
    cells.push_back(Cell(Values(p, m.get), m.format, m.scale));
    if (std::string_view(m.csv) == "core_hours") {  // followed by its ratios
      cells.push_back(Cell(CoreHourRatios(p, reference), "%.2f", 1));
      cells.push_back(Cell(CoreHourRatios(p, hpa), "%.2f", 1));
    }
  }
  return cells;
}

std::string SeedsText(const std::vector<uint64_t>& seeds) {
  if (seeds.empty()) return "no seeds";
  if (seeds.size() == 1) return Format("seed %llu", static_cast<unsigned long long>(seeds[0]));
  return Format("seeds %llu..%llu", static_cast<unsigned long long>(seeds.front()),
                static_cast<unsigned long long>(seeds.back()));
}

}  // namespace

std::string SamplingSuffix(double sampling) {
  return sampling < 1 ? Format("-sampled-%gpct", sampling * 100) : "";
}

namespace {

std::string Title(const Scoreboard& board) {
  const std::string sampled =
      board.sampling < 1 ? Format(", traces sampled at %g %%", board.sampling * 100) : "";
  return Format("%s, trace %s, scenario %s, %s%s, SLO P99 %.0f ms%s", board.app.c_str(),
                board.trace.c_str(), board.scenario.c_str(),
                board.actuation == "policy" ? "" : ("CPU via " + board.actuation + ", ").c_str(),
                SeedsText(board.seeds).c_str(), board.slo * 1e3, sampled.c_str());
}

// How to read the table: what is measured, the statistics and the reference.
std::vector<std::string> Legend(const Scoreboard& board) {
  std::vector<std::string> out;
  if (!board.policies.empty()) {
    const RunResult& r = board.policies.front().seeds.front();
    out.push_back(Format("measured: %.0f min after a %.0f min warm-up",
                         (r.simulated_seconds - r.warmup) / 60, r.warmup / 60));
  }
  const size_t n = board.seeds.size();
  if (n >= 2) {
    out.push_back(Format(
        "values: mean ± half-width of the 95 %% confidence interval over %zu seeds (Student t, "
        "%zu degree%s of freedom, t = %.3f)",
        n, n - 1, n == 2 ? "" : "s", StudentT975(static_cast<int>(n - 1))));
  }
  out.push_back(
      "P99: exact nearest-rank whole-run P99 (unfinished requests count with their age); a "
      "policy passes only if it meets the SLO in every seed");
  std::string candidates;
  for (std::string_view c : kReferenceCandidates) {
    candidates += (candidates.empty() ? "" : ", ") + std::string(c);
  }
  const PolicyRuns* ref = board.Reference();
  out.push_back(
      "x ref, x hpa: core-hours over the reference's and hpa_cpu's in the same seed, averaged; "
      "reference: " +
      (ref ? PolicyLabel(*ref) : std::string("none (no candidate passed in every seed)")) +
      ", the cheapest passing of " + candidates +
      (board.tuned ? " after --tune" : " at their default targets (no --tune)"));
  return out;
}

// --- SVG line charts ---------------------------------------------------------------------------

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// A series over the seeds, point by point: the mean and the range of the seeds that have a
// finite value there (NaN where none has).
struct Band {
  std::vector<double> mean, lo, hi;
};

Band Across(const PolicyRuns& p, const std::vector<double> RunSeries::*member) {
  size_t length = 0;
  for (const RunResult& r : p.seeds) length = std::max(length, (r.series.*member).size());
  Band b;
  for (size_t i = 0; i < length; ++i) {
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    int n = 0;
    for (const RunResult& r : p.seeds) {
      const std::vector<double>& v = r.series.*member;
      if (i >= v.size() || !std::isfinite(v[i])) continue;
      sum += v[i];
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
      ++n;
    }
    b.mean.push_back(n > 0 ? sum / n : kNaN);
    b.lo.push_back(n > 0 ? lo : kNaN);
    b.hi.push_back(n > 0 ? hi : kNaN);
  }
  return b;
}

struct Line {
  std::string label;
  const char* color;
  double step;  // seconds between points
  Band band;
};

// One chart: minutes on x, `lines` on y (log scale when asked), a shaded warm-up and an
// optional dashed reference line (the SLO). Each line is drawn over the band of its seeds.
std::string Chart(const std::string& title, const std::string& unit, const std::vector<Line>& lines,
                  double warmup, double end, bool log_scale, double reference, double scale) {
  constexpr double kW = 760, kH = 240, kLeft = 64, kRight = 12, kTop = 26, kBottom = 34;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto usable = [&](double v) { return std::isfinite(v) && (!log_scale || v > 0); };
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Line& l : lines) {
    for (const std::vector<double>* values : {&l.band.lo, &l.band.hi}) {
      for (double v : *values) {
        if (!usable(v)) continue;
        lo = std::min(lo, v * scale);
        hi = std::max(hi, v * scale);
      }
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
  auto x_of = [&](const Line& l, size_t i) { return tx((static_cast<double>(i) + 0.5) * l.step); };
  // Bands first, so that no line hides under another policy's band: one polygon per run of
  // points where the band is drawable, up along the maximum and back along the minimum.
  for (const Line& l : lines) {
    const Band& b = l.band;
    for (size_t i = 0; i < b.lo.size();) {
      if (!usable(b.lo[i] * scale) || !usable(b.hi[i] * scale)) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < b.lo.size() && usable(b.lo[j] * scale) && usable(b.hi[j] * scale)) ++j;
      std::string points;
      for (size_t k = i; k < j; ++k)
        points += Format("%.1f,%.1f ", x_of(l, k), ty(b.hi[k] * scale));
      for (size_t k = j; k-- > i;) points += Format("%.1f,%.1f ", x_of(l, k), ty(b.lo[k] * scale));
      s += "<polygon points=\"" + points + "\" fill=\"" + l.color + "\" class=\"band\"/>";
      i = j;
    }
  }
  for (const Line& l : lines) {
    std::string path;
    bool pen_down = false;
    for (size_t i = 0; i < l.band.mean.size(); ++i) {
      const double v = l.band.mean[i] * scale;
      if (!usable(v)) {
        pen_down = false;
        continue;
      }
      path += Format("%s%.1f,%.1f ", pen_down ? "L" : "M", x_of(l, i), ty(v));
      pen_down = true;
    }
    s += "<path d=\"" + path + "\" stroke=\"" + l.color + "\" class=\"line\"><title>" +
         common::HtmlEscaped(l.label) + "</title></path>";
  }
  s += "</svg>\n";
  return s;
}

// Display width of UTF-8 text: the bytes that start a character.
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string CsvNumber(double v) { return std::isnan(v) ? "" : Format("%.6g", v); }

}  // namespace

double StudentT975(int degrees_of_freedom) {
  const int nu = std::max(1, degrees_of_freedom);
  // P(|T| ≤ t) for t = √ν tan θ: for odd ν (2/π)(θ + sin θ cos θ Σ), for even ν sin θ Σ, with
  // Σ = Σ_k c_k cos^{2k} θ, c_0 = 1, c_k = c_{k−1}·2k/(2k+1) (odd) or ·(2k−1)/(2k) (even).
  auto central = [nu](double theta) {
    const double c2 = std::cos(theta) * std::cos(theta);
    double sum = 0, term = 1;
    if (nu % 2 == 1) {
      if (nu > 1) {
        for (int k = 0; 2 * k <= nu - 3; ++k) {
          if (k > 0) term *= c2 * (2.0 * k) / (2.0 * k + 1);
          sum += term;
        }
      }
      return 2 / std::numbers::pi * (theta + std::sin(theta) * std::cos(theta) * sum);
    }
    for (int k = 0; 2 * k <= nu - 2; ++k) {
      if (k > 0) term *= c2 * (2.0 * k - 1) / (2.0 * k);
      sum += term;
    }
    return std::sin(theta) * sum;
  };
  double lo = 0, hi = std::numbers::pi / 2;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (central(mid) < 0.95 ? lo : hi) = mid;
  }
  return std::sqrt(static_cast<double>(nu)) * std::tan((lo + hi) / 2);
}

Estimate Estimate95(const std::vector<double>& values) {
  Estimate e;
  e.n = values.size();
  e.half_width = kNaN;
  if (values.empty()) {
    e.mean = e.min = e.max = kNaN;
    return e;
  }
  e.min = *std::min_element(values.begin(), values.end());
  e.max = *std::max_element(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  e.mean = sum / static_cast<double>(e.n);
  if (e.n >= 2) {
    double squares = 0;
    for (double v : values) squares += (v - e.mean) * (v - e.mean);
    const double sd = std::sqrt(squares / static_cast<double>(e.n - 1));
    e.half_width =
        StudentT975(static_cast<int>(e.n - 1)) * sd / std::sqrt(static_cast<double>(e.n));
  }
  return e;
}

int PolicyRuns::passes() const {
  return static_cast<int>(
      std::count_if(seeds.begin(), seeds.end(), [](const RunResult& r) { return r.summary.pass; }));
}

const PolicyRuns* Scoreboard::Find(std::string_view name) const {
  for (const PolicyRuns& p : policies) {
    if (!p.seeds.empty() && p.name() == name) return &p;
  }
  return nullptr;
}

const PolicyRuns* Scoreboard::Reference() const {
  const PolicyRuns* best = nullptr;
  double best_cost = 0;
  for (std::string_view name : kReferenceCandidates) {
    const PolicyRuns* p = Find(name);
    if (!p || !p->pass()) continue;
    const double cost =
        Estimate95(Values(*p, [](const RunSummary& s) { return s.core_hours; })).mean;
    if (!best || cost < best_cost) best = p, best_cost = cost;
  }
  return best;
}

std::string FormatScoreboard(const Scoreboard& board) {
  const PolicyRuns* reference = board.Reference();
  const PolicyRuns* hpa = board.Find(kBaselinePolicy);
  std::vector<std::vector<std::string>> rows = {Header()};
  for (const PolicyRuns& p : board.policies) rows.push_back(Cells(p, reference, hpa));
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  }
  std::string out = Title(board) + "\n";
  for (const std::string& l : Legend(board)) out += l + "\n";
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      const size_t pad = width[c] - Width(row[c]);
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
  const PolicyRuns* reference = board.Reference();
  const PolicyRuns* hpa = board.Find(kBaselinePolicy);
  const std::string ref_name = reference ? reference->name() : "";
  std::string out =
      "app,trace,scenario,seed,policy,setting,requests,core_hours,core_hours_vs_reference,"
      "core_hours_vs_hpa,reference,usage_core_hours,p50_seconds,p99_seconds,slo_seconds,pass,"
      "violation_minutes,minutes,throttled_ratio,scaling_actions,cgroup_writes,mean_replicas,"
      "pending_pod_minutes\n";
  for (const PolicyRuns& p : board.policies) {
    const std::vector<double> vs_ref = CoreHourRatios(p, reference);
    const std::vector<double> vs_hpa = CoreHourRatios(p, hpa);
    for (size_t i = 0; i < p.seeds.size(); ++i) {
      const RunSummary& s = p.seeds[i].summary;
      out += board.app + "," + board.trace + "," + board.scenario + "," +
             std::to_string(i < board.seeds.size() ? board.seeds[i] : 0) + "," + s.policy + "," +
             s.setting + "," + std::to_string(s.requests) + ",";
      out += Format("%.6f,", s.core_hours) + (i < vs_ref.size() ? CsvNumber(vs_ref[i]) : "") + "," +
             (i < vs_hpa.size() ? CsvNumber(vs_hpa[i]) : "") + "," + ref_name + ",";
      out += Format("%.6f,%.6f,%.6f,%.6f,%s,%d,%d,%.6g,%llu,%llu,%.3f,%.3f\n", s.usage_core_hours,
                    s.p50, s.p99, s.slo, s.pass ? "true" : "false", s.violation_minutes, s.minutes,
                    s.throttled_ratio, static_cast<unsigned long long>(s.scaling_actions),
                    static_cast<unsigned long long>(s.cgroup_writes), s.mean_replicas,
                    s.pending_pod_minutes);
    }
  }
  return out;
}

std::string ScoreboardSummaryCsv(const Scoreboard& board) {
  const PolicyRuns* reference = board.Reference();
  const PolicyRuns* hpa = board.Find(kBaselinePolicy);
  std::vector<std::string> stems = {"core_hours_vs_reference", "core_hours_vs_hpa"};
  for (const Metric& m : Metrics()) stems.push_back(m.csv);
  std::string out = "app,trace,scenario,policy,setting,seeds,passes,pass,reference";
  for (const std::string& stem : stems) {
    for (const char* suffix : {"_mean", "_ci95", "_min", "_max"}) out += "," + stem + suffix;
  }
  out += "\n";
  for (const PolicyRuns& p : board.policies) {
    out += board.app + "," + board.trace + "," + board.scenario + "," + p.name() + "," +
           p.setting() + "," + std::to_string(p.seeds.size()) + "," + std::to_string(p.passes()) +
           "," + (p.pass() ? "true" : "false") + "," + (reference ? reference->name() : "");
    std::vector<std::vector<double>> columns = {CoreHourRatios(p, reference),
                                                CoreHourRatios(p, hpa)};
    for (const Metric& m : Metrics()) columns.push_back(Values(p, m.get));
    for (const std::vector<double>& values : columns) {
      const Estimate e = Estimate95(values);
      out += "," + CsvNumber(e.mean) + "," + CsvNumber(e.half_width) + "," + CsvNumber(e.min) +
             "," + CsvNumber(e.max);
    }
    out += "\n";
  }
  return out;
}

std::string ScoreboardHtml(const Scoreboard& board) {
  const PolicyRuns* reference = board.Reference();
  const PolicyRuns* hpa = board.Find(kBaselinePolicy);
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>queuelens-sim: " +
      common::HtmlEscaped(Title(board)) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:24px;color:#222}\n"
      "table{border-collapse:collapse;font-size:13px}\n"
      "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "td.fail{color:#b00;font-weight:bold}\n"
      "p.legend{font-size:13px;color:#444;margin:2px 0}\n"
      "svg{display:block;margin:18px 0}\n"
      ".t{font-size:14px;font-weight:bold}.ax{font-size:11px;fill:#555}\n"
      ".frame{fill:none;stroke:#999}.warm{fill:#eee}.grid{stroke:#e4e4e4}\n"
      ".ref{stroke:#b00;stroke-dasharray:5 4}.line{fill:none;stroke-width:1.5}\n"
      ".band{fill-opacity:0.15;stroke:none}\n"
      ".key span{display:inline-block;margin-right:14px}"
      ".key i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}\n"
      "</style></head><body>\n<h1>queuelens-sim scoreboard</h1>\n<p>" +
      common::HtmlEscaped(Title(board)) + "</p>\n";
  for (const std::string& l : Legend(board)) {
    h += "<p class=\"legend\">" + common::HtmlEscaped(l) + "</p>\n";
  }
  h += "<table>\n<tr>";
  for (const std::string& c : Header()) h += "<th>" + common::HtmlEscaped(c) + "</th>";
  h += "</tr>\n";
  for (const PolicyRuns& p : board.policies) {
    h += "<tr>";
    const auto cells = Cells(p, reference, hpa);
    for (size_t c = 0; c < cells.size(); ++c) {
      h += (c == kPassColumn && !p.pass()) ? "<td class=\"fail\">" : "<td>";
      h += common::HtmlEscaped(cells[c]) + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n";
  for (const std::string& n : board.notes) h += "<p>Note: " + common::HtmlEscaped(n) + "</p>\n";

  h += "<p class=\"key\">";
  std::vector<Line> throughput, replicas, cores, pending, p99;
  for (size_t i = 0; i < board.policies.size(); ++i) {
    const PolicyRuns& p = board.policies[i];
    const char* color = kColors[i % std::size(kColors)];
    const std::string label = PolicyLabel(p);
    const double step = p.seeds.front().series.step;
    h += "<span><i style=\"background:" + std::string(color) + "\"></i>" +
         common::HtmlEscaped(label) + "</span>";
    throughput.push_back({label, color, step, Across(p, &RunSeries::throughput)});
    replicas.push_back({label, color, step, Across(p, &RunSeries::replicas)});
    cores.push_back({label, color, step, Across(p, &RunSeries::cores)});
    pending.push_back({label, color, step, Across(p, &RunSeries::pending_pods)});
    p99.push_back({label, color, 60, Across(p, &RunSeries::p99_minutes)});
  }
  h += "</p>\n";
  if (board.seeds.size() >= 2) {
    h += "<p class=\"legend\">Lines: the mean over the seeds; shaded: from the seeds' minimum to "
         "their maximum.</p>\n";
  }
  const RunResult* first = board.policies.empty() ? nullptr : &board.policies.front().seeds.front();
  const double warmup = first ? first->warmup : 0;
  const double end = first ? first->simulated_seconds : 1;
  h += Chart("Throughput", "requests/s", throughput, warmup, end, false, 0, 1);
  h += Chart("Replicas (all services)", "pods", replicas, warmup, end, false, 0, 1);
  h += Chart("Allocated CPU (sum of limits)", "cores", cores, warmup, end, false, 0, 1);
  h += Chart("Pending pods (no node with room)", "pods", pending, warmup, end, false, 0, 1);
  h += Chart("End-to-end P99 per minute (dashed: SLO)", "ms (log)", p99, warmup, end, true,
             board.slo, 1e3);
  h += "</body></html>\n";
  return h;
}

}  // namespace sim
