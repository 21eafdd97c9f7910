#pragma once

#include <vector>

namespace recommender::input {

struct HistogramBucket {
  double upper_bound = 0;  // le; +Inf for the last bucket
  double count = 0;        // cumulative
};

// PromQL's histogram_quantile over cumulative buckets in any order: linear interpolation inside
// the bucket holding rank q·count, the lower bound of the first bucket taken as 0, and the
// highest finite bound when the rank falls in the +Inf bucket. NaN without a +Inf bucket or
// with no observations; counts that decrease with le are raised to keep them monotonic, as
// Prometheus does for buckets read at slightly different times.
double HistogramQuantile(double q, std::vector<HistogramBucket> buckets);

}  // namespace recommender::input
