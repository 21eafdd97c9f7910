#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/spans/span.h"
#include "sim/app.h"
#include "sim/cfs.h"
#include "sim/engine.h"
#include "sim/program.h"
#include "sim/random.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace sim {

struct SimulationOptions {
  uint64_t seed = 1;
  // Span timestamps: simulated time 0 is this many seconds after the Unix epoch.
  int64_t epoch_unix_seconds = 1'700'000'000;
  bool emit_spans = true;
  // Interference on the app's nodes, on top of their own background.
  Scenario scenario;
};

enum class ReplicaState { kStarting, kReady, kDraining, kGone };

// A Deployment's pod name as Kubernetes makes it, <deployment>-<pod-template-hash>-<suffix>, with
// the hash (10 characters) from the deployment name and the suffix (5) from the ordinal, both in
// the apiserver's alphabet (no vowels, no 0/1/3): deterministic, and parsed by the same
// label_replace as real pods.
std::string PodName(std::string_view deployment, int ordinal);

// One pod of a service: a container on a node, with `threads` worker threads. Requests wait in
// FIFO order for a free thread and hold it until they finish, including while they wait for their
// downstream calls (a thread-per-request server).
struct Replica {
  uint32_t service = 0;
  std::string
      pod;  // PodName(service, ordinal); kept after the pod is gone (spans may still name it)
  int node = 0;
  uint32_t container = 0;  // in CpuModel; not valid once gone
  ReplicaState state = ReplicaState::kStarting;
  int busy = 0;                  // threads holding a request
  std::deque<uint32_t> waiting;  // requests (frames) waiting for a thread
  double created = 0;
  // Guaranteed QoS (CPU request = limit) when created; Kubernetes keeps a pod's QoS class for
  // its life, and an in-place resize that would change it is refused.
  bool guaranteed = false;
  // The pod's CPU request now (cores): a Guaranteed pod's follows its limit, a Burstable pod's
  // is the service's request, lowered to a lower limit.
  double cpu_request = 0;
  // Routing weight (SetRouteWeights); 0 = none given, the replica takes the mean of the others.
  double route_weight = 0;
  double route_credit = 0;  // smooth weighted round robin's running credit
  // controller.kubernetes.io/pod-deletion-cost: among ready pods the lowest goes first.
  int deletion_cost = 0;
};

// A routing weight or deletion cost for one pod, by name.
struct PodWeight {
  std::string pod;
  double weight = 0;
  int deletion_cost = 0;
};

// What the simulator knows about one service exactly: the ground truth the exporter's estimates
// are checked against. Areas are time integrals (request·seconds).
struct ServiceTruth {
  uint64_t arrivals = 0;
  uint64_t completions = 0;
  double sojourn_sum = 0;   // seconds, over completions: arrival at the service to reply
  double present_area = 0;  // ∫ requests at the service (waiting or holding a thread) dt
  double waiting_area = 0;  // ∫ requests waiting for a thread dt
  int present = 0;
  int waiting = 0;
  double last_change = 0;
};

// Told about every end-to-end request (the root call's reply).
class RequestListener {
 public:
  virtual ~RequestListener() = default;
  virtual void OnRequestDone(uint32_t type, double start, double end) = 0;
};

// The discrete-event simulation of one application: arrivals from a trace, calls through the
// call graph, CPU on CFS-limited containers, replicas started and drained on request. Emits one
// server span per call. Single-threaded; the caller drives time with RunUntil() and acts between
// calls (scaling, reading counters, taking the spans).
class Simulation {
 public:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  Simulation(const App& app, const RateTrace& trace, const SimulationOptions& options);
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Processes every event up to and including `t` (≥ now()), then sets now() to t.
  void RunUntil(double t);
  double now() const { return now_; }
  // The trace's end: no arrivals after it.
  double end() const { return trace_end_; }

