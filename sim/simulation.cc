#include "sim/simulation.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

namespace sim {
namespace {

constexpr double kTwoPi = 6.283185307179586;

double BackgroundAt(const Background& b, double t) {
  return std::max(0.0, b.mean + b.amplitude * std::sin(kTwoPi * (t + b.phase) / b.period));
}

// kube-scheduler's scores count a pod that requests no CPU as requesting 100m
// (DefaultMilliCPURequest); fits count what pods request.
constexpr int64_t kDefaultMilliCpu = 100;
// InterPodAffinity's weight in the default scheduler profile, times its normalised maximum.
constexpr int64_t kPreferredAntiAffinityScore = 2 * 100;

int64_t Milli(double cores) { return std::llround(cores * 1000); }
int64_t ScoreMilli(double cores) {
  const int64_t m = Milli(cores);
  return m > 0 ? m : kDefaultMilliCpu;
}

std::vector<double> Weights(const App& app) {
  std::vector<double> w;
  for (const RequestType& r : app.requests) w.push_back(r.weight);
  return w;
}

}  // namespace

Simulation::Simulation(const App& app, const RateTrace& trace, const SimulationOptions& options)
    : app_(app),
      program_(Compile(app)),
      options_(options),
      epoch_nanos_(options.epoch_unix_seconds * 1'000'000'000),
      arrivals_(trace, Weights(app), DeriveSeed(options.seed, 1)),
      trace_end_(trace.duration()),
      cpu_(DeriveSeed(options.seed, 4)),
      trace_hi_(DeriveSeed(options.seed, 2) | 1) {
  for (size_t g = 0; g < app.nodes.size(); ++g) {
    if (app.node_autoscaler && app.nodes[g].name == app.node_autoscaler->group) {
      autoscaled_group_ = static_cast<int>(g);
    }
    for (int i = 0; i < app.nodes[g].count; ++i) AddNode(static_cast<int>(g));
  }
  services_.resize(app.services.size());
  const uint64_t connection_seed = DeriveSeed(options.seed, 3);
  for (size_t s = 0; s < app.services.size(); ++s) {
    const Service& svc = app.services[s];
    ServiceRun& run = services_[s];
    run.cpu_limit = svc.cpu_limit;
    // Kubernetes defaults the request to the limit when only a limit is given.
    run.cpu_request = svc.cpu_request > 0 ? svc.cpu_request : svc.cpu_limit;
    run.threads = svc.threads;
    run.connection_lifetime = svc.connection_lifetime;
    if (run.connection_lifetime > 0) {
      run.connections.resize(static_cast<size_t>(std::max(1, svc.connections)));
      run.connection_rng = Rng(DeriveSeed(connection_seed, s));
    }
    for (int i = 0; i < svc.replicas; ++i) AddPod(static_cast<uint32_t>(s), true);
    // Requests need a pod to go to: a service must start with one placed.
    if (run.live.empty()) {
      throw std::invalid_argument("services." + svc.name +
                                  ": no node has the CPU for its first replica");
    }
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].pods == 0) NodeEmptied(static_cast<int>(n));
  }
  // Its own stream, so a scenario leaves the arrivals as they were.
  interference_ =
      InterferenceTimeline(options.scenario, app, DeriveSeed(options.seed, 5), trace_end_);
  if (!interference_.empty()) queue_.Push(interference_[0].time, kInterference, 0);
  next_arrival_ = arrivals_.Next();
  if (std::isfinite(next_arrival_.time)) queue_.Push(next_arrival_.time, kArrival, 0);
}

int64_t Simulation::ToUnixNanos(double t) const {
  // std::llround without the library call (two per span): x − trunc(x) is exact, so comparing it
  // with 0.5 rounds halves away from zero exactly as llround does.
  const double x = t * 1e9;
  const auto whole = static_cast<int64_t>(x);
  const double fraction = x - static_cast<double>(whole);
  return epoch_nanos_ + whole + (fraction >= 0.5 ? 1 : 0) - (fraction <= -0.5 ? 1 : 0);
}

