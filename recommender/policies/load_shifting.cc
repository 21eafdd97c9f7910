#include "recommender/policies/load_shifting.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Bisections halve their interval this many times: far below any latency or weight resolution.
constexpr int kBisections = 100;

int Bucket(double v, double width, int max_bucket) {
  if (!std::isfinite(v) || v < 0) return 0;
  // A value on a bucket edge lands in the upper bucket despite the division's rounding.
  return std::min(max_bucket, static_cast<int>(std::floor(v / width + 1e-9)));
}

void Ewma(double& acc, int& samples, double v, double alpha) {
  acc = samples == 0 ? v : acc + alpha * (v - acc);
  ++samples;
}

double Term(const Proposal& p, std::string_view name) {
  for (const auto& [n, v] : p.terms) {
    if (n == name) return v;
  }
  return kNaN;
}

}  // namespace

double EstimateSlope(double load, double latency, int load_bucket, int interference_bucket,
                     const LoadShiftingMemory::Last* prev, PerformanceTable& table,
                     const LoadShiftingOptions& options, int* source) {
  PerformanceCell& cell = table[{load_bucket, interference_bucket}];
  Ewma(cell.latency, cell.latency_samples, latency, options.table_alpha);
  if (prev != nullptr && prev->interference_bucket == interference_bucket) {
    const double dx = load - prev->load;
    if (std::abs(dx) >= options.min_load_change * std::max(load, prev->load) && dx != 0) {
      const double measured = (latency - prev->latency) / dx;
      if (std::isfinite(measured) && measured >= 0) {
        // A fresh cell starts from the prior, so one noisy pair moves g by table_alpha there too.
        if (cell.slope_samples == 0) cell.slope = latency * latency;
        cell.slope += options.table_alpha * (measured - cell.slope);
        ++cell.slope_samples;
        *source = 0;
        return std::max(cell.slope, options.min_slope_fraction * latency * latency);
      }
    }
  }
  if (cell.slope_samples > 0) {
    *source = 1;
    return std::max(cell.slope, options.min_slope_fraction * latency * latency);
  }
  *source = 2;
  return latency * latency;
}

std::vector<double> ProjectWeights(const std::vector<double>& weights,
                                   const std::vector<double>& target, double min_weight,
                                   double max_weight, double max_step) {
  const size_t n = weights.size();
  std::vector<double> lo(n), hi(n), out(n);
  for (size_t j = 0; j < n; ++j) {
    lo[j] = std::max(min_weight, weights[j] - max_step);
    hi[j] = std::min(max_weight, weights[j] + max_step);
    // The current weights are feasible; rounding must not make the box empty.
    lo[j] = std::min(lo[j], weights[j]);
    hi[j] = std::max(hi[j], weights[j]);
  }
  // Σ clamp(target_j + τ, lo_j, hi_j) grows with τ; the projection is the τ where it is 1.
  const auto sum_at = [&](double tau) {
    double s = 0;
    for (size_t j = 0; j < n; ++j) s += std::clamp(target[j] + tau, lo[j], hi[j]);
    return s;
  };
  double a = -2, b = 2;  // targets and weights lie in [0, 1] after normalisation
  for (int i = 0; i < kBisections; ++i) {
    const double m = (a + b) / 2;
    (sum_at(m) < 1 ? a : b) = m;
  }
  double total = 0;
  for (size_t j = 0; j < n; ++j) {
    out[j] = std::clamp(target[j] + (a + b) / 2, lo[j], hi[j]);
    total += out[j];
  }
  for (double& w : out) w /= total;  // the last rounding of the bisection
  return out;
}

std::vector<double> MinMaxSplit(const std::vector<double>& load, const std::vector<double>& latency,
                                const std::vector<double>& slope, double total, double min_load) {
  const size_t n = load.size();
  const auto take = [&](size_t j, double level) {
    return std::max(min_load, load[j] + (level - latency[j]) / slope[j]);
  };
  const auto sum_at = [&](double level) {
    double s = 0;
    for (size_t j = 0; j < n; ++j) s += take(j, level);
    return s;
  };
  // At `a` no instance takes more than min_load, at `b` every instance takes all the load.
  double a = std::numeric_limits<double>::max(), b = std::numeric_limits<double>::lowest();
  for (size_t j = 0; j < n; ++j) {
    a = std::min(a, latency[j] - slope[j] * load[j]);
    b = std::max(b, latency[j] + slope[j] * (total - load[j]));
  }
  for (int i = 0; i < kBisections; ++i) {
    const double m = (a + b) / 2;
    (sum_at(m) < total ? a : b) = m;
  }
  std::vector<double> out(n);
  for (size_t j = 0; j < n; ++j) out[j] = take(j, b);
  return out;
}

