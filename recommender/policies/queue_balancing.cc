#include "recommender/policies/queue_balancing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

// A NaN input is treated as no violation; negative violations are clipped.
double NonNegative(double v) { return std::isfinite(v) ? std::max(0.0, v) : 0.0; }

double Share(double value, double total) { return total > 0 ? value / total : 0.0; }

// ceil() that ignores rounding noise from the division (2.0000000001 stays 2).
int CeilReplicas(double x) { return static_cast<int>(std::ceil(x - 1e-9)); }

}  // namespace

std::vector<int> LargestRemainderAllocation(std::span<const double> shares, int pods) {
  std::vector<int> x(shares.size(), 0);
  const double total = std::accumulate(shares.begin(), shares.end(), 0.0);
  if (!(total > 0) || pods <= 0) return x;
  std::vector<double> remainder(shares.size());
  int given = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    const double exact = pods * shares[i] / total;
    x[i] = static_cast<int>(std::floor(exact));
    remainder[i] = exact - x[i];
    given += x[i];
  }
  std::vector<size_t> order(shares.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (remainder[a] != remainder[b]) return remainder[a] > remainder[b];
    return shares[a] > shares[b];
  });
  for (size_t k = 0; given < pods && k < order.size(); ++k, ++given) ++x[order[k]];
  return x;
}

std::vector<Proposal> EvaluateQueueBalancingGroup(std::span<const WorkloadConfig> configs,
                                                  std::span<const model::WorkloadSignals> signals,
                                                  std::span<const size_t> members, int extra_pods,
                                                  const QueueBalancingOptions& options) {
  std::vector<Proposal> proposals(members.size());
  std::vector<size_t> active;  // positions in `members` with a queue estimate
  int kept = 0;
  for (size_t m = 0; m < members.size(); ++m) {
    proposals[m].policy = std::string(kQueueBalancing);
    const model::WorkloadSignals& s = signals[members[m]];
    if (std::isfinite(s.queue_length)) {
      active.push_back(m);
    } else {
      if (s.current_replicas >= 1) kept += static_cast<int>(s.current_replicas) - 1;
      proposals[m].reason = "no queue estimate; keeps its current pods out of the budget";
    }
  }
  const int budget = std::max(0, extra_pods - kept);

  std::vector<double> q(active.size()), a(active.size()), t(active.size());
  double sum_q = 0, sum_a = 0, sum_t = 0;
  for (size_t k = 0; k < active.size(); ++k) {
    const size_t i = members[active[k]];
    const model::WorkloadSignals& s = signals[i];
    const double slo = configs[i].slo_p99_seconds;
    q[k] = NonNegative(s.queue_length);
    a[k] = NonNegative(s.mean_latency_seconds - options.mean_slo_fraction * slo);
    t[k] = NonNegative(s.p99_latency_seconds - slo);
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
  const std::vector<int> x = LargestRemainderAllocation(b, budget);
  for (size_t k = 0; k < active.size(); ++k) {
    Proposal& p = proposals[active[k]];
    p.terms.reserve(10);
    p.Term("queue", q[k]);
    p.Term("queue_share", Share(q[k], sum_q));
    p.Term("mean_violation_seconds", a[k]);
    p.Term("mean_violation_share", Share(a[k], sum_a));
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

Proposal EvaluateLittlesLaw(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                            const QueueBalancingOptions& options) {
  Proposal p;
  p.policy = std::string(kQueueBalancing);
  p.terms.reserve(9);
  const double busy =
      signals.request_rate == 0 ? 0.0 : signals.request_rate * signals.mean_exclusive_seconds;
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
  const double w_target = config.slo_p99_seconds / std::log(100.0);
  const double c_target = std::max(options.min_target_concurrency, w_target / s0 - 1);
  const double rho_target = c_target / (1 + c_target);
  const bool known_replicas = std::isfinite(n) && n >= 1;
  const double rho = known_replicas ? busy / (n + busy) : model::kMissing;
  const double offered = known_replicas ? n * rho : signals.request_rate * s0;
  const double utilization_replicas = offered / rho_target;
  const double queue_replicas = busy / c_target;
  const int replicas = std::max(1, CeilReplicas(std::max(utilization_replicas, queue_replicas)));
  p.Term("exclusive_inflight", busy);
  p.Term("uncongested_seconds", s0);
  p.Term("target_sojourn_seconds", w_target);
  p.Term("target_concurrency", c_target);
  p.Term("target_utilization", rho_target);
  if (known_replicas) p.Term("utilization", rho);
  p.Term("offered_load", offered);
  p.Term("utilization_replicas", utilization_replicas);
  p.Term("queue_replicas", queue_replicas);
  p.replicas = replicas;
  p.reason = "Little's law: " + control::FormatNumber(busy) + " in service, offered load " +
             control::FormatNumber(offered) +
             (known_replicas ? " on " + control::FormatNumber(n) + " replicas" : "") +
             " at target utilisation " + control::FormatNumber(rho_target) + ", " +
             control::FormatNumber(queue_replicas) + " at " + control::FormatNumber(c_target) +
             " per replica";
  return p;
}

}  // namespace recommender::policies
