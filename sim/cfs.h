#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "sim/random.h"

// CPU of the simulated cluster: nodes with cores, containers on them with CFS bandwidth control.
namespace sim {

inline constexpr double kCfsPeriod = 0.1;  // seconds, Kubernetes' cpu.cfs_period_us
// EEVDF's base slice with 8+ CPUs (0.75 ms · (1 + log2 CPUs), capped at 8): the length of a
// timeslice when runnable threads outnumber cores.
inline constexpr double kBaseSlice = 0.003;
inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Cumulative counters of one container, as the kernel reports them (seconds instead of µs/ns).
struct ContainerCounters {
  double usage_seconds = 0;          // cpu.stat usage_usec
  uint64_t periods = 0;              // cpu.stat nr_periods
  uint64_t throttled_periods = 0;    // cpu.stat nr_throttled
  double throttled_seconds = 0;      // cpu.stat throttled_usec
  double run_delay_seconds = 0;      // Σ over threads of schedstat run_delay
  double timeslices = 0;             // Σ over threads of schedstat pcount
  double pressure_some_seconds = 0;  // cpu.pressure "some" total
  double pressure_full_seconds = 0;  // cpu.pressure "full" total
};

// Cumulative counters of a node's other threads (background and antagonists), which the node's
// /proc/schedstat and PSI include, and of the time its runnable threads exceeded its cores.
struct NodeCounters {
  double other_usage_seconds = 0;      // their run time
  double other_run_delay_seconds = 0;  // their run-queue wait
  double other_timeslices = 0;
  double contended_seconds = 0;  // time some runnable thread waited: system-wide PSI "some"
};

// Runnable threads share their node's cores equally (processor sharing): with R runnable threads
// and other load B (background and antagonist threads) on C cores, each runs at rate
// min(1, C / (R + B)) cores. A thread that is runnable but not running accrues run-queue wait at
// 1 − rate, so wait appears exactly when runnable threads exceed the cores; with a timeslice of
// kBaseSlice, the wait per timeslice is kBaseSlice · (1/rate − 1), as the kernel's run_delay over
// pcount shows it.
//
// A node may also run slower (memory-bandwidth contention): with slowdown s ≥ 1 a thread that
// holds a core for dt does dt / s of its work. CPU accounting counts the stalled cycles, as the
// kernel does for memory stalls: the job takes s times longer and uses s times the CPU.
//
// CFS bandwidth, per container: each container's periods end on its own boundaries, phase +
// k · kCfsPeriod, the phase uniform in [0, kCfsPeriod) from the model's seed (the kernel arms a
// group's period timer when the group first runs, so groups do not share boundaries). A container
// whose usage in the current period reaches its quota (limit · period) is throttled — its threads
// stop — until its period ends. As in kernel/sched/fair.c:
//   nr_periods     counts the periods in which the container was active (had runnable threads or
//                  used CPU), like the period timer that goes idle on idle groups;
//   nr_throttled   counts the periods that ended with the container throttled;
//   throttled_usec sums, per CPU run queue, the time it spent throttled: while throttled, each of
//                  min(runnable threads, cores) run queues accrues the throttled time.
// Simplifications: run-queue wait counts contention only (older kernels also count throttled
// time in run_delay). PSI: while throttled with runnable threads, "some" and "full" both accrue.
// Under contention the cores run a uniformly random set of the node's runnable threads at any
// instant (timeslices hand them round), so "some" accrues the probability that not all of the
// container's k threads run and "full" that none does (hypergeometric odds, at the mean rate
// since the container was last brought up to date, which every background or antagonist change
// does) — for one thread both equal its run-queue wait, 1 − rate per second; k threads alone on
// fewer cores give "some" all the time and "full" never.
//
// Each node keeps a virtual clock Φ = ∫ rate dt: every unthrottled runnable thread of the node
// uses dΦ of CPU and does dΦ / slowdown of work. A container's next event (its first job
// finishing, or its quota running out) is a point on Φ that does not move when the rate changes,
// so a rate change costs one division, and containers are brought up to date lazily, only when
// they change or are read. Period ends are a min-heap of (time, container) over the containers
// whose period timer runs (those with a quota that were active since their last period end), so
// an idle or unlimited container costs nothing per period.
class CpuModel {
 public:
  using Token = uint32_t;

  // `seed` draws the containers' period phases.
  explicit CpuModel(uint64_t seed = 0) : rng_(seed) {}

