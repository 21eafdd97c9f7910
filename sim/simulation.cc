#include "sim/simulation.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace sim {
namespace {

constexpr double kTwoPi = 6.283185307179586;

double BackgroundAt(const Background& b, double t) {
  return std::max(0.0, b.mean + b.amplitude * std::sin(kTwoPi * (t + b.phase) / b.period));
}

std::vector<double> Weights(const App& app) {
  std::vector<double> w;
  for (const RequestType& r : app.requests) w.push_back(r.weight);
  return w;
}

}  // namespace

Simulation::Simulation(const App& app, const RateTrace& trace, SimulationOptions options)
    : app_(app),
      program_(Compile(app)),
      options_(options),
      epoch_nanos_(options.epoch_unix_seconds * 1'000'000'000),
      arrivals_(trace, Weights(app), DeriveSeed(options.seed, 1)),
      trace_end_(trace.duration()),
      cpu_(DeriveSeed(options.seed, 4)),
      trace_hi_(DeriveSeed(options.seed, 2) | 1) {
  for (const NodeGroup& g : app.nodes) {
    for (int i = 0; i < g.count; ++i) {
      const int node = cpu_.AddNode(g.cores);
      backgrounds_.push_back(g.background);
      node_requested_.push_back(0);
      if (g.background.mean > 0 || g.background.amplitude > 0) {
        cpu_.SetBackground(node, BackgroundAt(g.background, 0), 0);
        queue_.Push(g.background.step, kBackground, static_cast<uint32_t>(node));
      }
    }
  }
  services_.resize(app.services.size());
  for (size_t s = 0; s < app.services.size(); ++s) {
    const Service& svc = app.services[s];
    ServiceRun& run = services_[s];
    run.cpu_limit = svc.cpu_limit;
    // Kubernetes defaults the request to the limit when only a limit is given.
    run.cpu_request = svc.cpu_request > 0 ? svc.cpu_request : svc.cpu_limit;
    run.threads = svc.threads;
    for (int i = 0; i < svc.replicas; ++i) AddReplica(static_cast<uint32_t>(s), true);
  }
  // Its own stream, so a scenario leaves the arrivals as they were.
  interference_ =
      InterferenceTimeline(options.scenario, app, DeriveSeed(options.seed, 3), trace_end_);
  if (!interference_.empty()) queue_.Push(interference_[0].time, kInterference, 0);
  next_arrival_ = arrivals_.Next();
  if (std::isfinite(next_arrival_.time)) queue_.Push(next_arrival_.time, kArrival, 0);
}

int64_t Simulation::ToUnixNanos(double t) const { return epoch_nanos_ + std::llround(t * 1e9); }

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
  }
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
  // Round robin over ready replicas, like kube-proxy; a service always keeps one ready replica
  // (SetReplicas drains starting pods first), the fallback only covers a start with none.
  uint32_t r;
  if (!s.routable.empty()) {
    r = s.routable[s.next_route++ % s.routable.size()];
  } else {
    r = s.live.front();
  }
  TouchTruth(s.truth);
  ++s.truth.present;
  ++s.truth.arrivals;
  Admit(r, f);
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
        queue_.Push(now_ + app_.network_delay, kDeliver, child);
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
  if (fr.caller_task != kNone) queue_.Push(now_ + app_.network_delay, kResume, fr.caller_task);
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

uint32_t Simulation::AddReplica(uint32_t service, bool ready) {
  ServiceRun& s = services_[service];
  int node = 0;
  for (size_t n = 1; n < node_requested_.size(); ++n) {
    if (node_requested_[n] < node_requested_[static_cast<size_t>(node)]) node = static_cast<int>(n);
  }
  const auto id = static_cast<uint32_t>(replicas_.size());
  Replica& r = replicas_.emplace_back();
  r.service = service;
  r.pod = PodName(app_.services[service].name, s.ordinal++);
  r.node = node;
  r.container = cpu_.AddContainer(node, s.cpu_limit, now_);
  r.state = ready ? ReplicaState::kReady : ReplicaState::kStarting;
  r.created = now_;
  r.guaranteed = s.cpu_limit > 0 && s.cpu_request >= s.cpu_limit;
  node_requested_[static_cast<size_t>(node)] += s.cpu_request;
  s.live.push_back(id);
  if (ready) {
    s.routable.push_back(id);
  } else {
    queue_.Push(now_ + app_.pod_startup, kPodReady, id);
  }
  return id;
}

void Simulation::RemoveIfIdle(uint32_t r) {
  Replica& rep = replicas_[r];
  if (rep.state != ReplicaState::kDraining || rep.busy > 0 || !rep.waiting.empty()) return;
  ServiceRun& s = services_[rep.service];
  cpu_.RemoveContainer(rep.container, now_);
  rep.state = ReplicaState::kGone;
  node_requested_[static_cast<size_t>(rep.node)] -= s.cpu_request;
  std::erase(s.draining, r);
}

void Simulation::SetReplicas(uint32_t service, int n) {
  ServiceRun& s = services_[service];
  n = std::max(1, n);
  while (static_cast<int>(s.live.size()) < n) AddReplica(service, app_.pod_startup <= 0);
  while (static_cast<int>(s.live.size()) > n) {
    // Newest starting pod first (it serves nothing yet), else the newest ready one.
    auto pick = std::find_if(s.live.rbegin(), s.live.rend(), [this](uint32_t id) {
      return replicas_[id].state == ReplicaState::kStarting;
    });
    if (pick == s.live.rend()) pick = s.live.rbegin();
    const uint32_t id = *pick;
    s.live.erase(std::next(pick).base());
    Replica& rep = replicas_[id];
    if (rep.state == ReplicaState::kStarting) {
      cpu_.RemoveContainer(rep.container, now_);
      rep.state = ReplicaState::kGone;
      node_requested_[static_cast<size_t>(rep.node)] -= s.cpu_request;
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
  for (uint32_t id : s.live) cpu_.SetLimit(replicas_[id].container, cores, now_);
  for (uint32_t id : s.draining) cpu_.SetLimit(replicas_[id].container, cores, now_);
}

int Simulation::Replicas(uint32_t service) const {
  return static_cast<int>(services_[service].live.size());
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
