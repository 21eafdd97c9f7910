#include "sim/workload.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "common/flags.h"

namespace sim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseNumber(std::string_view s, double& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out) && out >= 0;
}

}  // namespace

double RateTrace::RateAt(double t) const {
  if (t < 0 || rates.empty()) return 0;
  const auto i = static_cast<size_t>(t / step);
  return i < rates.size() ? rates[i] : 0;
}

double RateTrace::Mean() const {
  double sum = 0;
  for (double r : rates) sum += r;
  return rates.empty() ? 0 : sum / static_cast<double>(rates.size());
}

TraceFormat FormatForPath(std::string_view path) {
  if (path.ends_with(".req")) return TraceFormat::kDeepScaler;
  if (path.ends_with(".csv")) return TraceFormat::kWikiCsv;
  return TraceFormat::kAutothrottle;
}

TraceParseResult ParseTrace(std::string_view text, TraceFormat format) {
  TraceParseResult r;
  r.trace.step = format == TraceFormat::kDeepScaler ? 5 : 1;
  size_t line_no = 0;
  bool header_seen = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::string_view value = line;
    if (format == TraceFormat::kWikiCsv) {
      if (!header_seen) {  // ",count"
        header_seen = true;
        continue;
      }
      const size_t comma = line.find(',');
      if (comma == std::string_view::npos) {
        r.error = "line " + std::to_string(line_no) + ": expected index,count";
        return r;
      }
      value = Trim(line.substr(comma + 1));
    }
    double v = 0;
    if (!ParseNumber(value, v)) {
      r.error = "line " + std::to_string(line_no) + ": not a non-negative number: \"" +
                std::string(value) + "\"";
      return r;
    }
    r.trace.rates.push_back(v);
  }
  if (r.trace.rates.empty()) r.error = "no rates";
  return r;
}

RateTrace WithWarmup(const RateTrace& trace, double seconds) {
  RateTrace out;
  out.step = trace.step;
  const double r0 = trace.rates.empty() ? 0 : trace.rates.front();
  const auto steps = static_cast<int>(std::lround(seconds / trace.step));
  for (int i = 0; i < steps; ++i) {
    const double t = i * trace.step - seconds;
    out.rates.push_back(std::max(1.0, std::round(r0 * std::pow(1.1, t / 5))));
  }
  out.rates.insert(out.rates.end(), trace.rates.begin(), trace.rates.end());
  return out;
}

RateTrace Scaled(const RateTrace& trace, double multiplier) {
  RateTrace out = trace;
  for (double& r : out.rates) r *= multiplier;
  return out;
}

RateTrace LoadTrace(const std::string& spec, double multiplier, double constant_rps) {
  if (spec == "constant" || spec.starts_with("constant:")) {
    double rate = constant_rps;
    double duration = 3600;
    std::string_view rest = std::string_view(spec).substr(std::min(spec.size(), size_t{9}));
    if (!rest.empty()) {
      const size_t colon = rest.find(':');
      if (!ParseNumber(rest.substr(0, colon), rate)) {
        throw std::invalid_argument("--trace " + spec + ": bad rate");
      }
      if (colon != std::string_view::npos) {
        const auto d = common::ParseDuration(rest.substr(colon + 1));
        if (!d || *d < std::chrono::seconds{1}) {
          throw std::invalid_argument("--trace " + spec + ": bad duration");
        }
        duration = common::ToSeconds(*d);
      }
    }
    RateTrace t;
    t.rates.assign(static_cast<size_t>(std::ceil(duration)), rate);
    return t;
  }
  std::ifstream in(spec, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read trace file " + spec);
  std::ostringstream text;
  text << in.rdbuf();
  TraceParseResult r = ParseTrace(text.str(), FormatForPath(spec));
  if (!r.error.empty()) throw std::invalid_argument(spec + ": " + r.error);
  return Scaled(r.trace, multiplier);
}

ArrivalProcess::ArrivalProcess(RateTrace trace, const std::vector<double>& weights, uint64_t seed)
    : trace_(std::move(trace)), rng_(seed) {
  double total = 0;
  for (double w : weights) total += w;
  double running = 0;
  for (double w : weights) cumulative_.push_back((running += w) / total);
  if (!cumulative_.empty()) cumulative_.back() = 1;
}

ArrivalProcess::Arrival ArrivalProcess::Next() {
  // Exponential gaps at the current step's rate; a gap that crosses the step's end restarts at
  // the next step with its rate, which the memoryless property makes exact.
  while (step_ < trace_.rates.size()) {
    const double end = trace_.step * static_cast<double>(step_ + 1);
    const double rate = trace_.rates[step_];
    if (rate > 0) {
      const double next = t_ + rng_.Exponential(1 / rate);
      if (next < end) {
        t_ = next;
        Arrival a;
        a.time = next;
        const double u = rng_.Uniform();
        while (a.type + 1 < cumulative_.size() && u >= cumulative_[a.type]) ++a.type;
        a.seed = rng_.Next();
        return a;
      }
    }
    t_ = end;
    ++step_;
  }
  return {std::numeric_limits<double>::infinity(), 0, 0};
}

}  // namespace sim
