#include "recommender/policies/queue_balancing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

// A NaN input is treated as no violation; negative violations are clipped.
double NonNegative(double v) { return std::isfinite(v) ? std::max(0.0, v) : 0.0; }

double Share(double value, double total) { return total > 0 ? value / total : 0.0; }

// ceil() that ignores rounding noise from the division (2.0000000001 stays 2).
int CeilReplicas(double x) { return static_cast<int>(std::ceil(x - 1e-9)); }

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<int> QueueFlowerAllocation(std::span<const double> shares, int pods, uint64_t seed) {
  std::vector<int> x(shares.size(), 0);
  const double total = std::accumulate(shares.begin(), shares.end(), 0.0);
  if (!(total > 0) || pods <= 0) return x;
  int left = pods;
  for (size_t i = 0; i < shares.size(); ++i) {
    x[i] = static_cast<int>(std::floor(pods * shares[i] / total));
    left -= x[i];
  }
  uint64_t state = seed;
  for (; left > 0; --left) {
    const double u =
        static_cast<double>(SplitMix64(state) >> 11) * 0x1.0p-53 * total;  // uniform in [0, ΣB)
    double cumulative = 0;
    size_t pick = shares.size() - 1;
    for (size_t i = 0; i < shares.size(); ++i) {
      cumulative += shares[i];
      if (shares[i] > 0 && u < cumulative) {
        pick = i;
        break;
      }
    }
    // Rounding can leave u just past the last cumulative sum: the last member with a share.
    while (shares[pick] <= 0 && pick > 0) --pick;
    ++x[pick];
  }
  return x;
}

std::vector<Proposal> EvaluateQueueBalancingGroup(std::span<const WorkloadConfig> configs,
                                                  std::span<const model::WorkloadSignals> signals,
                                                  std::span<const size_t> members,
                                                  std::span<const size_t> entry, int extra_pods,
                                                  uint64_t seed,
                                                  const QueueBalancingOptions& options) {
  double entry_rate = 0;
  for (size_t e : entry) {
    if (std::isfinite(signals[e].request_rate)) entry_rate += signals[e].request_rate;
  }
  std::vector<Proposal> proposals(members.size());
  std::vector<size_t> active;  // positions in `members` with a mean exclusive time
  int kept = 0;
  for (size_t m = 0; m < members.size(); ++m) {
    proposals[m].policy = std::string(kQueueBalancing);
    const model::WorkloadSignals& s = signals[members[m]];
    if (std::isfinite(s.mean_exclusive_seconds)) {
      active.push_back(m);
    } else {
      if (s.current_replicas >= 1) kept += static_cast<int>(s.current_replicas) - 1;
      proposals[m].reason = "no mean exclusive time; keeps its current pods out of the budget";
    }
  }
  const int budget = std::max(0, extra_pods - kept);

  // Per-trace mean and tail exclusive times, and the flow's totals.
  std::vector<double> visits(active.size()), q(active.size()), tail(active.size());
  double flow_mean = 0, flow_tail = 0;
  for (size_t k = 0; k < active.size(); ++k) {
    const model::WorkloadSignals& s = signals[members[active[k]]];
    visits[k] = entry_rate > 0 && std::isfinite(s.request_rate) ? s.request_rate / entry_rate : 1.0;
    q[k] = NonNegative(visits[k] * s.mean_exclusive_seconds);
    tail[k] = NonNegative(visits[k] * s.tail_exclusive_seconds);
    flow_mean += q[k];
    flow_tail += tail[k];
  }
  std::vector<double> a(active.size()), t(active.size());
  double sum_q = 0, sum_a = 0, sum_t = 0;
  for (size_t k = 0; k < active.size(); ++k) {
    const double slo = configs[members[active[k]]].slo_p99_seconds;
    a[k] = NonNegative(flow_mean - options.mean_slo_fraction * slo);
    t[k] = NonNegative(flow_tail - slo);
    sum_q += q[k];
    sum_a += a[k];
    sum_t += t[k];
  }
  std::vector<double> b(active.size());
  for (size_t k = 0; k < active.size(); ++k) {
    b[k] = options.queue_weight * Share(q[k], sum_q) +
           options.mean_violation_weight * Share(a[k], sum_a) +
           options.tail_violation_weight * Share(t[k], sum_t);
  }
  const double sum_b = std::accumulate(b.begin(), b.end(), 0.0);
  const std::vector<int> x = QueueFlowerAllocation(b, budget, seed);
  for (size_t k = 0; k < active.size(); ++k) {
    Proposal& p = proposals[active[k]];
    p.terms.reserve(12);
    p.Term("visits", visits[k]);
    p.Term("queue_seconds", q[k]);
    p.Term("queue_share", Share(q[k], sum_q));
    p.Term("mean_violation_seconds", a[k]);
    p.Term("mean_violation_share", Share(a[k], sum_a));
    p.Term("tail_seconds", tail[k]);
    p.Term("tail_violation_seconds", t[k]);
    p.Term("tail_violation_share", Share(t[k], sum_t));
    p.Term("weight", b[k]);
    p.Term("exact_extra_pods", sum_b > 0 ? budget * b[k] / sum_b : 0.0);
    p.Term("budget_pods", budget);
    p.Term("extra_pods", x[k]);
    p.replicas = x[k] + 1;
    p.reason = "share " + control::FormatNumber(sum_b > 0 ? b[k] / sum_b : 0.0) + " of " +
               std::to_string(budget) + " budget pods, +1";
  }
  return proposals;
}