  // Returns the node's index.
  int AddNode(int cores);
  // limit_cores ≤ 0: no quota. Returns the container's id.
  uint32_t AddContainer(int node, double limit_cores, double now);
  // The container must have no jobs. Its id may be reused.
  void RemoveContainer(uint32_t c, double now);

  void SetLimit(uint32_t c, double limit_cores, double now);
  // Other tenants' runnable threads on the node (the app's background load).
  void SetBackground(int node, double threads, double now);
  // An antagonist's runnable threads, added to the background, and the node's slowdown (≥ 1).
  void SetInterference(int node, double threads, double slowdown, double now);

  // A thread of container `c` becomes runnable with `demand` seconds of CPU to do; `token` comes
  // back from Step() when it is done.
  void StartJob(uint32_t c, double demand, Token token, double now);

  // When the next job finishes, a container runs out of quota or a period ends: kInfinity if
  // never.
  double NextTime() const;
  // Handles the event at NextTime() and returns its time; tokens of finished jobs are appended.
  double Step(std::vector<Token>& finished);

  ContainerCounters Counters(uint32_t c, double now);
  NodeCounters NodeStats(int node, double now);
  int Runnable(uint32_t c) const { return containers_[c].jobs_count; }
  bool Throttled(uint32_t c) const { return containers_[c].throttled; }
  double Limit(uint32_t c) const;
  // The container's period ends are PeriodPhase(c) + k · kCfsPeriod.
  double PeriodPhase(uint32_t c) const { return containers_[c].phase; }
  int NodeOf(uint32_t c) const { return containers_[c].node; }
  int NodeCores(int node) const { return nodes_[static_cast<size_t>(node)].cores; }
  size_t nodes() const { return nodes_.size(); }

 private:
  struct Node {
    int cores = 1;
    double background = 0;
    double antagonist = 0;  // threads
    double slowdown = 1;
    double last = 0;            // time the clocks below were advanced to
    double phi = 0;             // ∫ rate dt
    double phi_contended = 0;   // ∫ rate dt while rate < 1
    double contended_time = 0;  // ∫ dt while rate < 1
    NodeCounters others;
    int runnable = 0;  // runnable threads of unthrottled containers
    double rate = 1;   // cores per runnable thread
    double next_time = kInfinity;
    uint32_t next_container = 0;
    std::vector<uint32_t> containers;
    // events[i] = containers_[containers[i]].event_phi, side by side so that finding the node's
    // next event reads one array instead of a cache line per container.
    std::vector<double> events;
  };
  struct Container {
    int node = 0;
    bool live = false;
    double quota = kInfinity;  // CPU seconds per period
    bool throttled = false;
    double used = 0;          // CPU seconds in the current period
    double phase = 0;         // of the period ends
    uint64_t period = 0;      // index of the next period end, when the timer runs
    bool timer = false;       // its period end is in periods_: active in the current period
    uint32_t generation = 0;  // tells a reused id's period ends from its predecessor's
    // Node clocks at the last sync.
    double sync_time = 0, sync_phi = 0, sync_phi_contended = 0, sync_contended_time = 0;
    double progress = 0;  // Φ-progress of this container's threads (frozen while throttled)
    int jobs_count = 0;
    std::vector<std::pair<double, Token>> jobs;  // min-heap on the progress that finishes them
    double event_phi = kInfinity;                // node Φ of the next completion or throttle
    uint32_t slot = 0;                           // its index in its node's containers and events
    ContainerCounters counters;
  };

  void Advance(Node& n, double now);
  void Sync(Container& c);
  void Throttle(Container& c);
  void Unthrottle(Container& c);
  double CompletionPhi(const Container& c) const;
  double ThrottlePhi(const Container& c) const;
  void UpdateEvent(Container& c);
  void UpdateNode(Node& n);
  void StartTimer(Container& c, uint32_t id, double now);
  double EndPeriod();

  struct PeriodEnd {
    double time;
    uint32_t container;
    uint32_t generation;
  };
  // Heap order: earliest first, then by container, so ties do not depend on the heap's history.
  static bool PeriodLater(const PeriodEnd& a, const PeriodEnd& b) {
    return a.time != b.time ? a.time > b.time : a.container > b.container;
  }

  Rng rng_;
  std::vector<Node> nodes_;
  std::vector<Container> containers_;
  std::vector<uint32_t> free_;
  std::vector<PeriodEnd> periods_;  // min-heap on time, then container
};

}  // namespace sim
