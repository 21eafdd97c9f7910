#include "recommender/input/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace recommender::input {

double HistogramQuantile(double q, std::vector<HistogramBucket> buckets) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(buckets.begin(), buckets.end(), [](const HistogramBucket& a, const HistogramBucket& b) {
    return a.upper_bound < b.upper_bound;
  });
  if (buckets.size() < 2 || buckets.back().upper_bound != kInf) return kNaN;
  for (size_t i = 1; i < buckets.size(); ++i) {
    buckets[i].count = std::max(buckets[i].count, buckets[i - 1].count);
  }
  const double total = buckets.back().count;
  if (!(total > 0)) return kNaN;
  const double rank = q * total;
  size_t b = 0;
  while (b + 1 < buckets.size() && buckets[b].count < rank) ++b;
  if (b == buckets.size() - 1) return buckets[b - 1].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  const double start = b == 0 ? 0 : buckets[b - 1].upper_bound;
  const double below = b == 0 ? 0 : buckets[b - 1].count;
  const double in_bucket = buckets[b].count - below;
  if (in_bucket <= 0) return buckets[b].upper_bound;
  return start + (buckets[b].upper_bound - start) * (rank - below) / in_bucket;
}

}  // namespace recommender::input