void Simulation::RunUntil(double t) {
  for (;;) {
    const double cpu_time = cpu_.NextTime();
    const double queue_time = queue_.empty() ? kInfinity : queue_.top().time;
    if (std::min(cpu_time, queue_time) > t) break;
    ++events_;
    if (cpu_time < queue_time) {
      finished_.clear();
      now_ = cpu_.Step(finished_);
      for (size_t i = 0; i < finished_.size(); ++i) Run(finished_[i]);
    } else {
      const EventQueue::Event e = queue_.Pop();
      now_ = e.time;
      Dispatch(e);
    }
  }
  now_ = std::max(now_, t);
}

void Simulation::Dispatch(const EventQueue::Event& e) {
  switch (e.kind) {
    case kArrival:
      StartRequest();
      break;
    case kDeliver:
      Deliver(e.id);
      break;
    case kResume:
      Run(e.id);
      break;
    case kPodReady: {
      Replica& r = replicas_[e.id];
      if (r.state != ReplicaState::kStarting) break;  // removed while starting
      r.state = ReplicaState::kReady;
      std::vector<uint32_t>& routable = services_[r.service].routable;
      routable.insert(std::upper_bound(routable.begin(), routable.end(), e.id), e.id);
      break;
    }
    case kBackground: {
      const Background& b = backgrounds_[e.id];
      cpu_.SetBackground(static_cast<int>(e.id), BackgroundAt(b, now_), now_);
      queue_.Push(now_ + b.step, kBackground, e.id);
      break;
    }
    case kInterference: {
      const InterferenceChange& c = interference_[e.id];
      cpu_.SetInterference(c.node, c.threads, c.slowdown, now_);
      if (e.id + 1 < interference_.size()) {
        queue_.Push(interference_[e.id + 1].time, kInterference, e.id + 1);
      }
      break;
    }
    case kNodeReady: {
      provisioning_ = false;
      const int node = AddNode(autoscaled_group_);
      SchedulePending();
      if (nodes_[static_cast<size_t>(node)].pods == 0) NodeEmptied(node);
      MaybeScaleUp();
      break;
    }
    case kNodeUnneeded: {
      NodeRun& n = nodes_[e.id];
      const NodeAutoscaler& a = *app_.node_autoscaler;
      // A node that took pods since it was found empty has a later empty_since, or none.
      if (!n.present || n.pods > 0 || n.empty_since < 0 ||
          now_ - n.empty_since < a.scale_down_unneeded_time - 1e-9) {
        break;
      }
      if (GroupNodes(n.group) <= a.min_nodes) break;
      n.present = false;
      --nodes_present_;
      break;
    }
  }
}

int Simulation::GroupNodes(int group) const {
  int count = 0;
  for (const NodeRun& n : nodes_) count += n.present && n.group == group ? 1 : 0;
  return count;
}

int Simulation::AddNode(int group) {
  const NodeGroup& g = app_.nodes[static_cast<size_t>(group)];
  // A removed node of the group comes back before a new one is made: CpuModel keeps its nodes.
  int node = -1;
  for (size_t n = 0; n < nodes_.size() && node < 0; ++n) {
    if (!nodes_[n].present && nodes_[n].group == group) node = static_cast<int>(n);
  }
  if (node < 0) {
    node = cpu_.AddNode(g.cores);
    backgrounds_.push_back(g.background);
    nodes_.emplace_back();
    node_scratch_.push_back(0);
    if (g.background.mean > 0 || g.background.amplitude > 0) {
      cpu_.SetBackground(node, BackgroundAt(g.background, now_), now_);
      queue_.Push(now_ + g.background.step, kBackground, static_cast<uint32_t>(node));
    }
  }
  NodeRun& n = nodes_[static_cast<size_t>(node)];
  n = NodeRun{};
  n.group = group;
  n.allocatable = g.allocatable > 0 ? g.allocatable : SystemReservedAllocatable(g.cores);
  n.allocatable_milli = Milli(n.allocatable);
  ++nodes_present_;
  return node;
}

