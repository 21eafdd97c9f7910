#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "exporter/kernel/cgroup_discovery.h"
#include "exporter/kernel/parsers.h"
#include "exporter/kernel/pod_mapping.h"
#include "exporter/kernel/rooted_fs.h"
#include "exporter/kernel/sample.h"
#include "exporter/kernel/taskstats.h"

namespace exporter::kernel {

struct CollectorOptions {
  // Keep statistics files open and re-read them with pread (performance.md §1.5); false opens,
  // reads and closes every file on every collection.
  bool keep_files_open = true;
  size_t max_open_files = 16'384;  // kept descriptors; files beyond it are opened per read
  size_t max_containers = 5'000;   // cgroups beyond it are skipped, counted as over_limit
  common::Duration discovery_interval = std::chrono::seconds{10};
  std::string cgroup_include, cgroup_exclude;  // see CgroupFilter
  std::string kubelet_url;                     // empty: names from the containers' environment
  // Fetch the kubelet pod list at every discovery, not only for containers still unnamed, so
  // changes of the pods' queuelens.io/cpu-control annotations are seen (--captain.apply).
  bool kubelet_every_discovery = false;
  // Set (--kernel.taskstats): run-queue counters per process, one taskstats query per process
  // of cgroup.procs, batched over every container, instead of one schedstat read per thread.
  ProcessStatsFn process_stats;
};

// One kernel collection after another, every path under the procfs and sysfs roots:
//   discovery (every discovery_interval, and after a container vanished): cgroup mounts from
//     <procfs>/1/mountinfo (else self/mountinfo), then a walk of the cpu hierarchy (v1/hybrid)
//     or the unified one (v2) for Kubernetes containers and --kernel.cgroup-include matches;
//     names from the kubelet or the containers' environment;
//   cgroups: per container cpu.stat and the limit (v2 cpu.max; v1 cfs_quota/period_us and
//     cpuacct.usage), cpu.pressure (v2, or the unified mirror of a hybrid host);
//   tasks: per container the thread list (cgroup.threads; tasks on v1) and
//     <procfs>/<tid>/task/<tid>/schedstat of every thread; with options.process_stats the
//     process list (cgroup.procs) and one taskstats answer per process instead, which sums the
//     process's threads, exited ones included;
//   node: <procfs>/pressure/cpu, <procfs>/schedstat, <sysfs>/devices/system/cpu/online.
// Run-queue counters are the sum over every task (thread, or process) ever listed: a task that
// leaves keeps its last values in the container's sum, and a task whose values go down (its ID
// was reused) is dropped and taken up afresh next time, so sums never decrease.
// Which threads are read: a thread's schedstat moves only while it runs, and the cgroup's CPU
// usage grows by exactly the run time of its threads (the kernel charges both from the same
// delta). So each container carries the usage growth no thread read has accounted for yet:
//   unaccounted += usage - usage at the last collection
//   for each known thread, largest run time growth at its last read first, while
//   unaccounted > 1 µs: read it; unaccounted -= its run time growth
// An idle container (nothing unaccounted) costs its cgroup files alone
// (KernelSample::idle_containers); a busy one costs the threads that ran. The thread list is
// read again, with every thread not yet read, when growth is left after every known thread
// (a new thread ran), when a read fails or a thread exited, and at every discovery; that full
// read sets unaccounted to 0. A thread skipped because another one's growth hid its own (the
// not-yet-charged time of a running thread, at most a scheduler tick; a thread that moved to
// another cgroup and ran there) is read by the next discovery at the latest. Processes follow
// the same rule, except that every known process of a container with growth is asked at once.
// A failed item is skipped with a debug log and a counted error; a container whose cgroup
// vanished is dropped. Single-threaded.
class Collector {
 public:
  // Throws std::regex_error on a bad include/exclude pattern.
  Collector(FsRoot procfs, FsRoot sysfs, CollectorOptions options, common::HttpGet kubelet_get);
  // Its open files point at its descriptor budget: it stays where it was made.
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Fills `out` (reused between calls, so steady-state collections do not allocate).
  void Collect(common::TimePoint now, KernelSample& out);
  // The cgroup files the Captains' 100 ms samples need (cpu.stat and the limit; v1 cpuacct.usage)
  // of the containers the last Collect found. No PSI, discovery, tasks or node files; `out.node`
  // is left alone.
  void CollectCgroups(KernelSample& out);

 private:
  enum Source { kDiscovery, kCgroups, kTasks, kNode, kKubelet, kSourceCount };
  enum Reason {
    kMissing,
    kPermission,
    kVanished,
    kIo,
    kMalformed,
    kPidReused,
    kFetch,
    kOverLimit,
    kReasonCount
  };

