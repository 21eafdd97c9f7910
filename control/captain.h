#pragma once

#include <array>
#include <limits>

#include "common/clock.h"

namespace control {

// ---------------------------------------------------------------------------------------------
// Captain: Autothrottle's per-container CPU-limit controller on the CFS throttled-period ratio.
// Independent of the recommender's model so the exporter (one state per container, on each node)
// and the simulator can run it on their own 100 ms samples.
//
// Every tick (one CFS period of 100 ms), with target t set by the Tower:
//   d_thr = Δnr_throttled, pushed into a ring of 10 (zeroed at every decision)
//   u     = Δcpu_usage_seconds / Δt, pushed into a ring of 50 (5 s of usage)
//   r     = Σ ring / 10                                    throttled fraction since the decision
//   fast rollback, checked on every tick: if r > 3t and the last decision was a scale-down,
//     limit = 2·last_limit − limit, margin += r − t, zero the ring
// Every decision (≥ 1 s after the previous one):
//   last_limit = limit;  margin = max(0, margin + (r − t))
//   scale-up   if r > 3t:  limit ×= 1 + (r − 3t)
//   scale-down otherwise:  ulim = umax + σ·margin (σ = sample stdev of the usage ring);
//                          if ulim ≤ 0.9·limit: limit = max(0.5·limit, ulim)
//   zero the throttle ring;  limit = max(0.01, limit)
// With t = 0 any throttling scales up. A counter that goes backwards (container restart) gives a
// zero throttle delta and no usage sample for that tick.
// ---------------------------------------------------------------------------------------------

struct CaptainOptions {
  double initial_limit_cores = 32;  // Autothrottle starts each container at the node's vCPUs
  double initial_margin = 3;        // in units of σ
  double min_limit_cores = 0.01;    // the smallest CFS quota (1 ms per 100 ms)
  common::Duration decision_interval = std::chrono::seconds{1};
};

inline constexpr int kCaptainThrottleRing = 10;  // ticks per decision
inline constexpr int kCaptainUsageRing = 50;     // 5 s of 100 ms usage samples

// Cumulative cgroup counters at one tick (cgroup v2 cpu.stat usage_usec/1e6 and nr_throttled).
struct CaptainSample {
  common::TimePoint t{};
  double cpu_usage_seconds_total = 0;
  double nr_throttled_total = 0;
};

struct CaptainState {
  double limit = 32;
  double last_limit = 32;
  double margin = 3;
  bool last_scale_down = false;
  bool started = false;  // a first sample has been seen
  CaptainSample previous;
  common::TimePoint last_decision{};
  std::array<double, kCaptainThrottleRing> throttled{};
  int throttled_next = 0;
  std::array<double, kCaptainUsageRing> usage{};
  int usage_count = 0;  // filled entries, ≤ kCaptainUsageRing
  int usage_next = 0;
};

CaptainState MakeCaptainState(const CaptainOptions& options = {});

enum class CaptainAction { kHold, kScaleUp, kScaleDown, kRollback };
const char* CaptainActionName(CaptainAction action);

// The tick's outcome and every term of the rules above (NaN where the tick did not compute it).
struct CaptainDecision {
  double limit = 0;  // cores, the limit to apply now
  CaptainAction action = CaptainAction::kHold;
  bool decided = false;  // a 1 s decision ran on this tick
  double throttled_ratio = 0;
  double usage_max = std::numeric_limits<double>::quiet_NaN();
  double usage_stdev = std::numeric_limits<double>::quiet_NaN();
  double usage_limit = std::numeric_limits<double>::quiet_NaN();  // umax + σ·margin
  double margin = 0;
};

// One 100 ms tick. Pure apart from `state`; `target` is the Tower's throttle-ratio target.
CaptainDecision CaptainStep(CaptainState& state, const CaptainSample& sample, double target,
                            const CaptainOptions& options = {});

}  // namespace control