void Simulation::NodeEmptied(int node) {
  NodeRun& n = nodes_[static_cast<size_t>(node)];
  if (n.group != autoscaled_group_ || app_.node_autoscaler->scale_down_unneeded_time <= 0) return;
  n.empty_since = now_;
  queue_.Push(now_ + app_.node_autoscaler->scale_down_unneeded_time, kNodeUnneeded,
              static_cast<uint32_t>(node));
}

void Simulation::MaybeScaleUp() {
  if (autoscaled_group_ < 0 || provisioning_ || pending_.empty()) return;
  const NodeAutoscaler& a = *app_.node_autoscaler;
  if (GroupNodes(autoscaled_group_) >= a.max_nodes) return;
  // Only pods an empty node of the group would take make Cluster Autoscaler add one.
  const NodeGroup& g = app_.nodes[static_cast<size_t>(autoscaled_group_)];
  const int64_t allocatable =
      Milli(g.allocatable > 0 ? g.allocatable : SystemReservedAllocatable(g.cores));
  const bool helps = std::any_of(pending_.begin(), pending_.end(), [&](const PendingPod& p) {
    return PodRequestMilli(p.service) <= allocatable;
  });
  if (!helps) return;
  provisioning_ = true;
  queue_.Push(now_ + a.provisioning_delay, kNodeReady, 0);
}

void Simulation::StartRequest() {
  const uint32_t f = NewFrame();
  Frame& fr = frames_[f];
  fr.trace = {.hi = trace_hi_, .lo = ++requests_started_};
  fr.span_id = next_span_id_++;
  fr.parent_span_id = 0;
  fr.op = program_.request_ops[next_arrival_.type];
  fr.caller_task = kNone;
  fr.request_type = next_arrival_.type;
  fr.seed = next_arrival_.seed;
  Deliver(f);
  next_arrival_ = arrivals_.Next();
  if (std::isfinite(next_arrival_.time)) queue_.Push(next_arrival_.time, kArrival, 0);
}

void Simulation::Deliver(uint32_t f) {
  Frame& fr = frames_[f];
  fr.arrival = now_;
  ServiceRun& s = services_[program_.ops[fr.op].service];
  const uint32_t r = Route(s);
  TouchTruth(s.truth);
  ++s.truth.present;
  ++s.truth.arrivals;
  Admit(r, f);
}

uint32_t Simulation::Route(ServiceRun& s) {
  // A service always keeps one ready replica (SetReplicas drains starting pods first); the
  // fallback only covers a start with none.
  if (s.routable.empty()) return s.live.front();
  if (s.connection_lifetime <= 0 && s.weighted) {
    // Smooth weighted round robin (as nginx's): every replica earns its weight, the richest
    // takes the call and pays the total. Exact shares over each cycle, no bursts to one replica.
    double total = 0;
    uint32_t best = s.routable.front();
    for (const uint32_t id : s.routable) {
      const double w = RouteWeight(s, id);
      total += w;
      replicas_[id].route_credit += w;
      if (replicas_[id].route_credit > replicas_[best].route_credit) best = id;
    }
    replicas_[best].route_credit -= total;
    return best;
  }
  if (s.connection_lifetime <= 0) {  // round robin over ready replicas per request
    return s.routable[s.next_route++ % s.routable.size()];
  }
  // A connection goes to a random ready replica, as kube-proxy's iptables rules pick one per
  // connection, and carries calls until it expires or its replica stops being ready.
  ServiceRun::Connection& c = s.connections[s.next_connection++ % s.connections.size()];
  if (c.replica == kNone || now_ >= c.expires ||
      replicas_[c.replica].state != ReplicaState::kReady) {
    if (s.weighted) {
      double total = 0;
      for (const uint32_t id : s.routable) total += RouteWeight(s, id);
      double u = s.connection_rng.Uniform() * total;
      c.replica = s.routable.back();
      for (const uint32_t id : s.routable) {
        u -= RouteWeight(s, id);
        if (u < 0) {
          c.replica = id;
          break;
        }
      }
    } else {
      c.replica = s.routable[s.connection_rng.Next() % s.routable.size()];
    }
    c.expires = now_ + s.connection_lifetime * (0.9 + 0.2 * s.connection_rng.Uniform());
  }
  return c.replica;
}

