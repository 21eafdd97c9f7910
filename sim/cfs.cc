#include "sim/cfs.h"

#include <math.h>  // lgamma_r

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>

namespace sim {
namespace {

// Progress closer than this to a job's end finishes it: Φ is a sum of products of doubles and
// lands within a few ulps of the target, not on it.
constexpr double kEpsilon = 1e-12;

using Job = std::pair<double, CpuModel::Token>;
// std heap functions build a max-heap; this makes it a min-heap on progress, then token.
constexpr auto kLater = std::greater<Job>();

// log Γ(x) without std::lgamma's write to the global signgam, which races when simulations run
// on several threads (evaluate --jobs); the arguments here are positive, so the sign is not used.
double LogGamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// Π_{i<k} (a − i) / (b − i) for whole k and a ≤ b, through log Γ so that it costs the same for
// any k; 0 once a factor reaches 0.
double FallingRatio(double a, double b, double k) {
  if (a - k + 1 <= 0) return 0;
  return std::exp(LogGamma(a + 1) - LogGamma(a - k + 1) + LogGamma(b - k + 1) - LogGamma(b + 1));
}

struct Odds {
  double all_run;   // every one of the container's runnable threads is on a core
  double none_run;  // none is
};

// Timeslices hand a contended node's cores round its R = cores / rate runnable threads; at any
// instant the running ones are a uniformly random set of `cores` of them. Of a container's k
// threads all run with probability Π (cores − i) / (R − i), none with Π (R − cores − i) / (R − i),
// i < k (hypergeometric; R need not be whole, background load is a mean).
Odds OddsOf(double k, double cores, double rate) {
  const double r = cores / rate;
  return {.all_run = FallingRatio(cores, r, k), .none_run = FallingRatio(r - cores, r, k)};
}

}  // namespace

int CpuModel::AddNode(int cores) {
  Node n;
  n.cores = std::max(1, cores);
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size() - 1);
}

uint32_t CpuModel::AddContainer(int node, double limit_cores, double now) {
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(containers_.size());
    containers_.emplace_back();
  }
  Node& n = nodes_[static_cast<size_t>(node)];
  Advance(n, now);
  Container& c = containers_[id];
  const uint32_t generation = c.generation + 1;
  c = Container{};
  c.generation = generation;
  c.node = node;
  c.live = true;
  c.quota = limit_cores > 0 ? limit_cores * kCfsPeriod : kInfinity;
  c.phase = rng_.Uniform() * kCfsPeriod;
  c.sync_time = n.last;
  c.sync_phi = n.phi;
  c.sync_phi_contended = n.phi_contended;
  c.sync_contended_time = n.contended_time;
  c.slot = static_cast<uint32_t>(n.containers.size());
  n.containers.push_back(id);
  n.events.push_back(c.event_phi);
  return id;
}

void CpuModel::RemoveContainer(uint32_t id, double now) {
  Container& c = containers_[id];
  assert(c.live && c.jobs_count == 0);
  Node& n = nodes_[static_cast<size_t>(c.node)];
  Advance(n, now);
  // Keep the order of the others: ties between equal events go to the earlier container.
  n.containers.erase(n.containers.begin() + c.slot);
  n.events.erase(n.events.begin() + c.slot);
  for (size_t i = c.slot; i < n.containers.size(); ++i) {
    containers_[n.containers[i]].slot = static_cast<uint32_t>(i);
  }
  c.live = false;
  c.timer = false;  // its period end, if any, is skipped when it comes
  free_.push_back(id);
  UpdateNode(n);
}

double CpuModel::Limit(uint32_t id) const {
  const Container& c = containers_[id];
  return c.quota == kInfinity ? 0 : c.quota / kCfsPeriod;
}

void CpuModel::Advance(Node& n, double now) {
  const double dt = now - n.last;
  if (dt <= 0) return;
  const double progress = n.rate * dt;
  n.phi += progress;
  if (n.rate < 1) {
    n.phi_contended += progress;
    n.contended_time += dt;
  }
  if (const double others = n.background + n.antagonist; others > 0) {
    n.others.other_usage_seconds += others * progress;
    n.others.other_run_delay_seconds += others * (dt - progress);
    if (n.rate < 1) n.others.other_timeslices += others * progress / kBaseSlice;
  }
  n.last = now;
}

