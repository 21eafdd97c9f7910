#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/workload.h"

// Synthetic workload traces with shapes unlike the bundled ones, so that policies can be scored
// on traces they were not tuned on.
namespace sim {

enum class TraceKind {
  kDiurnal,  // two harmonics with a 25–40 min period: several deep cycles per hour
  kBursty,   // a noisy base with bursts (Poisson, ~3 min apart) that rise in seconds, decay in ~1
             // min
  kSpiky,  // a flat base with 2–8 s flash crowds of 1.8–2.8× (~2 min apart): shorter than a sync
  kRamp,  // a long climb to 1.8× the base, a plateau, a sharp drop, a low tail
};

// "diurnal", "bursty", "spiky" or "ramp".
std::optional<TraceKind> ParseTraceKind(std::string_view name);

// `minutes` of requests/s for each second (integers ≥ 1), at the bundled traces' scale (a base of
// 150–250 req/s drawn from the seed) so that the app's trace_multiplier applies. The same kind,
// seed and length give the same trace with any standard library.
RateTrace GenerateTrace(TraceKind kind, uint64_t seed, int minutes);

// The Autothrottle text format LoadTrace reads from a .txt file: one rate per line.
std::string FormatAutothrottleTrace(const RateTrace& trace);

}  // namespace sim
