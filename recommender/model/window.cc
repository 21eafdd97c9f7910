#include "recommender/model/window.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace recommender::model {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

Window::Window(size_t capacity) : ring_(capacity) { assert(capacity > 0); }

bool Window::Add(common::TimePoint t, double v) {
  if (!std::isfinite(v)) return false;
  if (size_ > 0 && t <= At(size_ - 1).t) return false;
  if (size_ < ring_.size()) {
    ring_[(head_ + size_) % ring_.size()] = {t, v};
    ++size_;
  } else {
    ring_[head_] = {t, v};
    head_ = (head_ + 1) % ring_.size();
  }
  return true;
}

std::optional<Window::Point> Window::Latest() const {
  if (size_ == 0) return std::nullopt;
  return At(size_ - 1);
}

size_t Window::FirstSince(common::TimePoint since) const {
  // Samples are in time order: binary search over the ring's logical indices.
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (At(mid).t < since) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::vector<Window::Point> Window::Points(common::TimePoint since) const {
  std::vector<Point> out;
  const size_t first = FirstSince(since);
  out.reserve(size_ - first);
  for (size_t i = first; i < size_; ++i) out.push_back(At(i));
  return out;
}

std::vector<double> Window::Values(common::TimePoint since) const {
  std::vector<double> out;
  const size_t first = FirstSince(since);
  out.reserve(size_ - first);
  for (size_t i = first; i < size_; ++i) out.push_back(At(i).v);
  return out;
}

double Window::Mean(common::TimePoint since) const {
  const size_t first = FirstSince(since);
  if (first == size_) return kNaN;
  double sum = 0;
  for (size_t i = first; i < size_; ++i) sum += At(i).v;
  return sum / static_cast<double>(size_ - first);
}

double Window::Stddev(common::TimePoint since) const {
  const double mean = Mean(since);
  if (std::isnan(mean)) return kNaN;
  const size_t first = FirstSince(since);
  double sq = 0;
  for (size_t i = first; i < size_; ++i) sq += (At(i).v - mean) * (At(i).v - mean);
  return std::sqrt(sq / static_cast<double>(size_ - first));
}

double Window::Max(common::TimePoint since) const {
  const size_t first = FirstSince(since);
  if (first == size_) return kNaN;
  double m = At(first).v;
  for (size_t i = first + 1; i < size_; ++i) m = std::max(m, At(i).v);
  return m;
}

double Window::Percentile(double q, common::TimePoint since) const {
  std::vector<double> v = Values(since);
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

double Window::Slope(common::TimePoint since) const {
  const size_t first = FirstSince(since);
  const size_t n = size_ - first;
  if (n < 2) return kNaN;
  // Times relative to the first sample keep the sums well conditioned.
  const common::TimePoint t0 = At(first).t;
  double st = 0, sv = 0, stt = 0, stv = 0;
  for (size_t i = first; i < size_; ++i) {
    const double t = common::ToSeconds(At(i).t - t0);
    st += t;
    sv += At(i).v;
    stt += t * t;
    stv += t * At(i).v;
  }
  const double dn = static_cast<double>(n);
  const double denom = dn * stt - st * st;
  if (denom <= 0) return kNaN;
  return (dn * stv - st * sv) / denom;
}

}  // namespace recommender::model