void CpuModel::Sync(Container& c) {
  const Node& n = nodes_[static_cast<size_t>(c.node)];
  const double dt = n.last - c.sync_time;
  const double dphi = n.phi - c.sync_phi;
  const double dphi_contended = n.phi_contended - c.sync_phi_contended;
  const double dcontended = n.contended_time - c.sync_contended_time;
  const double k = c.jobs_count;
  if (k > 0) {
    if (!c.throttled) {
      c.progress += dphi / n.slowdown;
      c.used += k * dphi;
      c.counters.usage_seconds += k * dphi;
      c.counters.run_delay_seconds += k * (dt - dphi);
      c.counters.timeslices += k * dphi_contended / kBaseSlice;
      if (dcontended > 0) {
        // At the mean rate while contended: "some" while not all threads run, "full" while none.
        const Odds o = OddsOf(k, n.cores, dphi_contended / dcontended);
        c.counters.pressure_some_seconds += dcontended * (1 - o.all_run);
        c.counters.pressure_full_seconds += dcontended * o.none_run;
      }
    } else {
      c.counters.throttled_seconds += dt * std::min(k, static_cast<double>(n.cores));
      c.counters.pressure_some_seconds += dt;
      c.counters.pressure_full_seconds += dt;
    }
  }
  c.sync_time = n.last;
  c.sync_phi = n.phi;
  c.sync_phi_contended = n.phi_contended;
  c.sync_contended_time = n.contended_time;
}

void CpuModel::Throttle(Container& c) {
  c.throttled = true;
  nodes_[static_cast<size_t>(c.node)].runnable -= c.jobs_count;
}

void CpuModel::Unthrottle(Container& c) {
  c.throttled = false;
  nodes_[static_cast<size_t>(c.node)].runnable += c.jobs_count;
}

double CpuModel::CompletionPhi(const Container& c) const {
  if (c.jobs.empty()) return kInfinity;
  // Work left, in CPU time at the node's slowdown (constant between syncs: SetInterference syncs).
  return c.sync_phi + std::max(0.0, c.jobs.front().first - c.progress) *
                          nodes_[static_cast<size_t>(c.node)].slowdown;
}

double CpuModel::ThrottlePhi(const Container& c) const {
  if (c.quota == kInfinity || c.jobs_count == 0) return kInfinity;
  return c.sync_phi + std::max(0.0, c.quota - c.used) / c.jobs_count;
}

void CpuModel::UpdateEvent(Container& c) {
  c.event_phi = c.throttled ? kInfinity : std::min(CompletionPhi(c), ThrottlePhi(c));
  nodes_[static_cast<size_t>(c.node)].events[c.slot] = c.event_phi;
}

void CpuModel::UpdateNode(Node& n) {
  const double demand = n.runnable + n.background + n.antagonist;
  n.rate = demand > n.cores ? n.cores / demand : 1.0;
  double best = kInfinity;
  size_t which = 0;
  for (size_t i = 0; i < n.events.size(); ++i) {
    if (n.events[i] < best) {
      best = n.events[i];
      which = i;
    }
  }
  n.next_container = best == kInfinity ? 0 : n.containers[which];
  n.next_time = best == kInfinity ? kInfinity : n.last + std::max(0.0, best - n.phi) / n.rate;
}

void CpuModel::SetLimit(uint32_t id, double limit_cores, double now) {
  Container& c = containers_[id];
  Node& n = nodes_[static_cast<size_t>(c.node)];
  Advance(n, now);
  Sync(c);
  c.quota = limit_cores > 0 ? limit_cores * kCfsPeriod : kInfinity;
  if (c.jobs_count > 0) StartTimer(c, id, now);
  if (c.throttled && c.used < c.quota) {
    Unthrottle(c);
  } else if (!c.throttled && c.jobs_count > 0 && c.used >= c.quota) {
    Throttle(c);
  }
  UpdateEvent(c);
  UpdateNode(n);
}

void CpuModel::SetBackground(int node, double threads, double now) {
  Node& n = nodes_[static_cast<size_t>(node)];
  // Containers keep their Φ-events; only the rate (and so the time of the next event) changes.
  // They are brought up to now so that their PSI odds see each background level apart.
  Advance(n, now);
  for (uint32_t id : n.containers) Sync(containers_[id]);
  n.background = std::max(0.0, threads);
  UpdateNode(n);
}

void CpuModel::SetInterference(int node, double threads, double slowdown, double now) {
  Node& n = nodes_[static_cast<size_t>(node)];
  Advance(n, now);
  slowdown = std::max(1.0, slowdown);
  // Up to now under the old load and slowdown (PSI odds per level, work at the old speed).
  for (uint32_t id : n.containers) Sync(containers_[id]);
  if (slowdown != n.slowdown) {
    // Completion points on Φ scale with the slowdown: move the containers' events.
    n.slowdown = slowdown;
    for (uint32_t id : n.containers) UpdateEvent(containers_[id]);
  }
  n.antagonist = std::max(0.0, threads);
  UpdateNode(n);
}

