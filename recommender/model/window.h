#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace recommender::model {

// A fixed-capacity window of timestamped samples, oldest first; the oldest sample is dropped when
// a new one arrives at capacity. Non-finite, duplicate and out-of-order samples are discarded, so
// a replayed or restored sample never counts twice. Statistics take `since` and look only at
// samples at or after it; with no such sample they return NaN.
class Window {
 public:
  struct Point {
    common::TimePoint t;
    double v = 0;
  };

  explicit Window(size_t capacity);

  // False when the sample was discarded.
  bool Add(common::TimePoint t, double v);

  size_t size() const { return size_; }
  size_t capacity() const { return ring_.size(); }
  bool empty() const { return size_ == 0; }
  std::optional<Point> Latest() const;
  // Samples at or after `since`, oldest first.
  std::vector<Point> Points(common::TimePoint since = common::TimePoint::min()) const;
  std::vector<double> Values(common::TimePoint since = common::TimePoint::min()) const;

  double Mean(common::TimePoint since) const;
  double Stddev(common::TimePoint since) const;  // population σ, as SHOWAR's 3σ rule uses
  double Max(common::TimePoint since) const;
  // Linear interpolation between closest ranks; q in [0, 1].
  double Percentile(double q, common::TimePoint since) const;
  // Least-squares slope in units per second.
  double Slope(common::TimePoint since) const;

 private:
  const Point& At(size_t i) const { return ring_[(head_ + i) % ring_.size()]; }
  size_t FirstSince(common::TimePoint since) const;

  std::vector<Point> ring_;
  size_t head_ = 0;  // index of the oldest sample
  size_t size_ = 0;
};

}  // namespace recommender::model