  // Actuation. Replicas beyond `n` are removed: Pending pods first, then newest first, those
  // still starting at once and ready ones after draining (no new requests; gone when idle); among
  // ready pods the lowest deletion cost goes first, as a ReplicaSet orders them. New
  // pods are scheduled as kube-scheduler does (see PickNode) and become ready after the app's
  // pod_startup; a pod that fits no node stays Pending (no container, no traffic) and is
  // scheduled, oldest first, when capacity frees. n ≥ 1.
  void SetReplicas(uint32_t service, int n);
  // Per-pod CFS limit of every replica of the service, an in-place resize. A Guaranteed pod's
  // request moves with its limit; a resize that would raise requests beyond the node's
  // allocatable is left unapplied on that pod (Kubernetes' Deferred/Infeasible resize) and
  // counted. New pods get the service's new limit. ≤ 0 removes the quota.
  void SetCpuLimit(uint32_t service, double cores);
  // Required pod anti-affinity on the node: a new pod of the service avoids every node that runs
  // one (pods already placed stay, as IgnoredDuringExecution).
  void SetAntiAffinity(uint32_t service, bool required);
  // Preferred anti-affinity to `node` for the service's next placement only (a weight-100 term
  // under InterPodAffinity's score weight 2): the node is still used when nothing else fits.
  void AvoidNode(uint32_t service, int node);
  // Per-endpoint routing weights, as a proxy with weighted endpoints (Envoy EDS
  // load_balancing_weight, gRPC weighted round robin) applies them: per call, smooth weighted
  // round robin over the ready replicas (each gets its weight's share of every Σw calls, spread
  // evenly); per connection, a weighted random pick. A ready replica without a weight takes the
  // mean weight of those with one. Pods not named keep their weight; each named pod also takes
  // its deletion cost, which orders SetReplicas' removal of ready pods (lowest first).
  void SetRouteWeights(uint32_t service, const std::vector<PodWeight>& weights);

  int Replicas(uint32_t service) const;       // Pending + starting + ready: the desired pods
  int ReadyReplicas(uint32_t service) const;  // ready
  int PendingReplicas(uint32_t service) const;
  int PendingReplicas() const { return static_cast<int>(pending_.size()); }
  // Resizes left unapplied on a pod because its node lacked the capacity.
  uint64_t infeasible_resizes() const { return infeasible_resizes_; }
  // Nodes in the cluster now (the node autoscaler adds and removes them).
  int Nodes() const { return nodes_present_; }
  double NodeAllocatable(int node) const { return nodes_[static_cast<size_t>(node)].allocatable; }
  double NodeRequested(int node) const {
    return static_cast<double>(nodes_[static_cast<size_t>(node)].requested_milli) / 1000;
  }
  double CpuLimit(uint32_t service) const { return services_[service].cpu_limit; }
  double CpuRequest(uint32_t service) const { return services_[service].cpu_request; }

  const App& app() const { return app_; }
  // Every replica ever created, by id; a deque, so references stay valid as pods are added.
  const std::deque<Replica>& replicas() const { return replicas_; }
  // Counters of a replica that is not gone.
  ContainerCounters Counters(uint32_t replica) {
    return cpu_.Counters(replicas_[replica].container, now_);
  }
  CpuModel& cpu() { return cpu_; }

  // Ground truth per service, areas brought up to now().
  ServiceTruth Truth(uint32_t service);

  // Spans of calls finished since the last Clear(); views point into the simulation's strings
  // and this batch's arena.
  exporter::spans::SpanBatch& spans() { return spans_; }

  void set_listener(RequestListener* listener) { listener_ = listener; }

  // Calls fn(type, start) for every request that has arrived and not finished.
  template <typename Fn>
  void ForEachPendingRequest(Fn&& fn) const {
    for (const Frame& f : frames_) {
      if (f.live && f.request_type != kNone) fn(f.request_type, f.arrival);
    }
  }

  uint64_t events() const { return events_; }
  uint64_t requests_started() const { return requests_started_; }
  uint64_t requests_done() const { return requests_done_; }
  int64_t epoch_nanos() const { return epoch_nanos_; }
  int64_t ToUnixNanos(double t) const;

 private:
  enum EventKind : uint32_t {
    kArrival,
    kDeliver,
    kResume,
    kPodReady,
    kBackground,
    kNodeReady,
    kNodeUnneeded,
    kInterference
  };

