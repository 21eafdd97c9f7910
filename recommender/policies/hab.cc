#include "recommender/policies/hab.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

using Stage = HabMemory::Stage;

// pods_s = φ·λ_base·S_s, rescaled to the budget when they exceed it.
std::vector<double> Probe(std::span<const double> service_time, double phi, int budget,
                          const HabOptions& o) {
  std::vector<double> pods(service_time.size());
  double total = 0;
  for (size_t k = 0; k < pods.size(); ++k) {
    pods[k] = phi * o.lambda_base * service_time[k];
    total += pods[k];
  }
  if (total > budget) {
    for (double& p : pods) p = std::floor(budget * p / total);
  }
  return pods;
}

// Each pod count normalised to the budget: floor(C·p/Σp).
void Normalize(std::vector<double>& pods, int budget) {
  double total = 0;
  for (double p : pods) total += p;
  if (!(total > 0)) return;
  for (double& p : pods) p = std::floor(budget * p / total);
}

const char* StageName(Stage s) {
  switch (s) {
    case Stage::kIdle:
      return "idle";
    case Stage::kProbing:
      return "probing";
    case Stage::kFinal:
      return "final";
    case Stage::kConverged:
      return "converged";
  }
  return "idle";
}

}  // namespace

std::vector<Proposal> EvaluateHabGroup(std::span<const model::WorkloadSignals> signals,
                                       std::span<const size_t> members,
                                       std::span<const size_t> entry, int extra_pods,
                                       std::span<HabMemory* const> memory, common::TimePoint now,
                                       const HabOptions& options) {
  std::vector<Proposal> proposals(members.size());
  std::vector<size_t> active;  // positions in `members` with a mean processing time
  std::vector<double> service_time;
  for (size_t m = 0; m < members.size(); ++m) {
    proposals[m].policy = std::string(kHab);
    const double s = signals[members[m]].mean_exclusive_seconds;
    if (std::isfinite(s) && s >= 0) {
      active.push_back(m);
      service_time.push_back(s);
    } else {
      proposals[m].reason = "no mean exclusive time";
    }
  }
  if (active.empty()) return proposals;

  // R and λ from the entry workloads, else from the member with the largest mean latency.
  double latency = model::kMissing, rate = model::kMissing;
  const auto add = [](double& sum, double v) {
    if (std::isfinite(v)) sum = (std::isfinite(sum) ? sum : 0) + v;
  };
  if (!entry.empty()) {
    for (size_t e : entry) {
      add(latency, signals[e].mean_latency_seconds);
      add(rate, signals[e].request_rate);
    }
  } else {
    for (size_t i : members) {
      const double l = signals[i].mean_latency_seconds;
      if (std::isfinite(l) && !(l <= latency)) {
        latency = l;
        rate = signals[i].request_rate;
      }
    }
  }

  // The group's bisection, as the first active member remembers it.
  HabMemory state = *memory[active.front()];
  std::vector<double> pods(active.size());
  for (size_t k = 0; k < active.size(); ++k) pods[k] = memory[active[k]]->pods;
  const double centre = (options.r_low_seconds + options.r_up_seconds) / 2;
  const bool ended = state.stage == Stage::kFinal || state.stage == Stage::kConverged;
  const auto deploy_probe = [&] {
    state.phi = (state.phi_left + state.phi_right) / 2;
    pods = Probe(service_time, state.phi, extra_pods, options);
    state.probe_at = now;
  };
  if (state.stage == Stage::kIdle || (ended && now - state.started_at >= options.epoch)) {
    state.stage = Stage::kProbing;
    state.phi_left = options.lambda_base;
    state.phi_right = 10 * options.lambda_base;
    state.started_at = now;
    deploy_probe();
  } else if (state.stage == Stage::kProbing && now - state.probe_at >= options.probe &&
             std::isfinite(latency)) {
    state.last_latency_seconds = latency;
    if (latency > centre + options.threshold_seconds) {
      state.phi_left = state.phi;
    } else if (latency < centre - options.threshold_seconds) {
      state.phi_right = state.phi;
    } else {
      for (double& p : pods) p = std::max(1.0, p);
      double total = 0;
      for (double p : pods) total += p;
      if (total > extra_pods) {
        const double lambda = std::isfinite(rate) ? rate : 0;
        for (size_t k = 0; k < pods.size(); ++k) {
          pods[k] = std::floor(lambda * state.phi * lambda * service_time[k] / options.lambda_base);
        }
        Normalize(pods, extra_pods);
      }
      state.stage = Stage::kFinal;
    }
    if (state.stage == Stage::kProbing) {
      if (state.phi_left < state.phi_right) {
        deploy_probe();
      } else {
        state.stage = Stage::kConverged;
      }
    }
  }

  for (size_t k = 0; k < active.size(); ++k) {
    HabMemory& m = *memory[active[k]];
    m = state;
    m.pods = pods[k];
    Proposal& p = proposals[active[k]];
    const int replicas = static_cast<int>(std::floor(pods[k])) + 1;
    p.terms.reserve(9);
    p.Term("service_time_seconds", service_time[k]);
    p.Term("phi", state.phi);
    p.Term("phi_left", state.phi_left);
    p.Term("phi_right", state.phi_right);
    p.Term("stage", static_cast<double>(state.stage));
    p.Term("latency_seconds", state.last_latency_seconds);
    p.Term("latency_centre_seconds", centre);
    p.Term("budget_pods", extra_pods);
    p.Term("pods", pods[k]);
    p.replicas = replicas;
    p.reason = std::string("HAB ") + StageName(state.stage) + ": phi " +
               control::FormatNumber(state.phi) + ", " + control::FormatNumber(pods[k]) +
               " pods, +1";
  }
  return proposals;
}

}  // namespace recommender::policies
