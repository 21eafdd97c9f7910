#include "recommender/combine/post_processors.h"

#include <algorithm>
#include <cmath>

#include "control/stats.h"

namespace recommender::combine {
namespace {

void Record(std::vector<std::string>& steps, const char* name, double in, double out) {
  steps.push_back(std::string(name) + ": " + control::FormatNumber(in) + " -> " +
                  control::FormatNumber(out));
}

}  // namespace

std::optional<double> ApplyStaleness(std::optional<double> proposed, bool fresh, double current,
                                     const ChannelMemory& memory, bool* held,
                                     std::vector<std::string>& steps) {
  *held = false;
  if (fresh && proposed) return proposed;
  *held = true;
  std::optional<double> value = memory.last_good;
  if (std::isfinite(current)) value = std::max(value.value_or(current), current);
  if (value) {
    steps.push_back("stale: hold " + control::FormatNumber(*value));
  } else {
    steps.push_back("stale: nothing to hold");
  }
  return value;
}

double Stabilize(double value, common::TimePoint now, common::Duration window,
                 std::deque<policies::TimedValue>& history, std::vector<std::string>& steps) {
  // A monotonic queue: each kept value is larger than every later one, so the front is the max
  // and values that can never be the max again are dropped on arrival.
  while (!history.empty() && history.front().t <= now - window) history.pop_front();
  while (!history.empty() && history.back().value <= value) history.pop_back();
  history.push_back({now, value});
  const double out = history.front().value;
  if (out != value) Record(steps, "stabilize", value, out);
  return out;
}

double LimitReplicaStep(double value, std::optional<double> last, int max_step,
                        std::vector<std::string>& steps) {
  if (!last || max_step <= 0) return value;
  const double out = std::clamp(value, *last - max_step, *last + max_step);
  if (out != value) Record(steps, "step", value, out);
  return out;
}

double LimitCpuStep(double value, std::optional<double> last, double factor,
                    std::vector<std::string>& steps) {
  if (!last || !(*last > 0) || !(factor > 1)) return value;
  const double out = std::clamp(value, *last / factor, *last * factor);
  if (out != value) Record(steps, "step", value, out);
  return out;
}

double Clamp(double value, double lo, double hi, std::vector<std::string>& steps) {
  const double out = std::clamp(value, lo, std::max(lo, hi));
  if (out != value) Record(steps, "clamp", value, out);
  return out;
}

}  // namespace recommender::combine
