#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/random.h"

// Open-loop request arrivals at the rate of a workload trace.
namespace sim {

// A request rate held constant over consecutive steps of `step` seconds.
struct RateTrace {
  double step = 1;
  std::vector<double> rates;  // requests/s

  double duration() const { return step * static_cast<double>(rates.size()); }
  double RateAt(double t) const;  // 0 outside the trace
  double Mean() const;
};

enum class TraceFormat {
  kAutothrottle,  // one integer per line: requests/s for each second (traces/*.txt)
  kDeepScaler,    // one integer per line: Locust users for 5 s, each ≈ 1 request/s (*.req)
  kWikiCsv,       // "index,count" rows after a header: one row per second (ScalerEval wiki.csv)
};

// By extension: .req DeepScaler, .csv wiki, anything else Autothrottle.
TraceFormat FormatForPath(std::string_view path);

struct TraceParseResult {
  RateTrace trace;
  std::string error;  // empty on success
};
// Pure. Blank lines and a trailing newline are ignored; a negative or non-numeric value is an
// error naming its line.
TraceParseResult ParseTrace(std::string_view text, TraceFormat format);

// Autothrottle's warm-up (evaluation.py): `seconds` steps before the trace growing ×1.1 every 5 s
// up to its first value, rps_i = round(r0 · 1.1^((i − seconds) / 5)), at least 1.
RateTrace WithWarmup(const RateTrace& trace, double seconds);

RateTrace Scaled(const RateTrace& trace, double multiplier);

// The trace --trace names: "constant" (constant_rps for an hour), "constant:RATE",
// "constant:RATE:DURATION", or a file whose rates are multiplied by `multiplier`.
// Throws std::invalid_argument on an unreadable file or a parse error.
RateTrace LoadTrace(const std::string& spec, double multiplier, double constant_rps);

// A non-homogeneous Poisson process following a RateTrace, each arrival with a request type drawn
// from `weights` and a seed for everything random inside the request. The stream depends only on
// the trace, the weights and the seed, so every policy sees the same arrivals.
class ArrivalProcess {
 public:
  struct Arrival {
    double time = 0;  // kInfinity after the trace ends
    uint32_t type = 0;
    uint64_t seed = 0;
  };

  ArrivalProcess(RateTrace trace, const std::vector<double>& weights, uint64_t seed);
  Arrival Next();

 private:
  RateTrace trace_;
  std::vector<double> cumulative_;  // normalised cumulative weights
  Rng rng_;
  double t_ = 0;
  size_t step_ = 0;
};

}  // namespace sim