std::vector<double> SloShares(std::span<const WorkloadConfig> configs,
                              std::span<const model::WorkloadSignals> signals) {
  std::vector<double> offered(signals.size(), model::kMissing);
  std::map<std::string_view, double> total;
  for (size_t i = 0; i < signals.size(); ++i) {
    const model::WorkloadSignals& s = signals[i];
    const double o = s.request_rate * s.uncongested_seconds;
    if (!std::isfinite(o) || o < 0) continue;
    offered[i] = o;
    total[configs[i].key.k8s_namespace] += o;
  }
  std::vector<double> shares(signals.size(), model::kMissing);
  for (size_t i = 0; i < signals.size(); ++i) {
    const double sum = total[configs[i].key.k8s_namespace];
    if (std::isfinite(offered[i]) && sum > 0) shares[i] = offered[i] / sum;
  }
  return shares;
}

Proposal EvaluateQueueSizing(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                             double slo_share, const QueueSizingOptions& options) {
  Proposal p;
  p.policy = std::string(kQueueSizing);
  p.terms.reserve(12);
  // Few sampled requests: size for the upper confidence bound and hold scale-down (see header).
  const double samples = signals.sampled_requests;
  const bool few_samples = std::isfinite(samples) && samples < options.min_sample_size;
  const double widen =
      few_samples ? 1 + options.confidence_z / std::sqrt(std::max(samples, 1.0)) : 1.0;
  const double request_rate = signals.request_rate * widen;
  const double busy = request_rate == 0 ? 0.0 : request_rate * signals.mean_exclusive_seconds;
  const double s0 = signals.uncongested_seconds;
  const double n = signals.current_replicas;
  if (!std::isfinite(busy) || busy < 0) {
    p.reason = "no exclusive-time concurrency (request rate and mean exclusive time)";
    return p;
  }
  if (!std::isfinite(s0) || s0 <= 0) {
    p.reason = "no uncongested service time";
    return p;
  }
  const double share = std::isfinite(slo_share) ? slo_share : 1.0;
  const double slo = config.slo_p99_seconds * share;
  const double w_target = slo / std::log(100.0);
  const double c_target = std::max(options.min_target_concurrency, w_target / s0 - 1);
  const double rho_target = c_target / (1 + c_target);
  const bool known_replicas = std::isfinite(n) && n >= 1;
  const double rho = known_replicas ? busy / (n + busy) : model::kMissing;
  // Under the Captains the exclusive time holds their throttling, which is not load (see header).
  const bool captain_cpu = config.cpu_policy == kThrottleTarget &&
                           std::isfinite(signals.node_recommended_cpu_cores) &&
                           signals.node_recommended_cpu_cores > 0;
  const double offered = known_replicas && !captain_cpu ? n * rho : request_rate * s0;
  // Under the Captains a pod grows to its CPU ceiling before another pod is added (see header).
  const double pod_cores = captain_cpu ? config.max_cpu_cores : 1.0;
  const double utilization_replicas = offered / (rho_target * pod_cores);
  const double queue_replicas = busy / c_target;
  const double sized =
      captain_cpu ? utilization_replicas : std::max(utilization_replicas, queue_replicas);
  int replicas = std::max(1, CeilReplicas(sized));
  const bool hold = few_samples && known_replicas && replicas < CeilReplicas(n);
  if (hold) replicas = CeilReplicas(n);
  p.Term("slo_share", share);
  p.Term("hop_slo_seconds", slo);
  p.Term("exclusive_inflight", busy);
  p.Term("uncongested_seconds", s0);
  p.Term("target_sojourn_seconds", w_target);
  p.Term("target_concurrency", c_target);
  p.Term("target_utilization", rho_target);
  if (known_replicas) p.Term("utilization", rho);
  p.Term("offered_load", offered);
  p.Term("utilization_replicas", utilization_replicas);
  p.Term("queue_replicas", queue_replicas);
  p.Term("captain_cpu", captain_cpu ? 1.0 : 0.0);
  p.Term("pod_cpu_cores", pod_cores);
  if (std::isfinite(samples)) p.Term("sample_size", samples);
  p.Term("sample_widening", widen);
  p.Term("sample_hold", hold ? 1.0 : 0.0);
  p.replicas = replicas;
  p.reason =
      "Little's law: " + control::FormatNumber(busy) + " in service, offered load " +
      control::FormatNumber(offered) +
      (known_replicas && !captain_cpu ? " on " + control::FormatNumber(n) + " replicas" : "") +
      " at target utilisation " + control::FormatNumber(rho_target) +
      (captain_cpu ? " of " + control::FormatNumber(pod_cores) + " cores per pod" : "") +
      " (hop SLO " + control::FormatNumber(slo) + " s), " + control::FormatNumber(queue_replicas) +
      " at " + control::FormatNumber(c_target) + " per replica" +
      (captain_cpu ? " (not applied: the Captains throttle the CPU)" : "") +
      (few_samples
           ? "; only " + control::FormatNumber(samples) + " sampled requests: rate widened by " +
                 control::FormatNumber(widen) + (hold ? ", scale-down held" : "")
           : "");
  return p;
}

}  // namespace recommender::policies