double BestMaxLatency(const std::vector<double>& load, const std::vector<double>& latency,
                      const std::vector<double>& slope, double total, double min_load) {
  const std::vector<double> split = MinMaxSplit(load, latency, slope, total, min_load);
  double worst = 0;
  for (size_t j = 0; j < load.size(); ++j) {
    worst = std::max(worst, latency[j] + slope[j] * (split[j] - load[j]));
  }
  return worst;
}

LoadShiftingResult EvaluateLoadShifting(const model::WorkloadSignals& signals,
                                        const Proposal& queue_sizing, LoadShiftingMemory& memory,
                                        common::TimePoint now, const LoadShiftingOptions& options) {
  LoadShiftingResult r;
  Proposal& p = r.proposal;
  p.policy = std::string(kLoadShifting);
  p.replicas = queue_sizing.replicas;
  p.cpu_cores = queue_sizing.cpu_cores;
  p.terms = queue_sizing.terms;  // the queuelens part, then the shifting part

  // Instances with a load and a latency; the others cannot be weighed this pass.
  std::vector<const model::InstanceSignals*> inst;
  for (const model::InstanceSignals& i : signals.instances) {
    if (std::isfinite(i.request_rate) && i.request_rate > 0 &&
        std::isfinite(i.mean_exclusive_seconds) && i.mean_exclusive_seconds >= 0) {
      inst.push_back(&i);
    }
  }
  const size_t n = inst.size();
  p.Term("instances", static_cast<double>(n));
  if (n < 2) {
    memory = {};  // a lone instance takes everything; a later set starts even
    p.reason = "queue_sizing; fewer than two instances with load and latency: no shifting";
    return r;
  }

  // Weights of the current set: known ones kept, new ones at 1/n, then renormalised.
  std::vector<double> w(n);
  double known = 0;
  size_t fresh = 0;
  for (size_t j = 0; j < n; ++j) {
    const auto it = memory.weights.find(inst[j]->instance);
    if (it == memory.weights.end()) {
      ++fresh;
    } else {
      w[j] = it->second;
      known += it->second;
    }
  }
  const double even = 1.0 / static_cast<double>(n);
  const double room = 1 - even * static_cast<double>(fresh);
  for (size_t j = 0; j < n; ++j) {
    if (!memory.weights.contains(inst[j]->instance)) {
      w[j] = even;
    } else {
      w[j] = known > 0 ? w[j] * room / known : even;
    }
  }
  const double w_min = options.min_weight_share / static_cast<double>(n);
  const double w_max = std::min(1.0, options.max_weight_share / static_cast<double>(n));
  for (double& v : w) v = std::clamp(v, w_min, w_max);
  const double wsum = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& v : w) v /= wsum;

  std::vector<double> x(n), l(n), g(n), interference(n);
  std::vector<int> source(n, -1);
  double lambda = 0;
  for (size_t j = 0; j < n; ++j) {
    x[j] = inst[j]->request_rate;
    l[j] = inst[j]->mean_exclusive_seconds;
    interference[j] = inst[j]->interference_ratio;
    lambda += x[j];
  }
  // The sojourn queue_sizing sizes for: W* itself unless W* is within (1 + c_min) of the service
  // time, where no replica count can reach it and queue_sizing floors the concurrency instead.
  const double sized_s0 = Term(queue_sizing, "uncongested_seconds");
  const double sized_c = Term(queue_sizing, "target_concurrency");
  const double budget = std::isfinite(sized_s0) && std::isfinite(sized_c)
                            ? sized_s0 * (1 + sized_c)
                            : Term(queue_sizing, "target_sojourn_seconds");
  // Interference-onset guard: an instance over budget with more than an even share drops to it
  // on this pass, past the step cap; the others take the surplus in proportion to their weights.
  int cut = 0;
  if (std::isfinite(budget) && budget > 0) {
    std::vector<bool> over(n, false);
    double surplus = 0, rest = 0;
    for (size_t j = 0; j < n; ++j) {
      over[j] = l[j] > budget && w[j] > even;
      if (over[j]) {
        surplus += w[j] - even;
        w[j] = even;
        ++cut;
      } else {
        rest += w[j];
      }
    }
    for (size_t j = 0; j < n && rest > 0; ++j) {
      if (!over[j]) w[j] += surplus * w[j] / rest;
    }
  }
  const double s0 = signals.uncongested_seconds;
  const auto load_bucket = [&](double load) {
    return std::isfinite(s0) ? Bucket(load * s0, options.load_bucket, options.max_load_buckets - 1)
                             : -1;
  };
  const int max_i_bucket = static_cast<int>(std::ceil(1 / options.interference_bucket));
  const auto i_bucket = [&](double v) {
    return std::isfinite(v) ? Bucket(v, options.interference_bucket, max_i_bucket) : -1;
  };

  const bool due = memory.updated_at == common::TimePoint{} ||
                   now - memory.updated_at >= options.update_interval;
  if (due) {
    std::vector<double> c(n);
    for (size_t j = 0; j < n; ++j) {
      const auto prev = memory.last.find(inst[j]->instance);
      g[j] = EstimateSlope(x[j], l[j], load_bucket(x[j]), i_bucket(interference[j]),
                           prev == memory.last.end() ? nullptr : &prev->second, memory.table,
                           options, &source[j]);
      c[j] = l[j] + x[j] * g[j];
    }
    const double mean_c = std::accumulate(c.begin(), c.end(), 0.0) / static_cast<double>(n);
    const double mean_l = std::accumulate(l.begin(), l.end(), 0.0) / static_cast<double>(n);
    std::vector<double> target(n);
    for (size_t j = 0; j < n; ++j) {
      const double gap = mean_l > 0 ? (c[j] - mean_c) / mean_l : 0.0;
      // Inside the dead band the instances are alike as far as the signals tell: the step goes
      // back towards the even share, so a shift outlives the imbalance that caused it by a few
      // steps only instead of leaving one instance most of the load.
      const double e = std::abs(gap) < options.dead_band ? options.step_size * std::log(w[j] / even)
                                                         : options.step_size * gap;
      target[j] = w[j] * std::exp(-std::clamp(e, -1.0, 1.0));
    }
    const double tsum = std::accumulate(target.begin(), target.end(), 0.0);
    for (double& t : target) t /= tsum;
    w = ProjectWeights(w, target, w_min, w_max, options.max_step);
    memory.last.clear();
    for (size_t j = 0; j < n; ++j) {
      memory.last[inst[j]->instance] = {.load = x[j],
                                        .latency = l[j],
                                        .slope = g[j],
                                        .interference_bucket = i_bucket(interference[j])};
    }
    memory.updated_at = now;
  } else {
    for (size_t j = 0; j < n; ++j) {
      const auto prev = memory.last.find(inst[j]->instance);
      g[j] = prev != memory.last.end() && prev->second.slope > 0 ? prev->second.slope : l[j] * l[j];
      source[j] = prev != memory.last.end() ? 3 : 2;
    }
  }
  memory.weights.clear();
  for (size_t j = 0; j < n; ++j) {
    memory.weights[inst[j]->instance] = w[j];
    // The bisections divide by the slope; a zero latency has a zero prior slope.
    g[j] = std::max(g[j], std::numeric_limits<double>::min());
  }

  // Deletion costs and the most interfered instance: by (I, l) descending, NaN interference last.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double ia = std::isfinite(interference[a]) ? interference[a] : -1;
    const double ib = std::isfinite(interference[b]) ? interference[b] : -1;
    if (ia != ib) return ia > ib;
    if (l[a] != l[b]) return l[a] > l[b];
    return inst[a]->instance < inst[b]->instance;
  });
  std::vector<int> cost(n);
  for (size_t k = 0; k < n; ++k) cost[order[k]] = static_cast<int>(k);
  const size_t worst = order.front();
  r.most_interfered = inst[worst]->instance;

  r.instances.reserve(n);
  for (size_t j = 0; j < n; ++j) {
    InstanceWeight& iw = r.instances.emplace_back();
    iw.instance = inst[j]->instance;
    iw.weight = w[j];
    iw.deletion_cost = cost[j];
    iw.terms = {{"load_rps", x[j]},
                {"latency_seconds", l[j]},
                {"interference_ratio", interference[j]},
                {"load_bucket", static_cast<double>(load_bucket(x[j]))},
                {"interference_bucket", static_cast<double>(i_bucket(interference[j]))},
                {"slope", g[j]},
                {"slope_source", static_cast<double>(source[j])},
                {"marginal_latency_seconds", l[j] + x[j] * g[j]},
                {"weight", w[j]},
                {"deletion_cost", static_cast<double>(cost[j])}};
  }

  // Coupling with scaling.
  const double l_star = BestMaxLatency(x, l, g, lambda, w_min * lambda);
  const double max_l = *std::max_element(l.begin(), l.end());
  p.Term("total_load_rps", lambda);
  p.Term("cut_to_even", cut);
  p.Term("min_weight", w_min);
  p.Term("max_weight", w_max);
  p.Term("max_latency_seconds", max_l);
  p.Term("best_max_latency_seconds", l_star);
  p.Term("latency_budget_seconds", budget);
  p.Term("table_cells", static_cast<double>(memory.table.size()));
  if (!queue_sizing.replicas || !std::isfinite(budget) || budget <= 0) {
    p.reason = "queue_sizing (" + queue_sizing.reason +
               "); shifting only: no latency budget for the scaling coupling";
    return r;
  }
  const int rq = *queue_sizing.replicas;
  const int current = std::isfinite(signals.current_replicas)
                          ? static_cast<int>(std::lround(signals.current_replicas))
                          : static_cast<int>(n);
  const bool starting =
      std::isfinite(signals.ready_replicas) && signals.ready_replicas < signals.current_replicas;
  p.Term("queue_sizing_replicas", rq);
  if (current != memory.replicas) {
    memory.replicas = current;
    memory.replicas_changed_at = now;
  }
  const bool settling = now - memory.replicas_changed_at < options.hold;
  p.Term("settling", settling ? 1 : 0);
  if (settling) {
    p.Term("coupling", 0);
    p.reason =
        "queue_sizing replicas; weights shifted by latency gradients; the replica count "
        "changed within the hold: no coupling yet";
    return r;
  }

  // Under the Captains exclusive time holds their throttling, which the CPU half removes faster
  // than a new pod starts (queue_sizing's vertical first): only interference, which more CPU on
  // the same node does not cure, is a reason for a pod elsewhere.
  const bool captain_cpu = Term(queue_sizing, "captain_cpu") == 1;
  const bool interfered = std::any_of(interference.begin(), interference.end(), [&](double i) {
    return i >= options.interference_bucket;  // an unknown (NaN) ratio is no evidence
  });
  p.Term("scale_out_needs_interference", captain_cpu ? 1 : 0);
  if (l_star > options.scale_out_margin * budget && (!captain_cpu || interfered)) {
    p.replicas = std::max(rq, starting ? current : current + 1);
    p.Term("coupling", 1);
    p.reason = starting ? "best max latency after shifting above budget; a pod is still starting"
                        : "best max latency after shifting above budget: one replica more, away "
                          "from the most interfered node";
    return r;
  }

  // Without the most interfered instance, does the table vouch for every other at its new load?
  bool table_ok = std::isfinite(s0) && n >= 2 && rq <= current;
  double predicted = 0;
  if (table_ok) {
    std::vector<double> rx, rl, rg;
    std::vector<size_t> rest;
    for (size_t j = 0; j < n; ++j) {
      if (j == worst) continue;
      rest.push_back(j);
      rx.push_back(x[j]);
      rl.push_back(l[j]);
      rg.push_back(g[j]);
    }
    const double rest_min = options.min_weight_share / static_cast<double>(rest.size()) * lambda;
    const std::vector<double> split = MinMaxSplit(rx, rl, rg, lambda, rest_min);
    for (size_t k = 0; k < rest.size() && table_ok; ++k) {
      const auto it = memory.table.find({load_bucket(split[k]), i_bucket(interference[rest[k]])});
      if (it == memory.table.end() || it->second.latency_samples == 0) {
        table_ok = false;
      } else {
        predicted = std::max(predicted, it->second.latency);
      }
    }
    table_ok = table_ok && predicted <= options.scale_in_margin * budget;
  }
  // The table maps load to latency at the CPU limits the pods had when it learned; after a
  // scale-in the others take the removed pod's CPU too, and a limit sized for their present load
  // (a Captain keeps it just above usage) throttles them until it grows. Unknown usage or an
  // unlimited pod does not block.
  const double cpu_after = current > 1 ? signals.cpu_usage_cores / (current - 1) : kNaN;
  const bool cpu_ok = !(std::isfinite(cpu_after) && std::isfinite(signals.cpu_limit_cores) &&
                        signals.cpu_limit_cores > 0) ||
                      cpu_after <= options.scale_in_margin * signals.cpu_limit_cores;
  p.Term("scale_in_cpu_per_pod_cores", cpu_after);
  table_ok = table_ok && cpu_ok;
  p.Term("scale_out_threshold_seconds", options.scale_out_margin * budget);
  p.Term("scale_in_predicted_seconds", table_ok ? predicted : kNaN);
  const bool holding =
      memory.scaled_in_at != common::TimePoint{} && now - memory.scaled_in_at < options.hold;
  if (table_ok && !holding && current > 1) {
    memory.scaled_in_at = now;
    p.replicas = current - 1;
    p.Term("coupling", -1);
    p.reason =
        "the table puts every other instance under budget without the most interfered "
        "one: one replica less, that one first";
    return r;
  }
  p.Term("coupling", 0);
  p.reason = "queue_sizing replicas; weights shifted by latency gradients";
  return r;
}

}  // namespace recommender::policies
