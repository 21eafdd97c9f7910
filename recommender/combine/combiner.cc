#include "recommender/combine/combiner.h"

#include <cmath>
#include <utility>

namespace recommender::combine {
namespace {

struct ChannelLimits {
  double min = 0;
  double max = 0;
  bool integral = false;
};

// Runs the post-processors on one value; returns the output and whether it was held.
std::optional<double> Process(std::optional<double> proposed, bool fresh, double current,
                              const ChannelLimits& limits, ChannelMemory& memory,
                              common::TimePoint now, const ChannelSafety& safety, bool* held,
                              std::vector<std::string>& steps) {
  std::optional<double> value = ApplyStaleness(proposed, fresh, current, memory, held, steps);
  if (!value) return std::nullopt;
  double x = Stabilize(*value, now, safety.stabilization_window, memory.window, steps);
  if (!*held) {
    x = limits.integral
            ? LimitReplicaStep(x, memory.last_output, static_cast<int>(safety.max_step), steps)
            : LimitCpuStep(x, memory.last_output, safety.max_step, steps);
  }
  x = Clamp(x, limits.min, limits.max, steps);
  if (limits.integral) x = std::round(x);
  memory.last_output = x;
  if (!*held) memory.last_good = x;
  return x;
}

std::string Describe(const policies::Proposal* p, std::string_view name) {
  std::string text(name);
  text += ": ";
  text += p == nullptr ? "unknown policy" : p->reason;
  return text;
}

}  // namespace

ChannelSafety DefaultSafety(std::string_view policy, bool replicas, const SafetyOptions& options) {
  if (!replicas || policy == policies::kHpaCpu || policy == policies::kShowar ||
      policy == policies::kHab) {
    return {};
  }
  return options.replicas;
}

ChannelSafety EffectiveSafety(std::string_view policy, bool replicas, const SafetyOverride& custom,
                              const SafetyOptions& options) {
  ChannelSafety s = DefaultSafety(policy, replicas, options);
  if (custom.stabilization_window) s.stabilization_window = *custom.stabilization_window;
  if (custom.max_step) s.max_step = *custom.max_step;
  return s;
}

Recommendation Combine(const WorkloadConfig& config, const policies::WorkloadProposals& proposals,
                       const model::WorkloadSignals& signals, SafetyMemory& memory,
                       common::TimePoint now, const SafetyOptions& options) {
  Recommendation rec;
  rec.key = config.key;
  rec.policy = config.replica_policy;
  rec.cpu_policy = config.cpu_policy;
  rec.computed_at = now;
  const bool fresh = signals.observed_at != common::TimePoint{} &&
                     now - signals.observed_at <= options.stale_after &&
                     signals.invalid_input.empty();

  const policies::Proposal* rp = proposals.Find(config.replica_policy);
  const policies::Proposal* cp = proposals.Find(config.cpu_policy);
  std::optional<double> replicas, cpu;
  if (rp != nullptr && rp->replicas) replicas = *rp->replicas;
  if (cp != nullptr && cp->cpu_cores) cpu = *cp->cpu_cores;

  bool replicas_held = false, cpu_held = false;
  std::vector<std::string> replica_steps, cpu_steps;
  const std::optional<double> r =
      Process(replicas, fresh, signals.current_replicas,
              {.min = static_cast<double>(config.min_replicas),
               .max = static_cast<double>(config.max_replicas),
               .integral = true},
              memory.replicas, now,
              EffectiveSafety(config.replica_policy, true, config.replica_safety, options),
              &replicas_held, replica_steps);
  const std::optional<double> c = Process(
      cpu, fresh, signals.cpu_limit_cores,
      {.min = config.min_cpu_cores, .max = config.max_cpu_cores, .integral = false}, memory.cpu,
      now, EffectiveSafety(config.cpu_policy, false, config.cpu_safety, options), &cpu_held,
      cpu_steps);
  if (r) rec.replicas = static_cast<int>(*r);
  rec.cpu_cores = c;
  rec.stale = replicas_held || cpu_held;
  rec.replicas_stale = replicas_held;

  rec.reason = Describe(rp, config.replica_policy) + "; " + Describe(cp, config.cpu_policy);
  if (!signals.invalid_input.empty()) {
    rec.reason += "; inputs invalid (" + signals.invalid_input + ")";
  } else if (!fresh) {
    rec.reason += signals.observed_at == common::TimePoint{} ? "; no inputs" : "; inputs too old";
  }
  for (std::string& s : replica_steps) rec.steps.push_back("replicas " + std::move(s));
  for (std::string& s : cpu_steps) rec.steps.push_back("cpu " + std::move(s));
  for (const std::string& s : rec.steps) rec.reason += "; " + s;
  return rec;
}

}  // namespace recommender::combine