  struct Frame {  // one call at one replica
    exporter::spans::TraceId trace;
    uint64_t span_id = 0;
    uint64_t parent_span_id = 0;
    uint32_t op = 0;
    uint32_t replica = kNone;
    uint32_t caller_task = kNone;   // resumed with the reply; kNone for roots and async calls
    uint32_t request_type = kNone;  // set on roots only
    uint64_t seed = 0;
    double arrival = 0;
    bool live = false;  // false while on the free list
  };
  struct Task {  // a thread of control inside a frame: its main body or a branch of a fork
    uint32_t frame = 0;
    uint32_t pc = 0;
    uint32_t parent = kNone;  // the forking task, for branches
    uint32_t pending = 0;     // branches still running
    Rng rng;
  };
  struct ServiceRun {
    double cpu_limit = 0;
    double cpu_request = 0;
    int threads = 1;
    std::vector<uint32_t> live;      // replicas starting or ready, oldest first
    std::vector<uint32_t> routable;  // ready replicas, oldest first
    std::vector<uint32_t> draining;
    uint32_t next_route = 0;
    int ordinal = 0;
    int pending = 0;  // Pending pods
    bool anti_affinity = false;
    int avoid_node = -1;
    bool weighted = false;  // SetRouteWeights was called
    // Long-lived connections (connection_lifetime > 0): each stays with its replica until
    // `expires` or until the replica stops being ready; calls take them in turn.
    struct Connection {
      uint32_t replica = kNone;
      double expires = 0;
    };
    double connection_lifetime = 0;
    std::vector<Connection> connections;
    uint32_t next_connection = 0;
    Rng connection_rng;
    ServiceTruth truth;
  };
  struct NodeRun {
    int group = 0;
    bool present = true;
    double allocatable = 0;
    // Milli-cores, as the scheduler sums them, so fits are exact.
    int64_t allocatable_milli = 0;
    int64_t requested_milli = 0;
    int64_t score_requested_milli = 0;  // with the scheduler's 100m for pods requesting none
    int pods = 0;                       // not gone
    double empty_since = -1;            // when the node last became empty; -1 while it has pods
  };
  struct PendingPod {
    uint32_t service = 0;
    double since = 0;
  };

  void Dispatch(const EventQueue::Event& e);
  void StartRequest();
  void Deliver(uint32_t frame);
  void Admit(uint32_t replica, uint32_t frame);
  void StartMain(uint32_t frame);
  void Run(uint32_t task);
  void FinishFrame(uint32_t frame);
  void EmitSpan(const Frame& f);
  uint32_t NewFrame();
  uint32_t NewTask(uint32_t frame, uint32_t pc, uint32_t parent, uint64_t seed);
  uint32_t Route(ServiceRun& s);
  double RouteWeight(const ServiceRun& s, uint32_t replica) const;
  int AddNode(int group);
  int GroupNodes(int group) const;  // nodes of the group present now
  // Starts the node's scale-down-unneeded clock when the autoscaler may remove it.
  void NodeEmptied(int node);
  // Creates a pod: on a node if one fits (returns true), else Pending.
  bool AddPod(uint32_t service, bool ready);
  // kube-scheduler's choice for a pod of `service` requesting `milli`: -1 when none fits.
  int PickNode(uint32_t service, int64_t milli);
  uint32_t Place(uint32_t service, int node, bool ready);
  int64_t PodRequestMilli(uint32_t service) const;
  void SetPodRequest(Replica& rep, double cores);
  void ReleasePod(uint32_t replica);
  void SchedulePending();
  void MaybeScaleUp();
  void RemoveIfIdle(uint32_t replica);
  void TouchTruth(ServiceTruth& t);
  void FreeTask(uint32_t task);

  const App& app_;
  Program program_;
  SimulationOptions options_;
  int64_t epoch_nanos_;
  ArrivalProcess arrivals_;
  ArrivalProcess::Arrival next_arrival_;
  double trace_end_;
  EventQueue queue_;
  CpuModel cpu_;
  std::vector<Background> backgrounds_;  // per node
  std::vector<NodeRun> nodes_;
  int nodes_present_ = 0;
  bool provisioning_ = false;  // the node autoscaler is adding a node
  int autoscaled_group_ = -1;
  // The scenario's changes, applied in order by kInterference events.
  std::vector<InterferenceChange> interference_;
  std::deque<Replica> replicas_;
  std::vector<ServiceRun> services_;
  std::vector<PendingPod> pending_;  // oldest first
  std::vector<char> node_scratch_;   // per node, for placement
  uint64_t infeasible_resizes_ = 0;
  std::vector<Frame> frames_;
  std::vector<uint32_t> free_frames_;
  std::vector<Task> tasks_;
  std::vector<uint32_t> free_tasks_;
  std::vector<CpuModel::Token> finished_;
  exporter::spans::SpanBatch spans_;
  RequestListener* listener_ = nullptr;
  double now_ = 0;
  uint64_t next_span_id_ = 1;
  uint64_t trace_hi_;
  uint64_t events_ = 0;
  uint64_t requests_started_ = 0;
  uint64_t requests_done_ = 0;
};

}  // namespace sim