double Simulation::RouteWeight(const ServiceRun& s, uint32_t replica) const {
  if (replicas_[replica].route_weight > 0) return replicas_[replica].route_weight;
  double sum = 0;
  int weighted = 0;
  for (const uint32_t id : s.routable) {
    if (replicas_[id].route_weight > 0) {
      sum += replicas_[id].route_weight;
      ++weighted;
    }
  }
  return weighted > 0 ? sum / weighted : 1;
}

void Simulation::SetRouteWeights(uint32_t service, const std::vector<PodWeight>& weights) {
  ServiceRun& s = services_[service];
  s.weighted = true;
  for (const uint32_t id : s.live) {
    Replica& r = replicas_[id];
    for (const PodWeight& w : weights) {
      if (w.pod != r.pod) continue;
      r.route_weight = std::max(0.0, w.weight);
      r.deletion_cost = w.deletion_cost;
    }
  }
}

void Simulation::Admit(uint32_t r, uint32_t f) {
  frames_[f].replica = r;
  Replica& rep = replicas_[r];
  ServiceRun& s = services_[rep.service];
  if (rep.busy < s.threads) {
    ++rep.busy;
    StartMain(f);
  } else {
    rep.waiting.push_back(f);
    ++s.truth.waiting;
  }
}

void Simulation::StartMain(uint32_t f) {
  const Frame& fr = frames_[f];
  Run(NewTask(f, program_.ops[fr.op].entry, kNone, fr.seed));
}

void Simulation::Run(uint32_t task) {
  for (;;) {
    Task& t = tasks_[task];
    const Instr& in = program_.code[t.pc];
    const bool skip = in.probability < 1 && in.op != Instr::Op::kEndBranch &&
                      in.op != Instr::Op::kEnd && t.rng.Uniform() >= in.probability;
    switch (in.op) {
      case Instr::Op::kCpu: {
        ++t.pc;
        if (skip) continue;
        const double demand = program_.dists[in.arg].Sample(t.rng);
        if (demand <= 0) continue;
        cpu_.StartJob(replicas_[frames_[t.frame].replica].container, demand, task, now_);
        return;
      }
      case Instr::Op::kCall: {
        ++t.pc;
        if (skip) continue;
        const uint64_t seed = t.rng.Next();
        const uint32_t parent_frame = t.frame;
        const uint32_t child = NewFrame();  // may move frames_, not tasks_
        Frame& c = frames_[child];
        const Frame& p = frames_[parent_frame];
        c.trace = p.trace;
        c.parent_span_id = p.span_id;
        c.span_id = next_span_id_++;
        c.op = in.arg;
        c.caller_task = in.async ? kNone : task;
        c.request_type = kNone;
        c.seed = seed;
        queue_.PushInOrder(now_ + app_.network_delay, kDeliver, child);
        if (in.async) continue;
        return;
      }
      case Instr::Op::kStore:
        ++t.pc;
        if (skip) continue;
        queue_.Push(now_ + in.delay, kResume, task);
        return;
      case Instr::Op::kFork: {
        t.pc = in.next;
        if (skip) continue;
        // One extra count keeps branches that finish at once from resuming this task early.
        t.pending = in.count + 1;
        const uint32_t frame = t.frame;
        for (uint32_t i = 0; i < in.count; ++i) {
          const uint64_t seed = tasks_[task].rng.Next();
          Run(NewTask(frame, program_.branch_starts[in.arg + i], task, seed));
        }
        if (--tasks_[task].pending == 0) continue;
        return;
      }
      case Instr::Op::kEndBranch: {
        const uint32_t parent = t.parent;
        FreeTask(task);
        if (--tasks_[parent].pending != 0) return;
        task = parent;
        continue;
      }
      case Instr::Op::kEnd: {
        const uint32_t frame = t.frame;
        FreeTask(task);
        FinishFrame(frame);
        return;
      }
    }
  }
}

