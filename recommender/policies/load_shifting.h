#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"

namespace recommender::policies {

// load_shifting: interference-aware load shifting among a service's instances, jointly with
// scaling (Imbres, ASPLOS 2025, algorithms.md §5). The paper's mechanism is public only as an
// abstract: per-container load shifting driven by online latency gradients, no offline profiling.
// The formulas below are queuelens' own design (algorithms.md §5.3, "our design"), not the
// paper's.
//
// Per workload with n ≥ 2 instances j (pods that served requests in the window), every
// `update_interval`:
//   x_j  = the instance's request rate,  λ = Σ_j x_j
//   l_j  = its mean exclusive time (time spent in the service itself: the part of the latency
//          its own load and interference set; time waiting on callees does not move with x_j)
//   I_j  = its container's interference ratio (share of runnable time waiting for a CPU)
//   S0   = the service's uncongested service time; ρ_j = x_j·S0 its load as busy servers
// Gradient g_j = ∂l_j/∂x_j:
//   measured   m_j = (l_j − l_j')/(x_j − x_j') against the previous update ('), used only when
//              |x_j − x_j'| ≥ min_load_change·max(x_j, x_j'), I_j is in the same bucket as I_j'
//              (a slope across an interference change is not a slope) and m_j ≥ 0 (latency
//              does not fall with load: a negative slope is noise)
//   table      T[bucket(ρ_j), bucket(I_j)] = EWMA (weight table_alpha) of the measured slopes
//              and of the latencies seen in that cell; a measured m_j is first folded into its
//              cell, and g_j is the cell's slope, so one noisy pair moves g_j by table_alpha (a
//              fresh cell's slope starts from the prior below, not from the first pair)
//   prior      without either, the M/M/1-PS slope l_j² (l = S/(1 − xS) ⇒ dl/dx = l²)
//   g_j ≥ min_slope_fraction·l_j²: a zero slope would let one instance absorb any load below
// Weights (w_j ≥ w_min, Σ w_j = 1; x_j = w_j·λ once a proxy applies them):
//   c_j = l_j + x_j·g_j          marginal latency of one more request/s at j: ∂(x_j·l_j)/∂x_j
//   gap_j = (c_j − mean_k c_k)/mean_k l_k
//   e_j = clamp(η·gap_j, −1, 1)                       when |gap_j| ≥ dead_band
//       = clamp(η·ln(n·w_j), −1, 1)                   otherwise: back towards 1/n
//   w'_j = w_j·exp(−e_j)        a gradient step on Σ x_j·l_j in log space; inside the dead band
//                               the gradient is not told from noise, and the even split is
//                               what keeps every instance's headroom for a burst (the linear
//                               slope cannot see a knee), so a shift lasts only while the
//                               marginal latencies differ
//   w_j ← the Euclidean projection of w' onto
//         {Σ = 1, max(w_min, w_j − δ) ≤ w_j ≤ min(w_max, w_j + δ)}
//   w_min = min_weight_share/n   every instance keeps traffic, so its latency stays measured
//   w_max = min(1, max_weight_share/n)   the slope model is linear: it cannot see the knee of
//                                an instance's thread pool or CPU quota (sized by its Captain
//                                for about an even share) far beyond the loads it has seen
// Onset guard, on every pass: an instance with l_j > B (below) and w_j > 1/n is set to 1/n at
// once, past δ, the others scaled up to keep Σ = 1. Shifting makes use of an instance that looks
// fast; when interference starts on its node, a δ-capped retreat would leave it most of the load
// for several steps.
// Instances new to the workload start at 1/n (the others scaled down to make room); gone ones
// are dropped and the rest renormalised.
// Coupling with scaling (budget B = the mean sojourn queue_sizing sizes for, S0·(1 + c*) with its
// target concurrency c*: that is W* = slo_p99·slo_share/ln 100, the mean hop latency whose
// exponential tail puts the P99 at its SLO share, unless W* < (1 + c_min)·S0; a hop whose own
// service time is over W* cannot be brought under it by any replica count, and comparing with
// W* would add replicas up to the maximum):
//   L* = the best achievable max_j l_j after shifting, under l_j(x) = l_j + g_j·(x − x_j),
//        x ≥ w_min·λ, Σ x = λ (bisection on L: Σ_j max(w_min·λ, x_j + (L − l_j)/g_j) = λ)
//   scale out  when L* > scale_out_margin·B and every desired pod is ready (queue_sizing already
//              runs the mean at B, so B alone is crossed half the time by design), and, when the
//              Captains hold the CPU (queue_sizing's captain_cpu term), some instance's I_j is at
//              least one interference bucket: there l_j holds the Captains' throttling, which the
//              CPU half removes within seconds (queue_sizing scales vertically first), while
//              interference is what more CPU on the same node does not cure:
//              replicas = max(R_q, n + 1), the new
//              pod placed away from the node of the most interfered instance (preferred
//              anti-affinity, in the simulator); while one still starts, max(R_q, n)
//   scale in   when R_q ≤ n and, without the most interfered instance k, the table has a cell
//              for every other instance at its load after the min-max split of λ among them
//              and each cell's latency ≤ scale_in_margin·B, and the CPU the pods use now,
//              spread over one pod fewer, stays ≤ scale_in_margin × the pod's CPU limit (the
//              table learned latencies under limits sized for the present load; a Captain's
//              limit sits just above usage, and a pod past it is throttled until it grows):
//              replicas = n − 1, at most once per
//              `hold` (the new split needs time to show in the rates); k gets the lowest
//              pod-deletion cost so the ReplicaSet removes it. R_q is never capped: a scale-in
//              takes effect only if the proposals stay lower through the scale-down
//              stabilisation window (recommender/combine), as any other
//   settling   neither of the above within `hold` of a change of the replica count (by either
//              rule or by queue_sizing): for a rate window the signals mix the old and the new
//              set, and a pod that has just taken a removed pod's load runs over its CPU limit
//              until the CPU policy grows it; a replica added for that transient is removed
//              again by queue_sizing, and each such cycle is one more scale-in transient
//   otherwise  replicas = R_q
// where R_q is queue_sizing's proposal (load_shifting = the queuelens default plus shifting).
// Deletion cost: instances ranked by (I_j, l_j) descending get 0, 1, …: the most interfered
// goes first on any scale-in.
struct LoadShiftingOptions {
  // Updates no faster than the rate window: a weight change shows in x and l only a window later.
  common::Duration update_interval = std::chrono::seconds{5};
  double step_size = 0.5;  // η: half the relative marginal-cost gap per step, before the caps
  double max_step = 0.05;  // δ: a weight moves at most 5 points per step (stability over speed)
  // Marginal latencies within 20 % of the mean latency are alike: a 5 s mean of a few hundred
  // requests and a measured slope are not finer than that, and equal instances must not drift.
  double dead_band = 0.2;
  // Every instance keeps at least a quarter of an even share: enough traffic to measure it.
  double min_weight_share = 0.25;
  // No instance takes more than twice an even share (see w_max above).
  double max_weight_share = 2;
  // A load change under 5 % of the load is within rate-window noise: no slope from it.
  double min_load_change = 0.05;
  double table_alpha = 0.2;  // EWMA weight: a cell follows about its last five samples
  double load_bucket = 0.1;  // ρ buckets of 0.1 busy servers (algorithms.md §5.3: 10 % steps)
  double interference_bucket = 0.1;  // I buckets of 10 % of runnable time
  int max_load_buckets = 50;         // ρ ≥ 5 shares the last bucket: bounds the table
  double min_slope_fraction = 0.1;
  // A scale-in must leave a fifth of the budget as headroom, so it does not undo itself.
  double scale_in_margin = 0.8;
  // A replica more only when, after shifting, the worst instance stays half again over budget.
  double scale_out_margin = 1.5;
  common::Duration hold = std::chrono::seconds{60};
};

// One cell of the performance table.
struct PerformanceCell {
  double latency = 0;  // EWMA of l_j, seconds
  double slope = 0;    // EWMA of measured ∂l/∂x, seconds per (request/s)
  int latency_samples = 0, slope_samples = 0;
};
// Key: (load bucket, interference bucket); the table lives in one workload's memory, so the
// service is its first key.
using PerformanceTable = std::map<std::pair<int, int>, PerformanceCell>;

struct LoadShiftingMemory {
  struct Last {
    double load = 0, latency = 0;
    double slope = 0;  // g_j of that update, used by the passes until the next
    int interference_bucket = -1;
  };
  std::map<std::string, double> weights;  // by instance
  std::map<std::string, Last> last;       // values at the previous update
  PerformanceTable table;
  common::TimePoint updated_at{};
  common::TimePoint scaled_in_at{};  // the last table-driven scale-in
  int replicas = -1;                 // the workload's replicas at the last pass
  common::TimePoint replicas_changed_at{};
};

// One instance's outcome, with its terms (exported as queuelens_instance_policy_term).
struct InstanceWeight {
  std::string instance;
  double weight = 0;
  int deletion_cost = 0;
  Terms terms;
};

struct LoadShiftingResult {
  Proposal proposal;
  std::vector<InstanceWeight> instances;  // sorted by instance; empty with fewer than 2
  std::string most_interfered;            // where a new pod should not go; "" when unknown
};

// The gradient estimate for one instance (exposed for tests). `prev` is nullptr without a
// previous update. Updates `table` with the measured slope and the latency. `source` is set to
// 0 (measured, through the table), 1 (table), 2 (prior).
double EstimateSlope(double load, double latency, int load_bucket, int interference_bucket,
                     const LoadShiftingMemory::Last* prev, PerformanceTable& table,
                     const LoadShiftingOptions& options, int* source);

// The weights after one step from `weights` (Σ = 1, each ≥ w_min) towards `target` (any positive
// values): the projection described above. Pure.
std::vector<double> ProjectWeights(const std::vector<double>& weights,
                                   const std::vector<double>& target, double min_weight,
                                   double max_weight, double max_step);

// min over splits of max_j l_j(x): the L* above. Pure.
double BestMaxLatency(const std::vector<double>& load, const std::vector<double>& latency,
                      const std::vector<double>& slope, double total, double min_load);

// The load each instance takes at the min-max split of `total` (same model as BestMaxLatency).
std::vector<double> MinMaxSplit(const std::vector<double>& load, const std::vector<double>& latency,
                                const std::vector<double>& slope, double total, double min_load);

// One step for one workload. `queue_sizing` is that policy's proposal this pass: its replicas
// are R_q and its uncongested_seconds and target_concurrency terms give B (its
// target_sojourn_seconds without them). Pure apart from `memory`.
LoadShiftingResult EvaluateLoadShifting(const model::WorkloadSignals& signals,
                                        const Proposal& queue_sizing, LoadShiftingMemory& memory,
                                        common::TimePoint now,
                                        const LoadShiftingOptions& options = {});

}  // namespace recommender::policies
