#include "recommender/policies/vpa.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

// VPA renormalises once a weight's exponent would pass 2^100 (maxDecayExponent).
constexpr int kMaxDecayExponent = 100;
// VPA assumes one sample a minute when it turns a sample count into days.
constexpr double kSamplesPerDay = 24 * 60;

double Epsilon(const VpaOptions& o) { return 0.001 * o.min_sample_weight; }

// a / b in floating point (a duration quotient is integral).
double Ratio(common::Duration a, common::Duration b) {
  return static_cast<double>(a.count()) / static_cast<double>(b.count());
}

// t rounded to the nearest multiple of `step` (halfway rounds up).
common::TimePoint RoundTo(common::TimePoint t, common::Duration step) {
  const int64_t ns = t.time_since_epoch().count();
  const int64_t h = step.count();
  int64_t r = ns / h * h;
  if ((ns - r) * 2 >= h) r += h;
  return common::TimePoint{common::Duration{r}};
}

void UpdateMinMax(VpaMemory& m, const VpaOptions& o) {
  const int last = static_cast<int>(m.weights.size()) - 1;
  while (m.weights[m.min_bucket] < Epsilon(o) && m.min_bucket < last) ++m.min_bucket;
  while (m.weights[m.max_bucket] < Epsilon(o) && m.max_bucket > 0) --m.max_bucket;
}

// The weight multiplier of a sample at t, moving the reference forward first when needed.
double DecayFactor(VpaMemory& m, common::TimePoint t, const VpaOptions& o) {
  if (t > m.reference + kMaxDecayExponent * o.half_life) {
    const common::TimePoint ref = RoundTo(t, o.half_life);
    const double exponent = std::floor(Ratio(m.reference - ref, o.half_life) + 0.5);
    const double scale = std::ldexp(1.0, static_cast<int>(std::max(exponent, -2000.0)));
    for (int b = m.min_bucket; b <= m.max_bucket; ++b) m.weights[b] *= scale;
    m.total_weight *= scale;
    UpdateMinMax(m, o);
    m.reference = ref;
  }
  return std::exp2(Ratio(t - m.reference, o.half_life));
}

}  // namespace

int VpaBucketCount(const VpaOptions& o) {
  const double r = o.bucket_ratio;
  return static_cast<int>(
             std::ceil(std::log(o.max_cores * (r - 1) / o.first_bucket_cores + 1) / std::log(r))) +
         1;
}

int VpaFindBucket(double value, const VpaOptions& o) {
  if (!(value >= o.first_bucket_cores)) return 0;
  const double r = o.bucket_ratio;
  const int bucket =
      static_cast<int>(std::log(value * (r - 1) / o.first_bucket_cores + 1) / std::log(r));
  return std::min(bucket, VpaBucketCount(o) - 1);
}

double VpaBucketStart(int bucket, const VpaOptions& o) {
  if (bucket <= 0) return 0;
  return o.first_bucket_cores * (std::pow(o.bucket_ratio, bucket) - 1) / (o.bucket_ratio - 1);
}

void VpaAddSample(VpaMemory& m, double value, double count, common::TimePoint t,
                  const VpaOptions& o) {
  if (m.weights.empty()) {
    m.weights.assign(static_cast<size_t>(VpaBucketCount(o)), 0);
    m.min_bucket = static_cast<int>(m.weights.size()) - 1;
    m.max_bucket = 0;
  }
  const double weight = count * o.min_sample_weight * DecayFactor(m, t, o);
  const int bucket = VpaFindBucket(value, o);
  m.weights[bucket] += weight;
  m.total_weight += weight;
  if (bucket < m.min_bucket && m.weights[bucket] >= Epsilon(o)) m.min_bucket = bucket;
  if (bucket > m.max_bucket && m.weights[bucket] >= Epsilon(o)) m.max_bucket = bucket;
  if (m.samples == 0) m.first_sample = t;
  m.last_sample = t;
  m.samples += count;
}