void Simulation::FinishFrame(uint32_t f) {
  const Frame fr = frames_[f];
  frames_[f].live = false;
  free_frames_.push_back(f);
  const uint32_t r = fr.replica;
  Replica& rep = replicas_[r];
  ServiceRun& s = services_[rep.service];
  if (options_.emit_spans) EmitSpan(fr);
  TouchTruth(s.truth);
  --s.truth.present;
  ++s.truth.completions;
  s.truth.sojourn_sum += now_ - fr.arrival;
  --rep.busy;
  uint32_t next = kNone;
  if (!rep.waiting.empty()) {
    next = rep.waiting.front();
    rep.waiting.pop_front();
    --s.truth.waiting;
    ++rep.busy;
  }
  if (fr.caller_task != kNone) {
    queue_.PushInOrder(now_ + app_.network_delay, kResume, fr.caller_task);
  }
  if (fr.request_type != kNone) {
    ++requests_done_;
    if (listener_) listener_->OnRequestDone(fr.request_type, fr.arrival, now_);
  }
  if (next != kNone) {
    StartMain(next);
  } else {
    RemoveIfIdle(r);
  }
}

void Simulation::EmitSpan(const Frame& f) {
  const Replica& rep = replicas_[f.replica];
  exporter::spans::Span& span = spans_.Add();
  span.trace_id = f.trace;
  span.span_id = f.span_id;
  span.parent_span_id = f.parent_span_id;
  span.start_unix_nano = ToUnixNanos(f.arrival);
  span.end_unix_nano = ToUnixNanos(now_);
  span.service = app_.services[rep.service].name;
  span.operation = program_.ops[f.op].name;
  span.instance = rep.pod;
  span.k8s_namespace = app_.k8s_namespace;
  span.kind = exporter::spans::SpanKind::kServer;
}

uint32_t Simulation::NewFrame() {
  uint32_t f;
  if (!free_frames_.empty()) {
    f = free_frames_.back();
    free_frames_.pop_back();
  } else {
    f = static_cast<uint32_t>(frames_.size());
    frames_.emplace_back();
  }
  frames_[f].live = true;
  return f;
}

uint32_t Simulation::NewTask(uint32_t frame, uint32_t pc, uint32_t parent, uint64_t seed) {
  uint32_t id;
  if (!free_tasks_.empty()) {
    id = free_tasks_.back();
    free_tasks_.pop_back();
  } else {
    id = static_cast<uint32_t>(tasks_.size());
    tasks_.emplace_back();
  }
  tasks_[id] = Task{.frame = frame, .pc = pc, .parent = parent, .pending = 0, .rng = Rng(seed)};
  return id;
}

std::string PodName(std::string_view deployment, int ordinal) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  auto encode = [](uint64_t seed, int length, std::string& out) {
    Rng rng(seed);
    for (int i = 0; i < length; ++i) out += kAlphabet[rng.Next() % kAlphabet.size()];
  };
  uint64_t h = 14695981039346656037ULL;  // FNV-1a of the name seeds the template hash
  for (const char c : deployment) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  std::string out(deployment);
  out += '-';
  encode(h, 10, out);
  out += '-';
  encode(h ^ static_cast<uint64_t>(ordinal + 1), 5, out);
  return out;
}

void Simulation::FreeTask(uint32_t task) { free_tasks_.push_back(task); }

int64_t Simulation::PodRequestMilli(uint32_t service) const {
  const ServiceRun& s = services_[service];
  // A request above the limit is not a valid pod spec: the request follows a lower limit.
  return Milli(s.cpu_limit > 0 ? std::min(s.cpu_limit, s.cpu_request) : s.cpu_request);
}