void CpuModel::StartTimer(Container& c, uint32_t id, double now) {
  if (c.timer || c.quota == kInfinity) return;
  // The first of the container's boundaries after now; the period that contains now starts
  // afresh (the kernel refills an idle group's runtime when its timer restarts).
  auto k = static_cast<uint64_t>(std::max(0.0, std::floor((now - c.phase) / kCfsPeriod) + 1));
  while (c.phase + static_cast<double>(k) * kCfsPeriod <= now) ++k;
  while (k > 0 && c.phase + static_cast<double>(k - 1) * kCfsPeriod > now) --k;
  c.period = k;
  c.timer = true;
  c.used = 0;
  periods_.push_back({c.phase + static_cast<double>(k) * kCfsPeriod, id, c.generation});
  std::push_heap(periods_.begin(), periods_.end(), PeriodLater);
}

void CpuModel::StartJob(uint32_t id, double demand, Token token, double now) {
  Container& c = containers_[id];
  Node& n = nodes_[static_cast<size_t>(c.node)];
  Advance(n, now);
  Sync(c);
  c.jobs.emplace_back(c.progress + demand, token);
  std::push_heap(c.jobs.begin(), c.jobs.end(), kLater);
  ++c.jobs_count;
  StartTimer(c, id, now);
  c.counters.timeslices += 1;  // the wakeup schedules the thread once
  if (!c.throttled) {
    ++n.runnable;
    if (c.used >= c.quota) Throttle(c);
  }
  UpdateEvent(c);
  UpdateNode(n);
}

double CpuModel::NextTime() const {
  double t = periods_.empty() ? kInfinity : periods_.front().time;
  for (const Node& n : nodes_) t = std::min(t, n.next_time);
  return t;
}

double CpuModel::Step(std::vector<Token>& finished) {
  Node* node = nullptr;
  for (Node& n : nodes_) {
    if (!node || n.next_time < node->next_time) node = &n;
  }
  // A period end goes first on a tie: the quota is refilled before the node's event is judged.
  if (!periods_.empty() && (!node || periods_.front().time <= node->next_time)) {
    return EndPeriod();
  }
  assert(node && node->next_time < kInfinity);
  const double now = node->next_time;
  Advance(*node, now);
  Container& c = containers_[node->next_container];
  Sync(c);
  if (CompletionPhi(c) <= ThrottlePhi(c)) {
    c.progress = std::max(c.progress, c.jobs.front().first);
    while (!c.jobs.empty() && c.jobs.front().first <= c.progress + kEpsilon) {
      std::pop_heap(c.jobs.begin(), c.jobs.end(), kLater);
      finished.push_back(c.jobs.back().second);
      c.jobs.pop_back();
      --c.jobs_count;
      --node->runnable;
    }
  } else {
    c.used = c.quota;
    Throttle(c);
  }
  UpdateEvent(c);
  UpdateNode(*node);
  return now;
}

double CpuModel::EndPeriod() {
  std::pop_heap(periods_.begin(), periods_.end(), PeriodLater);
  const PeriodEnd e = periods_.back();
  periods_.pop_back();
  Container& c = containers_[e.container];
  if (!c.timer || c.generation != e.generation) return e.time;  // removed since
  Node& n = nodes_[static_cast<size_t>(c.node)];
  Advance(n, e.time);
  Sync(c);
  if (c.quota == kInfinity) {  // the quota was lifted: the timer stops, the period is not counted
    c.timer = false;
    return e.time;
  }
  // The timer runs only in periods in which the container was active.
  ++c.counters.periods;
  const bool was_throttled = c.throttled;
  if (was_throttled) {
    ++c.counters.throttled_periods;
    Unthrottle(c);
  }
  c.used = 0;
  if (c.jobs_count > 0) {
    ++c.period;
    periods_.push_back(
        {c.phase + static_cast<double>(c.period) * kCfsPeriod, e.container, c.generation});
    std::push_heap(periods_.begin(), periods_.end(), PeriodLater);
  } else {
    c.timer = false;  // idle: the timer stops until a thread wakes
  }
  UpdateEvent(c);
  // Unthrottling changes the rate; otherwise the container's event only moved later, which
  // changes the node's next event only if it was this container's.
  if (was_throttled || n.next_container == e.container) UpdateNode(n);
  return e.time;
}

NodeCounters CpuModel::NodeStats(int node, double now) {
  Node& n = nodes_[static_cast<size_t>(node)];
  Advance(n, now);
  NodeCounters out = n.others;
  out.contended_seconds = n.contended_time;
  return out;
}

ContainerCounters CpuModel::Counters(uint32_t id, double now) {
  Container& c = containers_[id];
  Node& n = nodes_[static_cast<size_t>(c.node)];
  Advance(n, now);
  Sync(c);
  // Advance and Sync move no Φ-event, so the node's next event stays where it was.
  return c.counters;
}

}  // namespace sim
