#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

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

// Runnable threads share their node's cores equally (processor sharing): with R runnable threads
// and background load B on C cores, each runs at rate min(1, C / (R + B)) cores. A thread that is
// runnable but not running accrues run-queue wait at 1 − rate, so wait appears exactly when
// runnable threads exceed the cores.
//
// CFS bandwidth, per container, with periods aligned on multiples of kCfsPeriod: a container
// whose usage in the current period reaches its quota (limit · period) is throttled — its
// threads stop — until the period ends. As in kernel/sched/fair.c:
//   nr_periods     counts the periods in which the container was active (had runnable threads or
//                  used CPU), like the period timer that goes idle on idle groups;
//   nr_throttled   counts the periods that ended with the container throttled;
//   throttled_usec sums, per CPU run queue, the time it spent throttled: while throttled, each of
//                  min(runnable threads, cores) run queues accrues the throttled time.
// Simplifications: run-queue wait counts contention only (older kernels also count throttled
// time in run_delay); PSI "some" is the time with runnable threads under contention or
// throttled, "full" the time throttled with runnable threads.
//
// Each node keeps a virtual clock Φ = ∫ rate dt: every unthrottled runnable thread of the node
// progresses by dΦ. A container's next event (its first job finishing, or its quota running out)
// is a point on Φ that does not move when the rate changes, so a rate change costs one division,
// and containers are brought up to date lazily, only when they change or are read.
class CpuModel {
 public:
  using Token = uint32_t;

  // Returns the node's index.
  int AddNode(int cores);
  // limit_cores ≤ 0: no quota. Returns the container's id.
  uint32_t AddContainer(int node, double limit_cores, double now);
  // The container must have no jobs. Its id may be reused.
  void RemoveContainer(uint32_t c, double now);

  void SetLimit(uint32_t c, double limit_cores, double now);
  void SetBackground(int node, double threads, double now);

  // A thread of container `c` becomes runnable with `demand` seconds of CPU to do; `token` comes
  // back from Step() when it is done.
  void StartJob(uint32_t c, double demand, Token token, double now);

  // When the next job finishes or a container runs out of quota: kInfinity if never.
  double NextTime() const;
  // Handles the event at NextTime() and returns its time; tokens of finished jobs are appended.
  double Step(std::vector<Token>& finished);
  // Ends the CFS period at `now` (a multiple of kCfsPeriod) on every node.
  void PeriodBoundary(double now);

  ContainerCounters Counters(uint32_t c, double now);
  int Runnable(uint32_t c) const { return containers_[c].jobs_count; }
  bool Throttled(uint32_t c) const { return containers_[c].throttled; }
  double Limit(uint32_t c) const;
  int NodeOf(uint32_t c) const { return containers_[c].node; }
  int NodeCores(int node) const { return nodes_[static_cast<size_t>(node)].cores; }
  size_t nodes() const { return nodes_.size(); }

 private:
  struct Node {
    int cores = 1;
    double background = 0;
    double last = 0;            // time the clocks below were advanced to
    double phi = 0;             // ∫ rate dt
    double phi_contended = 0;   // ∫ rate dt while rate < 1
    double contended_time = 0;  // ∫ dt while rate < 1
    int runnable = 0;           // runnable threads of unthrottled containers
    double rate = 1;            // cores per runnable thread
    double next_time = kInfinity;
    uint32_t next_container = 0;
    std::vector<uint32_t> containers;
  };
  struct Container {
    int node = 0;
    bool live = false;
    double quota = kInfinity;  // CPU seconds per period
    bool throttled = false;
    bool active = false;  // in the current period
    double used = 0;      // CPU seconds in the current period
    // Node clocks at the last sync.
    double sync_time = 0, sync_phi = 0, sync_phi_contended = 0, sync_contended_time = 0;
    double progress = 0;  // Φ-progress of this container's threads (frozen while throttled)
    int jobs_count = 0;
    std::vector<std::pair<double, Token>> jobs;  // min-heap on the progress that finishes them
    double event_phi = kInfinity;                // node Φ of the next completion or throttle
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

  std::vector<Node> nodes_;
  std::vector<Container> containers_;
  std::vector<uint32_t> free_;
};

}  // namespace sim