double VpaPercentile(const VpaMemory& m, double p, const VpaOptions& o) {
  if (m.weights.empty() || m.weights[m.min_bucket] < Epsilon(o)) return 0;
  const double threshold = p * m.total_weight;
  double sum = 0;
  int bucket = m.min_bucket;
  for (; bucket < m.max_bucket; ++bucket) {
    sum += m.weights[bucket];
    if (sum >= threshold) break;
  }
  const int last = static_cast<int>(m.weights.size()) - 1;
  return VpaBucketStart(bucket < last ? bucket + 1 : bucket, o);
}

double VpaConfidence(const VpaMemory& m) {
  const double days = common::ToSeconds(m.last_sample - m.first_sample) / 86400;
  return std::min(days, m.samples / kSamplesPerDay);
}

Proposal EvaluateVpa(const model::WorkloadSignals& signals, VpaMemory& memory,
                     common::TimePoint now, const VpaOptions& o) {
  Proposal p;
  p.policy = std::string(kVpa);
  p.terms.reserve(12);

  // Recommender: one sample per container per interval.
  double usage = model::kMissing;
  if (memory.samples == 0 || now - memory.last_sample >= o.sample_interval) {
    control::Summary s = control::Summarize(control::RecentSamples(
        signals.cpu_usage_history, signals.cpu_usage_sample_interval, o.sample_interval));
    if (s.count > 0) {
      usage = s.mean;
    } else if (std::isfinite(signals.cpu_usage_cores) && signals.current_replicas > 0) {
      usage = signals.cpu_usage_cores / signals.current_replicas;
    }
    const double pods = signals.current_replicas >= 1 ? std::round(signals.current_replicas) : 1;
    if (std::isfinite(usage) && usage >= 0) VpaAddSample(memory, usage, pods, now, o);
  }
  if (memory.samples == 0) {
    p.reason = "no CPU usage sample yet";
    return p;
  }

  const double confidence = VpaConfidence(memory);
  const double margin = 1 + o.safety_margin;
  const double p50 = VpaPercentile(memory, o.lower_percentile, o);
  const double p90 = VpaPercentile(memory, o.target_percentile, o);
  const double p95 = VpaPercentile(memory, o.upper_percentile, o);
  const double target = std::max(p90 * margin, o.min_cpu_cores);
  // c = 0 gives 1/c = ∞: no lower bound beyond the minimum and no upper bound, as in VPA.
  const double lower =
      std::max(p50 * margin * std::pow(1 + 0.001 / confidence, -2.0), o.min_cpu_cores);
  const double upper = std::max(p95 * margin * (1 + 1 / confidence), o.min_cpu_cores);

  // Updater.
  const bool has_limit = std::isfinite(signals.cpu_limit_cores) && signals.cpu_limit_cores > 0;
  const bool has_request =
      std::isfinite(signals.cpu_request_cores) && signals.cpu_request_cores > 0;
  if (!std::isfinite(memory.limit_to_request) && has_limit && has_request) {
    memory.limit_to_request = signals.cpu_limit_cores / signals.cpu_request_cores;
  }
  const double ratio = std::isfinite(memory.limit_to_request) ? memory.limit_to_request : 1;
  const double request = has_limit     ? signals.cpu_limit_cores / ratio
                         : has_request ? signals.cpu_request_cores
                                       : model::kMissing;
  const bool outside = !(request >= lower && request <= upper);

  p.Term("usage_cores", usage);
  p.Term("samples_total", memory.samples);
  p.Term("confidence", confidence);
  p.Term("p50_cores", p50);
  p.Term("p90_cores", p90);
  p.Term("p95_cores", p95);
  p.Term("target_cores", target);
  p.Term("lower_bound_cores", lower);
  p.Term("upper_bound_cores", upper);
  p.Term("limit_to_request", ratio);
  p.Term("current_request_cores", request);
  p.Term("outside_bounds", outside ? 1 : 0);
  if (outside) {
    p.cpu_cores = ratio * target;
    p.reason = "request " + control::FormatNumber(request) + " outside [" +
               control::FormatNumber(lower) + ", " + control::FormatNumber(upper) +
               "]: set to target " + control::FormatNumber(target);
  } else {
    p.cpu_cores = ratio * request;
    p.reason = "request " + control::FormatNumber(request) + " inside [" +
               control::FormatNumber(lower) + ", " + control::FormatNumber(upper) + "]: no update";
  }
  return p;
}

}  // namespace recommender::policies
