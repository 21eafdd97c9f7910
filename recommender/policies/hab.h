#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"

namespace recommender::policies {

// hab: QueueFlower's HAB baseline (algorithm.vs_schedule) on a budget group of C extra pods.
// Offered-load staffing with a latency-feedback bisection on the staffing multiplier φ:
//   S_s = mean_exclusive_seconds_s   (the mean processing time per service)
//   probe(φ): pods_s = φ·λ_base·S_s; if Σpods > C, pods_s = floor(C·pods_s/Σpods)
//   replicas_s = floor(pods_s) + 1   (a fractional pod count cannot be deployed)
//   start: φ_L = λ_base, φ_R = 10·λ_base; φ = (φ_L + φ_R)/2 and deploy probe(φ)
//   `probe` later: R = Σ over the entry workloads of mean_latency_seconds (QueueFlower sums the
//     mean frontend latency of its 4 flows), centre = (R_low + R_up)/2
//     R > centre + threshold: φ_L = φ (more pods);  R < centre − threshold: φ_R = φ (fewer)
//     otherwise final: pods_s = max(1, pods_s); if Σpods > C,
//       pods_s = floor(λ·φ·λ·S_s/λ_base), then pods_s = floor(C·pods_s/Σpods), λ = Σ entry rates
//     while φ_L < φ_R: φ = (φ_L + φ_R)/2 and deploy probe(φ); else hold the last probe
// A bisection starts again `epoch` after the previous one started, once it has ended (QueueFlower
// reallocates every 90 s). The constants are QueueFlower's, its µs restated in seconds.
// A member without S_s gets no proposal; its pods stay out of the computation.
struct HabOptions {
  double r_low_seconds = 0;
  double r_up_seconds = 3000e-6;
  double threshold_seconds = 500e-6;
  double lambda_base = 2;
  common::Duration probe = std::chrono::seconds{10};
  common::Duration epoch = std::chrono::seconds{90};
};

// The bisection of the group, kept identically in every member's memory, and the member's pods.
struct HabMemory {
  enum class Stage { kIdle = 0, kProbing = 1, kFinal = 2, kConverged = 3 };
  Stage stage = Stage::kIdle;
  double phi_left = 0, phi_right = 0, phi = 0;
  common::TimePoint started_at{};                 // of the current bisection
  common::TimePoint probe_at{};                   // when the current probe was deployed
  double last_latency_seconds = model::kMissing;  // R of the last measured probe
  double pods = 0;                                // this member's pods_s (before the +1)
};

// One proposal per member of `members` (indices into signals); memory[m] belongs to
// members[m]. `entry` are the indices of the group's entry workloads; without one, the member
// with the largest mean latency stands in for the entry.
std::vector<Proposal> EvaluateHabGroup(std::span<const model::WorkloadSignals> signals,
                                       std::span<const size_t> members,
                                       std::span<const size_t> entry, int extra_pods,
                                       std::span<HabMemory* const> memory, common::TimePoint now,
                                       const HabOptions& options = {});

}  // namespace recommender::policies
