#include "recommender/policies/deepscaler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "control/stats.h"

namespace recommender::policies {
namespace {

namespace rp = recommender::predict;
using Row = std::array<float, rp::kFeatures>;

constexpr std::string_view kName = "deepscaler";

double Or0(double v) { return std::isfinite(v) ? v : 0; }

// Adds this pass's signals to the minute in progress, closing the previous minute first when
// the pass is in a later one.
void Record(const model::WorkloadSignals& s, DeepScalerMemory& m, common::TimePoint now,
            size_t keep) {
  const int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  if (minute != m.minute && m.passes > 0) {
    const Row row = {static_cast<float>(m.replicas),
                     static_cast<float>(m.alloc > 0 ? m.usage / m.alloc : 0),
                     static_cast<float>(m.rate > 0 ? m.latency_rate / m.rate : 0),
                     static_cast<float>(m.rate / m.passes)};
    // A gap (passes missed for whole minutes) repeats the closed minute.
    const int64_t closed = std::clamp<int64_t>(minute - m.minute, 1, static_cast<int64_t>(keep));
    for (int64_t k = 0; k < closed; ++k) m.minutes.push_back(row);
    while (m.minutes.size() > keep) m.minutes.pop_front();
    m.replicas = m.usage = m.alloc = m.latency_rate = m.rate = 0;
    m.passes = 0;
  }
  m.minute = minute;
  ++m.passes;
  m.replicas = Or0(s.current_replicas);
  const double usage = Or0(s.cpu_usage_cores);
  const double alloc = Or0(s.current_replicas) * Or0(s.cpu_limit_cores);
  if (alloc > 0) {
    m.usage += usage;
    m.alloc += alloc;
  }
  const double rate = Or0(s.request_rate);
  m.rate += rate;
  m.latency_rate += rate * Or0(s.mean_latency_seconds);
}

// W_v: the time of a visit spent in v's own work.
double OwnSeconds(const model::WorkloadSignals& s) {
  if (std::isfinite(s.mean_exclusive_seconds)) return s.mean_exclusive_seconds;
  return Or0(s.mean_latency_seconds);
}

Proposal Unavailable(std::string reason) {
  return Proposal{.policy = std::string(kName), .reason = std::move(reason)};
}

}  // namespace

int RoundPrediction(double prediction, double threshold) {
  if (!std::isfinite(prediction)) return 1;  // DeepScaler: a NaN prediction becomes 1
  const double whole = std::floor(prediction);
  const double replicas = prediction - whole < threshold ? whole : whole + 1;
  return static_cast<int>(std::max(1.0, std::min(replicas, 1e6)));
}

std::vector<bool> CriticalPath(std::span<const std::string> names,
                               std::span<const model::WorkloadSignals* const> signals,
                               const std::vector<rp::Edge>& call_graph) {
  const size_t n = names.size();
  std::vector<bool> critical(n, false);
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(names[i], i);
  std::vector<std::vector<size_t>> callees(n);
  std::vector<bool> called(n, false);
  for (const rp::Edge& e : call_graph) {
    const auto from = index.find(e.caller), to = index.find(e.callee);
    if (from == index.end() || to == index.end() || !(e.calls > 0) || from == to) continue;
    callees[from->second].push_back(to->second);
    called[to->second] = true;
  }
  // busy[v] = request_rate_v · W_v; the best path below v, memoised (a cycle is cut where it
  // closes: an edge back to a node on the current path adds nothing).
  std::vector<double> busy(n), best(n, -1);
  std::vector<size_t> next(n, n);
  std::vector<bool> on_stack(n, false);
  for (size_t i = 0; i < n; ++i) busy[i] = Or0(signals[i]->request_rate) * OwnSeconds(*signals[i]);
  std::function<double(size_t)> below = [&](size_t v) -> double {
    if (best[v] >= 0) return best[v];
    on_stack[v] = true;
    double tail = 0;
    for (size_t c : callees[v]) {
      if (on_stack[c]) continue;
      if (const double t = below(c); next[v] == n || t > tail) {
        tail = t;
        next[v] = c;
      }
    }
    on_stack[v] = false;
    return best[v] = busy[v] + tail;
  };
  double top = -1;
  size_t entry = n;
  for (size_t e = 0; e < n; ++e) {
    if (called[e] || callees[e].empty()) continue;
    const double rate = Or0(signals[e]->request_rate);
    // Per request at the entry; an entry without traffic has no latency to protect.
    const double score = rate > 0 ? below(e) / rate : 0;
    if (score > top) {
      top = score;
      entry = e;
    }
  }
  for (size_t v = entry; v < n; v = next[v]) critical[v] = true;
  return critical;
}

std::vector<Proposal> EvaluateDeepScaler(std::span<const WorkloadConfig> configs,
                                         std::span<const model::WorkloadSignals> signals,
                                         std::span<DeepScalerMemory* const> memory,
                                         common::TimePoint now, const DeepScalerOptions& options) {
  const size_t n = configs.size();
  const rp::Predictor* model = options.model.get();
  const size_t keep = static_cast<size_t>(std::max(80, model ? model->steps() : 0));
  for (size_t i = 0; i < n; ++i) Record(signals[i], *memory[i], now, keep);

  std::vector<Proposal> out(n);
  if (!model) {
    const std::string why =
        options.unavailable.empty() ? "no model (--deepscaler.model)" : options.unavailable;
    for (Proposal& p : out) p = Unavailable("unavailable: " + why);
    return out;
  }
  bool due = false;
  for (size_t i = 0; i < n; ++i) {
    due = due || !memory[i]->predicted || now - memory[i]->predicted_at >= options.interval;
  }
  if (!due) {
    for (size_t i = 0; i < n; ++i) {
      out[i] = memory[i]->last;
      out[i].reason = "held from the prediction " +
                      control::FormatNumber(common::ToSeconds(now - memory[i]->predicted_at)) +
                      " s ago" + (out[i].reason.empty() ? "" : "; " + out[i].reason);
    }
    return out;
  }

  // The model's services among the workloads, by workload name, else by trace service name.
  const std::vector<std::string>& services = model->services();
  const size_t m = services.size();
  std::vector<size_t> workload(m, n);
  std::vector<int> service_of(n, -1);
  for (size_t s = 0; s < m; ++s) {
    for (size_t i = 0; i < n && workload[s] == n; ++i) {
      const auto& names = configs[i].services;
      if (configs[i].key.workload == services[s] ||
          std::find(names.begin(), names.end(), services[s]) != names.end()) {
        workload[s] = i;
      }
    }
  }
  for (size_t s = 0; s < m; ++s) {
    if (workload[s] < n) service_of[workload[s]] = static_cast<int>(s);
  }
  const auto finish = [&](std::vector<Proposal> proposals) {
    for (size_t i = 0; i < n; ++i) {
      memory[i]->predicted = true;
      memory[i]->predicted_at = now;
      memory[i]->last = proposals[i];
    }
    return proposals;
  };
  std::string missing;
  for (size_t s = 0; s < m; ++s) {
    if (workload[s] == n) missing += (missing.empty() ? "" : ", ") + services[s];
  }
  size_t history = 0;
  if (missing.empty()) {
    history = memory[workload[0]]->minutes.size();
    for (size_t s = 0; s < m; ++s) history = std::min(history, memory[workload[s]]->minutes.size());
  }
  if (!missing.empty() || history == 0) {
    const std::string why = !missing.empty()
                                ? "the model's services " + missing + " have no workload"
                                : "no complete minute of history yet";
    // Not a prediction: the next pass tries again.
    for (Proposal& p : out) p = Unavailable(why);
    return out;
  }

  // The window: the last `steps` minutes, the first recorded minute repeated before it.
  const int steps = model->steps();
  rp::Series window{.services = services, .minutes = steps, .values = {}};
  window.values.resize(static_cast<size_t>(steps) * m * rp::kFeatures);
  for (size_t s = 0; s < m; ++s) {
    const auto& rows = memory[workload[s]]->minutes;
    for (int t = 0; t < steps; ++t) {
      const int64_t k = static_cast<int64_t>(rows.size()) - steps + t;
      const Row& row = rows[static_cast<size_t>(std::max<int64_t>(0, k))];
      for (int f = 0; f < rp::kFeatures; ++f) window.At(t, static_cast<int>(s), f) = row[f];
    }
  }
  std::vector<float> predicted;
  try {
    predicted = model->Predict(window);
  } catch (const std::exception& e) {
    for (Proposal& p : out) p = Unavailable(std::string("prediction failed: ") + e.what());
    return finish(std::move(out));
  }

  std::vector<const model::WorkloadSignals*> model_signals(m);
  for (size_t s = 0; s < m; ++s) model_signals[s] = &signals[workload[s]];
  const std::vector<bool> critical = CriticalPath(services, model_signals, options.call_graph);
  const std::vector<float>& graph = model->graph();
  for (size_t i = 0; i < n; ++i) {
    Proposal& p = out[i];
    p.policy = std::string(kName);
    const int s = service_of[i];
    if (s < 0) {
      p.reason = "not a service of the model";
      continue;
    }
    const auto su = static_cast<size_t>(s);
    const double y = predicted[su];
    const double threshold = critical[su] ? options.critical_threshold : options.other_threshold;
    const int replicas = std::clamp(RoundPrediction(y, threshold), configs[i].min_replicas,
                                    std::max(configs[i].min_replicas, configs[i].max_replicas));
    p.replicas = replicas;
    p.Term("prediction", y);
    p.Term("threshold", threshold);
    p.Term("on_critical_path", critical[su] ? 1 : 0);
    p.Term("history_minutes", static_cast<double>(std::min<size_t>(history, steps)));
    // The learned graph's strongest edges into this service.
    std::vector<std::pair<float, size_t>> in;
    for (size_t c = 0; c < m; ++c) {
      const float w = graph[c * m + su];
      if (c != su && w > 0) in.emplace_back(w, c);
    }
    std::sort(in.begin(), in.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; k < in.size() && k < static_cast<size_t>(options.max_edge_terms); ++k) {
      p.Term("in_edge." + services[in[k].second], in[k].first);
    }
    if (history < static_cast<size_t>(steps)) {
      p.reason = control::FormatNumber(static_cast<double>(history)) + " of " +
                 control::FormatNumber(steps) + " minutes recorded, the first repeated";
    }
  }
  return finish(std::move(out));
}

}  // namespace recommender::policies