  // A file the kernel may not provide (PSI, cpu.max at the root): absent files are not errors
  // and are looked for again at the next discovery.
  struct OptionalFile {
    StatFile file;
    bool absent = false;
  };
  // A thread (its schedstat file), or with process_stats a process (no file).
  struct Task {
    int32_t id = 0;
    StatFile file;
    std::optional<TaskSchedstat> last;
    uint64_t ran_ns = 0;      // run time gained since the read before its last one
    uint64_t read_round = 0;  // the collection that last read it
    bool dropped = false;     // retired (exited, TID reused); removed at the end of the read
  };
  struct Container {
    DiscoveredCgroup cgroup;
    std::string dir;  // the cgroup's directory in the walked hierarchy
    StatFile cpu_stat, cpuacct_usage, task_list;
    OptionalFile cpu_max, cfs_quota, cfs_period, pressure;
    std::vector<Task> tasks;  // sorted by id
    TaskSchedstat retired;    // sums of tasks no longer listed
    // The cgroup's CPU usage at the last collection that read its threads (empty: the list must
    // be read), and the growth of that usage no thread read has accounted for since (negative
    // when threads ran on after the cgroup file was read).
    std::optional<uint64_t> usage_at_tasks;
    int64_t unaccounted_ns = 0;
    // This collection's process reads: the list was read (listing: it was due), a task exited
    // or a read failed (changed), nothing failed (complete).
    struct {
      bool listing = false, listed = false, changed = false, complete = true;
    } round;
    PodLabels labels;
    bool labels_final = false;
    bool gone = false;
    KernelSample::Container values;
  };

  void Discover(common::TimePoint now);
  std::unique_ptr<Container> NewContainer(DiscoveredCgroup cgroup);
  void ResolveLabels();
  // Every container's cgroup files, timed as the "cgroups" source; PSI only with `pressure`.
  void ReadCgroups(bool pressure);
  void ReadCgroupFiles(Container& c, bool pressure);
  // What a container's tasks need this collection: the list read (first time, discovery, usage
  // unknown or reset), nothing (no unaccounted growth) or the known tasks read.
  enum class Due { kList, kIdle, kActive };
  Due TasksDue(Container& c, bool list);
  void ReadTasks(Container& c, bool list);
  // Known threads, most active first, until their run time accounts for the usage growth.
  // False when the list has to be read: a thread exited, a read failed (`failed` set), or
  // growth is left.
  bool ReadActiveThreads(Container& c, bool& failed);
  // The thread list, then every listed thread this collection has not read yet. `complete`:
  // nothing failed before; the usage is recorded only if nothing fails here either.
  void ReadAllThreads(Container& c, bool complete);
  // Reads the task list and merges it into c.tasks: keep, add, retire. False when unreadable;
  // `clean` is cleared by malformed lines.
  bool MergeTaskList(Container& c, bool& clean);
  // After the list and every listed task were read: the sums, and the usage they account for
  // when `complete`.
  void FinishFullRead(Container& c, bool listed, bool complete);
  // With process_stats, for every container: the known processes of those with growth and the
  // processes of those whose list is due, all in one batch; then the list and the new
  // processes of those whose growth is left or whose processes changed.
  void ReadProcesses(bool list);
  void Ask(Container& c);  // queues the tasks this collection has not read yet
  void Answer();           // asks process_stats about the queue and applies the answers
  // A task's new values (nullptr when status is not kOk) into t.last. A task that exited or
  // whose ID was reused is retired and marked dropped; failures other than an exit are counted.
  enum class TaskRead { kOk, kExited, kFailed };
  TaskRead Update(Container& c, Task& t, ReadStatus status, const TaskSchedstat* values);
  TaskRead ReadThread(Container& c, Task& t);
  std::string Describe(const Task& t) const;  // the task in an error log
  void SumTasks(Container& c);
  void ReadNode(KernelSample::Node& node);
  // Reads a file every container has; failures count under `source`. ENODEV, or a missing file
  // in a missing directory, means the cgroup is gone: the container is dropped.
  bool ReadRequired(Container& c, StatFile& file, Source source);
  bool ReadOptional(OptionalFile& file, Source source);
  void Count(Source source, Reason reason, const std::string& what);
  void Retire(Container& c, const Task& t);
  void Fill(KernelSample& out) const;

  FsRoot procfs_, sysfs_;
  CollectorOptions options_;
  CgroupFilter filter_;
  PodMapper pods_;
  FdBudget budget_;
  CgroupLayout layout_;
  std::vector<std::unique_ptr<Container>> containers_;
  std::optional<common::TimePoint> last_discovery_;
  bool rediscover_ = false;

  StatFile node_pressure_, node_schedstat_, cpu_online_;
  ReadBuffer buf_;
  std::vector<int32_t> ids_;
  std::vector<Task> next_tasks_;
  std::vector<Task*> order_;
  std::vector<ProcessQuery> queries_;
  std::vector<std::pair<Container*, Task*>> asked_;  // whose answer queries_[i] is
  uint64_t round_ = 0;                               // collections so far
  size_t idle_containers_ = 0, threads_read_ = 0;

  std::array<std::array<uint64_t, kReasonCount>, kSourceCount> errors_{};
  struct SourceResult {
    bool ran = false;
    bool success = false;
    double seconds = 0;
  };
  std::array<SourceResult, kSourceCount> sources_{};
};

}  // namespace exporter::kernel