int Simulation::PickNode(uint32_t service, int64_t milli) {
  const ServiceRun& s = services_[service];
  if (s.anti_affinity) {
    std::fill(node_scratch_.begin(), node_scratch_.end(), 0);
    for (const uint32_t id : s.live) node_scratch_[static_cast<size_t>(replicas_[id].node)] = 1;
    for (const uint32_t id : s.draining) {
      node_scratch_[static_cast<size_t>(replicas_[id].node)] = 1;
    }
  }
  const int64_t score_milli = milli > 0 ? milli : kDefaultMilliCpu;
  int best = -1;
  int64_t best_score = -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeRun& n = nodes_[i];
    // Filters: NodeResourcesFit on CPU, then required anti-affinity.
    if (!n.present || n.requested_milli + milli > n.allocatable_milli) continue;
    if (s.anti_affinity && node_scratch_[i]) continue;
    // NodeResourcesFit's LeastAllocated score on CPU, 0…100 in whole points.
    const int64_t requested = n.score_requested_milli + score_milli;
    int64_t score = requested > n.allocatable_milli
                        ? 0
                        : (n.allocatable_milli - requested) * 100 / n.allocatable_milli;
    if (s.avoid_node >= 0 && static_cast<int>(i) != s.avoid_node) {
      score += kPreferredAntiAffinityScore;
    }
    if (score > best_score) {  // ties go to the lowest index
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

bool Simulation::AddPod(uint32_t service, bool ready) {
  const int node = PickNode(service, PodRequestMilli(service));
  if (node < 0) {
    pending_.push_back({.service = service, .since = now_});
    ++services_[service].pending;
    MaybeScaleUp();
    return false;
  }
  Place(service, node, ready);
  return true;
}

uint32_t Simulation::Place(uint32_t service, int node, bool ready) {
  ServiceRun& s = services_[service];
  s.avoid_node = -1;  // the preference was for this placement
  const auto id = static_cast<uint32_t>(replicas_.size());
  Replica& r = replicas_.emplace_back();
  r.service = service;
  r.pod = PodName(app_.services[service].name, s.ordinal++);
  r.node = node;
  r.container = cpu_.AddContainer(node, s.cpu_limit, now_);
  r.state = ready ? ReplicaState::kReady : ReplicaState::kStarting;
  r.created = now_;
  r.guaranteed = s.cpu_limit > 0 && s.cpu_request >= s.cpu_limit;
  r.cpu_request = static_cast<double>(PodRequestMilli(service)) / 1000;
  NodeRun& n = nodes_[static_cast<size_t>(node)];
  n.requested_milli += Milli(r.cpu_request);
  n.score_requested_milli += ScoreMilli(r.cpu_request);
  ++n.pods;
  n.empty_since = -1;
  s.live.push_back(id);
  if (ready) {
    s.routable.push_back(id);
  } else {
    queue_.Push(now_ + app_.pod_startup, kPodReady, id);
  }
  return id;
}

void Simulation::SetPodRequest(Replica& rep, double cores) {
  NodeRun& n = nodes_[static_cast<size_t>(rep.node)];
  n.requested_milli += Milli(cores) - Milli(rep.cpu_request);
  n.score_requested_milli += ScoreMilli(cores) - ScoreMilli(rep.cpu_request);
  rep.cpu_request = cores;
}

void Simulation::ReleasePod(uint32_t id) {
  Replica& rep = replicas_[id];
  cpu_.RemoveContainer(rep.container, now_);
  rep.state = ReplicaState::kGone;
  NodeRun& n = nodes_[static_cast<size_t>(rep.node)];
  n.requested_milli -= Milli(rep.cpu_request);
  n.score_requested_milli -= ScoreMilli(rep.cpu_request);
  if (--n.pods == 0) NodeEmptied(rep.node);
  SchedulePending();
}

void Simulation::SchedulePending() {
  if (pending_.empty()) return;
  size_t kept = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const PendingPod p = pending_[i];
    const int node = PickNode(p.service, PodRequestMilli(p.service));
    if (node < 0) {
      pending_[kept++] = p;
      continue;
    }
    --services_[p.service].pending;
    Place(p.service, node, app_.pod_startup <= 0);
  }
  pending_.resize(kept);
  MaybeScaleUp();
}

void Simulation::RemoveIfIdle(uint32_t r) {
  Replica& rep = replicas_[r];
  if (rep.state != ReplicaState::kDraining || rep.busy > 0 || !rep.waiting.empty()) return;
  std::erase(services_[rep.service].draining, r);
  ReleasePod(r);
}

void Simulation::SetReplicas(uint32_t service, int n) {
  ServiceRun& s = services_[service];
  n = std::max(1, n);
  while (Replicas(service) < n) AddPod(service, app_.pod_startup <= 0);
  while (Replicas(service) > n) {
    if (s.pending > 0) {  // the newest Pending pod: it has nothing to lose
      for (size_t i = pending_.size(); i-- > 0;) {
        if (pending_[i].service != service) continue;
        pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
      --s.pending;
      continue;
    }
    // Newest starting pod first (it serves nothing yet), else the ready one with the lowest
    // deletion cost, newest among equals.
    auto pick = std::find_if(s.live.rbegin(), s.live.rend(), [this](uint32_t id) {
      return replicas_[id].state == ReplicaState::kStarting;
    });
    if (pick == s.live.rend()) {
      pick = s.live.rbegin();
      for (auto it = s.live.rbegin(); it != s.live.rend(); ++it) {
        if (replicas_[*it].deletion_cost < replicas_[*pick].deletion_cost) pick = it;
      }
    }
    const uint32_t id = *pick;
    s.live.erase(std::next(pick).base());
    Replica& rep = replicas_[id];
    if (rep.state == ReplicaState::kStarting) {
      ReleasePod(id);
      continue;
    }
    rep.state = ReplicaState::kDraining;
    std::erase(s.routable, id);
    s.draining.push_back(id);
    RemoveIfIdle(id);
  }
}

void Simulation::SetCpuLimit(uint32_t service, double cores) {
  ServiceRun& s = services_[service];
  s.cpu_limit = cores;
  bool lowered = false;
  auto resize = [&](uint32_t id) {
    Replica& rep = replicas_[id];
    // A Guaranteed pod keeps request = limit; a Burstable pod's request stays below its limit.
    double request = s.cpu_request;
    if (rep.guaranteed) {
      request = cores > 0 ? cores : rep.cpu_request;
    } else if (cores > 0) {
      request = std::min(cores, s.cpu_request);
    }
    const NodeRun& n = nodes_[static_cast<size_t>(rep.node)];
    const int64_t more = Milli(request) - Milli(rep.cpu_request);
    if (more > 0 && n.requested_milli + more > n.allocatable_milli) {
      ++infeasible_resizes_;
      return;
    }
    lowered = lowered || more < 0;
    SetPodRequest(rep, request);
    cpu_.SetLimit(rep.container, cores, now_);
  };
  for (const uint32_t id : s.live) resize(id);
  for (const uint32_t id : s.draining) resize(id);
  if (lowered) SchedulePending();
}

void Simulation::SetAntiAffinity(uint32_t service, bool required) {
  services_[service].anti_affinity = required;
  if (!required) SchedulePending();
}

void Simulation::AvoidNode(uint32_t service, int node) { services_[service].avoid_node = node; }

int Simulation::PendingReplicas(uint32_t service) const { return services_[service].pending; }

int Simulation::Replicas(uint32_t service) const {
  return static_cast<int>(services_[service].live.size()) + services_[service].pending;
}

int Simulation::ReadyReplicas(uint32_t service) const {
  return static_cast<int>(services_[service].routable.size());
}

void Simulation::TouchTruth(ServiceTruth& t) {
  const double dt = now_ - t.last_change;
  t.present_area += t.present * dt;
  t.waiting_area += t.waiting * dt;
  t.last_change = now_;
}

ServiceTruth Simulation::Truth(uint32_t service) {
  TouchTruth(services_[service].truth);
  return services_[service].truth;
}

}  // namespace sim
