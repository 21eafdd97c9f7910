#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/policies/timed_value.h"

namespace recommender::combine {

// The scale-down stabilisation and step limit the post-processors apply to one channel.
struct ChannelSafety {
  common::Duration stabilization_window{};  // zero: none
  // Replicas: most added or removed per pass; CPU: a factor > 1 per pass. Zero: no limit.
  double max_step = 0;
};

struct SafetyOptions {
  common::Duration stale_after = std::chrono::seconds{60};
  // For the replica policies whose source has no rule of its own (queue_balancing): Kubernetes'
  // default scale-down stabilisation (behavior.scaleDown.stabilizationWindowSeconds), since the
  // HPA that applies queuelens' replicas runs with its own window at 0 (deploy/hpa-common), and
  // at most 4 replicas per pass. Every CPU policy has a rule of its own (combine::DefaultSafety).
  ChannelSafety replicas{.stabilization_window = std::chrono::seconds{300}, .max_step = 4};
};

// Safety state of one value (replicas or CPU) of one workload.
struct ChannelMemory {
  std::optional<double> last_good;    // the newest output computed from fresh inputs
  std::optional<double> last_output;  // the newest output, held or not
  // Inputs to stabilisation inside the window that can still be its max (decreasing values).
  std::deque<policies::TimedValue> window;
};

struct SafetyMemory {
  ChannelMemory replicas;
  ChannelMemory cpu;
};

// Each post-processor returns its output and appends "<name>: <in> -> <out>" to `steps` when it
// changed the value. NaN `current` means unknown.

// Fresh inputs pass `proposed` through. Otherwise the value is held at max(last_good, current)
// (whichever are known; nullopt if neither), so missing data never scales down; *held is set.
std::optional<double> ApplyStaleness(std::optional<double> proposed, bool fresh, double current,
                                     const ChannelMemory& memory, bool* held,
                                     std::vector<std::string>& steps);

// Records (now, value) and returns the max over the window ending at now: scale-ups pass at once,
// scale-downs only once every value of the window allows them. `history` keeps only the values
// that can still be the max, so each call is amortised O(1).
double Stabilize(double value, common::TimePoint now, common::Duration window,
                 std::deque<policies::TimedValue>& history, std::vector<std::string>& steps);

// |value − last| ≤ max_step; no limit without a previous output or with max_step ≤ 0.
double LimitReplicaStep(double value, std::optional<double> last, int max_step,
                        std::vector<std::string>& steps);

// last/factor ≤ value ≤ last·factor; no limit without a previous output or with factor ≤ 1.
double LimitCpuStep(double value, std::optional<double> last, double factor,
                    std::vector<std::string>& steps);

double Clamp(double value, double lo, double hi, std::vector<std::string>& steps);

}  // namespace recommender::combine
