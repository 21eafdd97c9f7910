#include "sim/tracegen.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "sim/random.h"

namespace sim {
namespace {

// Multiplicative noise exp(x) with x an AR(1) process: correlation `rho` from one second to the
// next, stationary standard deviation `sigma`.
class Noise {
 public:
  Noise(Rng& rng, double sigma, double rho) : rng_(rng), sigma_(sigma), rho_(rho) {}
  double Next() {
    x_ = rho_ * x_ + sigma_ * std::sqrt(1 - rho_ * rho_) * rng_.Normal();
    return std::exp(x_);
  }

 private:
  Rng& rng_;
  double sigma_, rho_, x_ = 0;
};

double Between(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.Uniform(); }

// Start times of a Poisson process with mean gap `gap` over [0, seconds).
std::vector<double> PoissonTimes(Rng& rng, double gap, double seconds) {
  std::vector<double> out;
  for (double t = rng.Exponential(gap); t < seconds; t += rng.Exponential(gap)) out.push_back(t);
  return out;
}

}  // namespace

std::optional<TraceKind> ParseTraceKind(std::string_view name) {
  if (name == "diurnal") return TraceKind::kDiurnal;
  if (name == "bursty") return TraceKind::kBursty;
  if (name == "spiky") return TraceKind::kSpiky;
  if (name == "ramp") return TraceKind::kRamp;
  return std::nullopt;
}

RateTrace GenerateTrace(TraceKind kind, uint64_t seed, int minutes) {
  Rng rng(DeriveSeed(seed, static_cast<uint64_t>(kind) + 1));
  const auto n = static_cast<size_t>(std::max(0, minutes)) * 60;
  const double seconds = static_cast<double>(n);
  const double base = Between(rng, 150, 250);
  std::vector<double> shape(n, 1.0);
  double sigma = 0.03, rho = 0.95;
  constexpr double kTwoPi = 2 * std::numbers::pi;

  switch (kind) {
    case TraceKind::kDiurnal: {
      const double period = Between(rng, 25, 40) * 60;
      const double phase = Between(rng, 0, kTwoPi), phase2 = Between(rng, 0, kTwoPi);
      for (size_t i = 0; i < n; ++i) {
        const double x = kTwoPi * static_cast<double>(i) / period;
        shape[i] = 1 + 0.45 * std::sin(x + phase) + 0.15 * std::sin(2 * x + phase2);
      }
      sigma = 0.04, rho = 0.98;
      break;
    }
    case TraceKind::kBursty: {
      for (double start : PoissonTimes(rng, 180, seconds)) {
        const double height = Between(rng, 0.8, 1.6);
        const double rise = Between(rng, 5, 15), decay = Between(rng, 20, 60);
        for (size_t i = static_cast<size_t>(start); i < n; ++i) {
          const double age = static_cast<double>(i) - start;
          const double h =
              age < rise ? height * age / rise : height * std::exp(-(age - rise) / decay);
          if (h < 1e-3 && age > rise) break;
          shape[i] += h;
        }
      }
      sigma = 0.08, rho = 0.9;
      break;
    }
    case TraceKind::kSpiky: {
      for (double start : PoissonTimes(rng, 120, seconds)) {
        const double height = Between(rng, 1.8, 2.8);
        const auto length = static_cast<size_t>(Between(rng, 2, 9));  // 2–8 s
        const auto from = static_cast<size_t>(start);
        for (size_t i = from; i < std::min(n, from + length); ++i) {
          shape[i] = std::max(shape[i], height);
        }
      }
      break;
    }
    case TraceKind::kRamp: {
      // Fractions of the run: flat low, climb, plateau, drop, low tail.
      const double climb_start = Between(rng, 0.05, 0.15), climb_end = Between(rng, 0.45, 0.55);
      const double drop_start = Between(rng, 0.6, 0.7), drop_end = drop_start + 0.05;
      for (size_t i = 0; i < n; ++i) {
        const double f = static_cast<double>(i) / std::max(1.0, seconds);
        double level = 0.5;
        if (f >= climb_start && f < climb_end) {
          level = 0.5 + 1.3 * (f - climb_start) / (climb_end - climb_start);
        } else if (f >= climb_end && f < drop_start) {
          level = 1.8;
        } else if (f >= drop_start && f < drop_end) {
          level = 1.8 - 1.3 * (f - drop_start) / (drop_end - drop_start);
        }
        shape[i] = level;
      }
      break;
    }
  }

  Noise noise(rng, sigma, rho);
  RateTrace trace;
  trace.step = 1;
  trace.rates.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    trace.rates.push_back(std::max(1.0, std::round(base * shape[i] * noise.Next())));
  }
  return trace;
}

std::string FormatAutothrottleTrace(const RateTrace& trace) {
  std::string out;
  out.reserve(trace.rates.size() * 4);
  for (double r : trace.rates) {
    out += std::to_string(static_cast<long long>(std::llround(r)));
    out += '\n';
  }
  return out;
}

}  // namespace sim
