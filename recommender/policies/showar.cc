#include "recommender/policies/showar.h"

#include <algorithm>
#include <cmath>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

// Learns the uncongested run-queue wait; returns whether this observation counted as one.
bool LearnBaseline(const model::WorkloadSignals& signals, ShowarMemory& memory,
                   common::TimePoint now, const ShowarOptions& o) {
  const double runq = signals.runqueue_wait_per_timeslice_seconds;
  const double per_pod_cap =
      std::isfinite(signals.cpu_limit_cores) ? signals.cpu_limit_cores : signals.cpu_request_cores;
  if (!std::isfinite(runq) || !(signals.current_replicas >= 1) || !(per_pod_cap > 0) ||
      !std::isfinite(signals.cpu_usage_cores)) {
    return false;
  }
  const double utilization = signals.cpu_usage_cores / (signals.current_replicas * per_pod_cap);
  if (utilization > o.low_utilization || signals.throttled_ratio > 0) return false;
  if (!memory.baseline_learned) {
    memory.baseline_learned = true;
    memory.baseline_mean = runq;
    memory.baseline_variance = 0;
  } else {
    const double dt = std::max(0.0, common::ToSeconds(now - memory.baseline_updated));
    const double a = 1 - std::exp(-dt / common::ToSeconds(o.baseline_time_constant));
    const double diff = runq - memory.baseline_mean;
    memory.baseline_mean += a * diff;
    memory.baseline_variance = (1 - a) * (memory.baseline_variance + a * diff * diff);
  }
  memory.baseline_updated = now;
  return true;
}

// Horizontal part; returns the proposed replicas or nullopt when the inputs are missing.
std::optional<int> Horizontal(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                              ShowarMemory& memory, common::TimePoint now, const ShowarOptions& o,
                              Proposal& p) {
  const bool uncongested = LearnBaseline(signals, memory, now, o);
  const bool runqueue =
      std::isfinite(signals.runqueue_wait_per_timeslice_seconds) && memory.baseline_learned;
  const double baseline_stdev = std::sqrt(memory.baseline_variance);
  double measured = model::kMissing;
  double target = model::kMissing;
  if (runqueue) {
    measured = signals.runqueue_wait_per_timeslice_seconds;
    target = memory.baseline_mean + o.sigma_multiple * baseline_stdev;
  } else if (std::isfinite(signals.p95_latency_seconds)) {
    measured = signals.p95_latency_seconds;
    target = config.slo_p99_seconds;
  }
  if (!std::isfinite(measured) || !(signals.current_replicas >= 1)) {
    memory.has_previous = false;
    p.reason = "no run-queue wait, P95 latency or current replicas";
    return std::nullopt;
  }

  const double error = measured - target;
  double derivative = 0;
  if (memory.has_previous && memory.previous_runqueue == runqueue) {
    const double dt = common::ToSeconds(now - memory.last_evaluation);
    if (dt > 0) {
      derivative = (measured - memory.previous_measured) / dt;
      memory.integral += error * dt;
    }
  } else {
    memory.integral = 0;
  }
  const double y = o.kp * error + o.ki * memory.integral + o.kd * derivative;
  memory.has_previous = true;
  memory.previous_measured = measured;
  memory.previous_runqueue = runqueue;
  memory.last_evaluation = now;

  const int current = static_cast<int>(std::lround(signals.current_replicas));
  const double step = std::max(1.0, o.beta * current);
  const double band = o.alpha / 2 * target;
  int replicas = current;
  double cooldown_hold = 0, zero_signal_hold = 0;
  if (y > band) {
    replicas = static_cast<int>(std::ceil(current + step));
  } else if (y < -band) {
    if (runqueue && measured == 0) {
      zero_signal_hold = 1;
    } else if (memory.last_scale_up != common::TimePoint{} &&
               now - memory.last_scale_up < o.scale_down_cooldown) {
      cooldown_hold = 1;
    } else {
      replicas = std::max(1, static_cast<int>(std::ceil(current - step)));
    }
  }
  p.Term("measured", measured);
  p.Term("target", target);
  p.Term("runqueue_signal", runqueue ? 1 : 0);
  p.Term("baseline_mean_seconds", memory.baseline_learned ? memory.baseline_mean : model::kMissing);
  p.Term("baseline_stdev_seconds", memory.baseline_learned ? baseline_stdev : model::kMissing);
  p.Term("uncongested", uncongested ? 1 : 0);
  p.Term("error", error);
  p.Term("derivative", derivative);
  p.Term("pid_output", y);
  p.Term("band", band);
  p.Term("cooldown_hold", cooldown_hold);
  p.Term("zero_signal_hold", zero_signal_hold);
  p.Term("current_replicas", current);
  return replicas;
}

}  // namespace

Proposal EvaluateShowar(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                        ShowarMemory& memory, common::TimePoint now, const ShowarOptions& o) {
  Proposal p;
  p.policy = std::string(kShowar);
  p.terms.reserve(16);
  std::optional<int> replicas = Horizontal(signals, config, memory, now, o, p);

  // Vertical: three-sigma size with the change band.
  control::Summary usage = control::Summarize(control::RecentSamples(
      signals.cpu_usage_history, signals.cpu_usage_sample_interval, o.usage_window));
  if (usage.count == 0 && std::isfinite(signals.cpu_usage_cores) && signals.current_replicas > 0) {
    const double per_pod = signals.cpu_usage_cores / signals.current_replicas;
    usage = control::Summarize(std::span<const double>(&per_pod, 1));
  }
  if (usage.count > 0) {
    const double mean = usage.mean;
    const double stdev = usage.PopulationStdev();
    double size = std::max(o.min_cpu_cores, mean + 3 * stdev);
    const double last = memory.last_size_cores;
    const bool kept =
        std::isfinite(last) && size <= o.band_high * last && size >= o.band_low * last;
    if (kept) size = last;
    double overflow = 0;
    if (size > o.max_size_cores) {
      overflow = 1;
      size = o.max_size_cores;
      if (signals.current_replicas >= 1) {
        const int one_more = static_cast<int>(std::lround(signals.current_replicas)) + 1;
        replicas = std::max(replicas.value_or(one_more), one_more);
      }
    }
    p.Term("mean_cores", mean);
    p.Term("stdev_cores", stdev);
    p.Term("last_size_cores", last);
    p.Term("band_kept", kept ? 1 : 0);
    p.Term("cpu_overflow_replica", overflow);
    p.Term("size_cores", size);
    memory.last_size_cores = size;
    p.cpu_cores = o.limit_to_request * size;
  }
  if (replicas) {
    const double current = signals.current_replicas;
    if (*replicas > current) memory.last_scale_up = now;
    p.replicas = *replicas;
  }

  if (!p.replicas && !p.cpu_cores) {
    p.reason = "no run-queue wait, latency or CPU usage";
  } else {
    p.reason =
        "PID " + (p.replicas ? std::to_string(*p.replicas) + " replicas" : "n/a") + ", 3σ size " +
        (p.cpu_cores ? control::FormatNumber(*p.cpu_cores / o.limit_to_request) : "n/a") + " cores";
  }
  return p;
}

}  // namespace recommender::policies
