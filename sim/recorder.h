#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sim/run.h"
#include "sim/simulation.h"

namespace sim {

inline constexpr double kTick = 0.1;  // seconds: the CFS period, the Captains' and the runs' tick

// The nearest-rank q-quantile of `values`: the ⌈q·n⌉-th smallest (the smallest when q·n ≤ 1),
// an observed value, so "P99 ≤ SLO" holds exactly when at least 99 % of the values meet the SLO.
// Reorders `values` (nth_element, linear time). NaN when empty; q in (0, 1].
double NearestRankQuantile(std::vector<double>& values, double q);

// Measures a run the way Autothrottle's evaluation does: latencies of the requests sent after the
// warm-up, allocation as the time-weighted sum of the pods' CPU limits after it (a pod without a
// quota allocates its whole node), the throttled-period ratio over every container. Also keeps
// the time series of the whole run for the report.
//
// Latencies are kept, one double per request, so that the SLO verdicts (whole-run and per-minute
// P99) are exact order statistics: about 8 bytes per request, 80 MB for an hour at 3000 req/s.
class Recorder final : public RequestListener {
 public:
  Recorder(Simulation& sim, double warmup, double step);

  void OnRequestDone(uint32_t type, double start, double end) override;
  // Every kTick, after the simulation reached t.
  void Tick(double t);

  // Requests still unfinished at the end count with their age then, so a policy that leaves
  // requests stuck is not measured on the lucky ones alone. Call once, at the end.
  void AddUnfinished(double end);
  // Everything but the policy's name, setting and scaling actions.
  RunSummary Summary(double end) const;
  RunSeries Series() const;

 private:
  struct Point {
    double finished = 0, pods = 0, pending = 0, alloc = 0, usage = 0;
  };
  Point& Bin(double t);
  void AddLatency(double start, double latency);

  Simulation& sim_;
  double warmup_;
  double step_;
  size_t first_full_minute_;  // the first minute that starts at or after the warm-up's end
  // Latencies by the minute their request was sent in, warm-up included.
  std::vector<std::vector<double>> minutes_;
  // Requests sent after the warm-up in the minute it ends in, when it ends inside one.
  std::vector<double> warmup_minute_tail_;
  std::vector<Point> bins_;
  std::unordered_map<uint32_t, ContainerCounters> last_;
  double alloc_area_ = 0, usage_area_ = 0, pods_area_ = 0, pending_area_ = 0;
  uint64_t periods_ = 0, throttled_ = 0;
};

}  // namespace sim
