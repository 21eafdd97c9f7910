#include "exporter/kernel/collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

namespace exporter::kernel {
namespace {

constexpr std::string_view kSourceNames[] = {"discovery", "cgroups", "tasks", "node", "kubelet"};
constexpr std::string_view kReasonNames[] = {"missing",   "permission", "vanished", "io",
                                             "malformed", "pid_reused", "fetch",    "over_limit"};

// A file of the cgroup at `path` in the hierarchy mounted at `dir`.
std::string CgroupFile(const std::string& dir, const std::string& path, std::string_view file) {
  std::string out = dir;
  if (path != "/") out += path;
  out += '/';
  out += file;
  return out;
}

// cgroup v2 counts usage in microseconds: growth below that is rounding, not a thread's run.
constexpr int64_t kUsageResolutionNs = 1000;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Collector::Collector(FsRoot procfs, FsRoot sysfs, CollectorOptions options,
                     common::HttpGet kubelet_get)
    : procfs_(std::move(procfs)),
      sysfs_(std::move(sysfs)),
      options_(std::move(options)),
      filter_(options_.cgroup_include, options_.cgroup_exclude),
      pods_(procfs_, options_.kubelet_url, std::move(kubelet_get)),
      budget_{.max = options_.keep_files_open ? options_.max_open_files : 0, .used = 0},
      node_pressure_(procfs_.Path("pressure/cpu"), &budget_),
      node_schedstat_(procfs_.Path("schedstat"), &budget_),
      cpu_online_(sysfs_.Path("devices/system/cpu/online"), &budget_) {}

void Collector::Count(Source source, Reason reason, const std::string& what) {
  ++errors_[source][reason];
  sources_[source].success = false;
  spdlog::debug("kernel: {}: {} ({})", kSourceNames[source], what, kReasonNames[reason]);
}

void Collector::Collect(common::TimePoint now, KernelSample& out) {
  using Clock = std::chrono::steady_clock;
  const bool discover =
      rediscover_ || !last_discovery_ || now - *last_discovery_ >= options_.discovery_interval;
  if (discover) Discover(now);

  ReadCgroups(true);

  auto start = Clock::now();
  sources_[kTasks] = {.ran = true, .success = true, .seconds = 0};
  ++round_;
  idle_containers_ = threads_read_ = 0;
  if (options_.process_stats) {
    ReadProcesses(discover);
  } else {
    for (auto& c : containers_) {
      if (!c->gone) ReadTasks(*c, discover);
    }
  }
  sources_[kTasks].seconds = SecondsSince(start);

  // Names need a task of the container (for its environment), so they come after the tasks.
  if (discover) ResolveLabels();

  start = Clock::now();
  sources_[kNode] = {.ran = true, .success = true, .seconds = 0};
  ReadNode(out.node);
  sources_[kNode].seconds = SecondsSince(start);

  const size_t before = containers_.size();
  std::erase_if(containers_, [](const auto& c) { return c->gone; });
  // A vanished container is often a restart: look for its successor at once.
  rediscover_ = containers_.size() != before;
  Fill(out);
}

void Collector::CollectCgroups(KernelSample& out) {
  ReadCgroups(false);
  const size_t before = containers_.size();
  std::erase_if(containers_, [](const auto& c) { return c->gone; });
  rediscover_ = rediscover_ || containers_.size() != before;
  Fill(out);
}

void Collector::Discover(common::TimePoint now) {
  const auto start = std::chrono::steady_clock::now();
  last_discovery_ = now;
  sources_[kDiscovery] = {.ran = true, .success = true, .seconds = 0};

  // pid 1's view is the host's when --path.procfs is the host's /proc (hostPID).
  std::string mountinfo = procfs_.Path("1/mountinfo");
  ReadStatus status = ReadFile(mountinfo, buf_);
  if (status != ReadStatus::kOk) {
    mountinfo = procfs_.Path("self/mountinfo");
    status = ReadFile(mountinfo, buf_);
  }
  CgroupLayout layout;
  if (status == ReadStatus::kOk) {
    layout = DetectLayout(ParseMountinfo(buf_.view()), sysfs_);
  } else {
    Count(kDiscovery, status == ReadStatus::kPermission ? kPermission : kMissing, mountinfo);
    // Unreadable mountinfo says nothing about the cgroups: keep reading the known ones.
    if (!containers_.empty()) {
      sources_[kDiscovery].seconds = SecondsSince(start);
      return;
    }
  }
  if (layout.mode != layout_.mode || layout.walk_root() != layout_.walk_root()) {
    spdlog::info("kernel: cgroup mode {} (cpu: \"{}\", cpuacct: \"{}\", unified: \"{}\")",
                 CgroupModeName(layout.mode), layout.cpu, layout.cpuacct, layout.unified);
    containers_.clear();  // paths of another hierarchy are other files
  }
  layout_ = std::move(layout);

  std::vector<DiscoveredCgroup> found;
  if (layout_.mode != CgroupMode::kNone) {
    status = DiscoverCgroups(layout_.walk_root(), filter_, found);
    if (status != ReadStatus::kOk) {
      Count(kDiscovery, status == ReadStatus::kPermission ? kPermission : kIo, layout_.walk_root());
      // A failed walk (out of descriptors, say) found only part of the tree: dropping the rest
      // would make them new cgroups at the next walk and add their whole counters again.
      sources_[kDiscovery].seconds = SecondsSince(start);
      return;
    }
  } else if (status == ReadStatus::kOk) {
    sources_[kDiscovery].success = false;  // nothing to read from, but nothing failed either
  }

  if (found.size() > options_.max_containers) {
    // The walk order is the directory order: the same containers are kept from walk to walk.
    const size_t skipped = found.size() - options_.max_containers;
    errors_[kDiscovery][kOverLimit] += skipped;
    sources_[kDiscovery].success = false;
    spdlog::warn("kernel: {} cgroups beyond --kernel.max-containers={} are not read", skipped,
                 options_.max_containers);
    found.resize(options_.max_containers);
  }
  // Keep what is still there (same path and inode), add what is new, drop the rest.
  std::unordered_map<std::string_view, size_t> existing;
  for (size_t i = 0; i < containers_.size(); ++i) existing.emplace(containers_[i]->cgroup.path, i);
  std::vector<std::unique_ptr<Container>> next;
  next.reserve(found.size());
  std::unordered_set<std::string> uids;
  for (DiscoveredCgroup& d : found) {
    if (d.pod) uids.insert(d.pod->pod_uid);
    const auto it = existing.find(d.path);
    if (it != existing.end() && containers_[it->second]->cgroup.inode == d.inode) {
      next.push_back(std::move(containers_[it->second]));
      Container& kept = *next.back();
      // Optional files may have appeared since (PSI switched on, a limit set).
      for (OptionalFile* f : {&kept.cpu_max, &kept.cfs_quota, &kept.cfs_period, &kept.pressure}) {
        f->absent = false;
      }
    } else {
      next.push_back(NewContainer(std::move(d)));
    }
  }
  containers_ = std::move(next);
  pods_.Retain(uids);
  sources_[kDiscovery].seconds = SecondsSince(start);
}

std::unique_ptr<Collector::Container> Collector::NewContainer(DiscoveredCgroup cgroup) {
  auto c = std::make_unique<Container>();
  const std::string& path = cgroup.path;
  const bool procs = static_cast<bool>(options_.process_stats);
  auto file = [&](const std::string& dir, std::string_view name) {
    return dir.empty() ? StatFile() : StatFile(CgroupFile(dir, path, name), &budget_);
  };
  if (layout_.mode == CgroupMode::kV2) {
    c->cpu_stat = file(layout_.unified, "cpu.stat");
    c->cpu_max.file = file(layout_.unified, "cpu.max");
    c->pressure.file = file(layout_.unified, "cpu.pressure");
    c->task_list = file(layout_.unified, procs ? "cgroup.procs" : "cgroup.threads");
  } else {
    c->cpu_stat = file(layout_.cpu, "cpu.stat");
    c->cfs_quota.file = file(layout_.cpu, "cpu.cfs_quota_us");
    c->cfs_period.file = file(layout_.cpu, "cpu.cfs_period_us");
    c->cpuacct_usage = file(layout_.cpuacct, "cpuacct.usage");
    c->task_list = file(layout_.walk_root(), procs ? "cgroup.procs" : "tasks");
    // A hybrid host mirrors its cgroups in the unified hierarchy, which has PSI.
    if (layout_.mode == CgroupMode::kHybrid)
      c->pressure.file = file(layout_.unified, "cpu.pressure");
  }
  c->dir = path == "/" ? layout_.walk_root() : layout_.walk_root() + path;
  KernelSample::Container& v = c->values;
  v.quota_v2 = layout_.mode == CgroupMode::kV2;
  v.quota_file = v.quota_v2 ? c->cpu_max.file.path() : c->cfs_quota.file.path();
  v.cgroup = path;
  v.cgroup_inode = cgroup.inode;
  if (cgroup.pod) {
    v.pod_uid = cgroup.pod->pod_uid;
    v.container_id = cgroup.pod->container_id;
    v.qos = QosName(cgroup.pod->qos);
    v.runtime = RuntimeName(cgroup.pod->runtime);
  } else {
    c->labels = {.k8s_namespace = {}, .pod = {}, .container = path};
    c->labels_final = true;
  }
  c->cgroup = std::move(cgroup);
  return c;
}

void Collector::ResolveLabels() {
  const bool unresolved = std::any_of(containers_.begin(), containers_.end(),
                                      [](const auto& c) { return !c->labels_final; });
  if (!unresolved && !options_.kubelet_every_discovery) return;
  if (pods_.has_kubelet()) {
    const auto start = std::chrono::steady_clock::now();
    sources_[kKubelet] = {.ran = true, .success = true, .seconds = 0};
    const PodMapper::RefreshResult r = pods_.RefreshFromKubelet();
    if (!r.ok) {
      Count(kKubelet, r.reason == "fetch" ? kFetch : kMalformed, r.error);
      spdlog::warn("kernel: kubelet pod list: {}", r.error);
    }
    sources_[kKubelet].seconds = SecondsSince(start);
  }
  // Learn from every container first, so a pause container takes the name its siblings' tasks
  // tell whatever the directory order.
  for (auto& c : containers_) {
    if (c->labels_final || c->gone || c->tasks.empty()) continue;
    const int32_t pid = c->tasks.front().id;
    const ReadStatus status = pods_.Learn(*c->cgroup.pod, pid);
    // A task that exited meanwhile is churn; an unreadable environment leaves the pod unnamed.
    if (status == ReadStatus::kPermission || status == ReadStatus::kIoError) {
      Count(kDiscovery, status == ReadStatus::kPermission ? kPermission : kIo,
            "environment of pid " + std::to_string(pid));
    }
  }
  for (auto& c : containers_) {
    if (c->gone || !c->cgroup.pod) continue;
    // Only the kubelet's pod list opts a pod in; a failed fetch keeps the last list's word.
    const KubeletPod* pod = pods_.KubeletPodOf(c->cgroup.pod->pod_uid);
    // The pod's containers as the kubelet lists them: not its sandbox (pause) container.
    const bool listed =
        pod != nullptr &&
        std::any_of(pod->containers.begin(), pod->containers.end(), [&](const auto& idname) {
          return idname.first == c->cgroup.pod->container_id;
        });
    c->values.cpu_control = listed ? pod->cpu_control : CpuControl{};
    if (c->labels_final) continue;
    PodMapper::Result r = pods_.Resolve(*c->cgroup.pod);
    c->labels = std::move(r.labels);
    c->labels_final = r.final;
  }
}

bool Collector::ReadRequired(Container& c, StatFile& file, Source source) {
  const ReadStatus status = file.Read(buf_);
  if (status == ReadStatus::kOk) return true;
  if (status == ReadStatus::kVanished ||
      (status == ReadStatus::kMissing && InodeOf(c.dir) != c.cgroup.inode)) {
    c.gone = true;
    Count(source, kVanished, c.dir);
  } else if (status == ReadStatus::kMissing) {
    Count(source, kMissing, file.path());
  } else {
    Count(source, status == ReadStatus::kPermission ? kPermission : kIo, file.path());
  }
  return false;
}

bool Collector::ReadOptional(OptionalFile& f, Source source) {
  if (f.absent || f.file.path().empty()) return false;
  const ReadStatus status = f.file.Read(buf_);
  if (status == ReadStatus::kOk) return true;
  if (status == ReadStatus::kMissing) {
    f.absent = true;
  } else {
    Count(source,
          status == ReadStatus::kPermission ? kPermission
          : status == ReadStatus::kVanished ? kVanished
                                            : kIo,
          f.file.path());
  }
  return false;
}

void Collector::ReadCgroups(bool pressure) {
  const auto start = std::chrono::steady_clock::now();
  sources_[kCgroups] = {.ran = true, .success = true, .seconds = 0};
  for (auto& c : containers_) ReadCgroupFiles(*c, pressure);
  sources_[kCgroups].seconds = SecondsSince(start);
}

void Collector::ReadCgroupFiles(Container& c, bool pressure) {
  KernelSample::Container& v = c.values;
  v.usage_ns = v.periods = v.throttled_periods = v.throttled_ns = std::nullopt;
  v.pressure_some_ns = v.pressure_full_ns = std::nullopt;
  v.limit_cores = std::nullopt;
  v.quota = std::nullopt;
  const bool v2 = layout_.mode == CgroupMode::kV2;

  if (!c.cpu_stat.path().empty()) {
    if (!ReadRequired(c, c.cpu_stat, kCgroups)) {
      if (c.gone) return;
    } else if (const auto s = v2 ? ParseCpuStatV2(buf_.view()) : ParseCpuStatV1(buf_.view())) {
      if (v2) v.usage_ns = s->usage_ns;
      v.periods = s->periods;
      v.throttled_periods = s->throttled_periods;
      v.throttled_ns = s->throttled_ns;
    } else {
      Count(kCgroups, kMalformed, c.cpu_stat.path());
    }
  }
  if (!c.cpuacct_usage.path().empty()) {
    if (!ReadRequired(c, c.cpuacct_usage, kCgroups)) {
      if (c.gone) return;
    } else if (const auto usage = ParseCpuacctUsage(buf_.view())) {
      v.usage_ns = usage;
    } else {
      Count(kCgroups, kMalformed, c.cpuacct_usage.path());
    }
  }
  if (v2) {
    if (ReadOptional(c.cpu_max, kCgroups)) {
      if (const auto quota = ParseCpuMax(buf_.view())) {
        v.quota = quota;
        v.limit_cores = LimitCores(*quota);
      } else {
        Count(kCgroups, kMalformed, c.cpu_max.file.path());
      }
    }
  } else if (ReadOptional(c.cfs_quota, kCgroups)) {
    const auto quota = ParseSingleInt(buf_.view());
    if (!quota) {
      Count(kCgroups, kMalformed, c.cfs_quota.file.path());
    } else if (ReadOptional(c.cfs_period, kCgroups)) {
      // Read even when unlimited: a quota written later keeps this period.
      const auto period = ParseSingleInt(buf_.view());
      if (period && *period > 0) {
        v.quota = CpuQuota{.quota_us = *quota, .period_us = *period};
        v.limit_cores = LimitCores(*v.quota);
      } else {
        Count(kCgroups, kMalformed, c.cfs_period.file.path());
      }
    }
  }
  if (pressure && ReadOptional(c.pressure, kCgroups)) {
    if (const auto p = ParsePressure(buf_.view())) {
      v.pressure_some_ns = p->some_ns;
      v.pressure_full_ns = p->full_ns;
    } else {
      Count(kCgroups, kMalformed, c.pressure.file.path());
    }
  }
}

void Collector::Retire(Container& c, const Task& t) {
  if (!t.last) return;
  c.retired.run_ns += t.last->run_ns;
  c.retired.wait_ns += t.last->wait_ns;
  c.retired.timeslices += t.last->timeslices;
}

Collector::Due Collector::TasksDue(Container& c, bool list) {
  const std::optional<uint64_t> usage = c.values.usage_ns;
  if (list || !usage || !c.usage_at_tasks || *usage < *c.usage_at_tasks) return Due::kList;
  c.unaccounted_ns += static_cast<int64_t>(*usage - *c.usage_at_tasks);
  c.usage_at_tasks = usage;
  return c.unaccounted_ns <= kUsageResolutionNs ? Due::kIdle : Due::kActive;
}

void Collector::ReadTasks(Container& c, bool list) {
  switch (TasksDue(c, list)) {
    case Due::kList:
      return ReadAllThreads(c, true);
    case Due::kIdle:
      ++idle_containers_;
      return;
    case Due::kActive:
      break;
  }
  bool failed = false;
  if (ReadActiveThreads(c, failed)) return SumTasks(c);
  ReadAllThreads(c, !failed);
}

bool Collector::ReadActiveThreads(Container& c, bool& failed) {
  order_.clear();
  for (Task& t : c.tasks) order_.push_back(&t);
  std::sort(order_.begin(), order_.end(),
            [](const Task* a, const Task* b) { return a->ran_ns > b->ran_ns; });
  for (Task* t : order_) {
    const TaskRead r = ReadThread(c, *t);
    if (r != TaskRead::kOk) {
      failed = r == TaskRead::kFailed;
      return false;
    }
    c.unaccounted_ns -= static_cast<int64_t>(t->ran_ns);
    if (c.unaccounted_ns <= kUsageResolutionNs) return true;
  }
  return false;
}

void Collector::ReadAllThreads(Container& c, bool complete) {
  bool clean = true;
  const bool listed = MergeTaskList(c, clean);
  complete = complete && listed && clean;
  if (listed) {
    for (Task& t : c.tasks) {
      if (t.read_round != round_ && ReadThread(c, t) == TaskRead::kFailed) complete = false;
    }
  }
  FinishFullRead(c, listed, complete);
}

bool Collector::MergeTaskList(Container& c, bool& clean) {
  if (!ReadRequired(c, c.task_list, kTasks)) return false;
  if (const size_t bad = ParseIdList(buf_.view(), ids_); bad > 0) {
    Count(kTasks, kMalformed, c.task_list.path() + ": " + std::to_string(bad) + " bad lines");
    clean = false;
  }
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());

  // Merge the listed IDs with the tracked tasks (both sorted). A task dropped this collection
  // (exited, ID reused) is retired already and stays out until the next list.
  const bool threads = !options_.process_stats;
  next_tasks_.clear();
  auto old = c.tasks.begin();
  for (const int32_t id : ids_) {
    for (; old != c.tasks.end() && old->id < id; ++old) {
      if (!old->dropped) Retire(c, *old);
    }
    if (old != c.tasks.end() && old->id == id) {
      if (!old->dropped) next_tasks_.push_back(std::move(*old));
      ++old;
    } else if (threads) {
      const std::string t = std::to_string(id);
      next_tasks_.push_back(
          {.id = id,
           .file = StatFile(
               procfs_.Path(std::string(t).append("/task/").append(t).append("/schedstat")),
               &budget_)});
    } else {
      next_tasks_.push_back({.id = id});
    }
  }
  for (; old != c.tasks.end(); ++old) {
    if (!old->dropped) Retire(c, *old);
  }
  c.tasks.swap(next_tasks_);
  next_tasks_.clear();  // closes the files of retired threads
  return true;
}

void Collector::FinishFullRead(Container& c, bool listed, bool complete) {
  std::erase_if(c.tasks, [](const Task& t) { return t.dropped; });
  if (listed || !c.tasks.empty()) SumTasks(c);
  // Complete: every listed task read, so the sums stand until the cgroup's usage grows.
  c.usage_at_tasks = complete ? c.values.usage_ns : std::nullopt;
  c.unaccounted_ns = 0;
}

void Collector::ReadProcesses(bool list) {
  std::vector<Container*> relist;
  for (auto& p : containers_) {
    Container& c = *p;
    if (c.gone) continue;
    const Due due = TasksDue(c, list);
    if (due == Due::kIdle) {
      ++idle_containers_;
      continue;
    }
    c.round = {.listing = due == Due::kList, .listed = false, .changed = false, .complete = true};
    if (c.round.listing) {
      bool clean = true;
      c.round.listed = MergeTaskList(c, clean);
      c.round.complete = c.round.listed && clean;
    }
    if (!c.round.listing || c.round.listed) Ask(c);
    relist.push_back(&c);
  }
  Answer();

  // Keep the containers whose answers leave something to do: list them (again) and ask about
  // the processes not read yet.
  std::erase_if(relist, [this](Container* c) {
    if (c->round.listing) {
      FinishFullRead(*c, c->round.listed, c->round.complete);
      return true;
    }
    if (!c->round.changed && c->unaccounted_ns <= kUsageResolutionNs) {
      SumTasks(*c);
      return true;
    }
    return false;
  });
  for (Container* c : relist) {
    bool clean = true;
    c->round.listed = MergeTaskList(*c, clean);
    c->round.complete = c->round.complete && c->round.listed && clean;
    if (c->round.listed) Ask(*c);
  }
  Answer();
  for (Container* c : relist) FinishFullRead(*c, c->round.listed, c->round.complete);
}

void Collector::Ask(Container& c) {
  for (Task& t : c.tasks) {
    if (t.read_round == round_) continue;
    queries_.push_back({.tgid = t.id});
    asked_.emplace_back(&c, &t);
  }
}

void Collector::Answer() {
  if (!queries_.empty()) options_.process_stats(queries_);
  for (size_t i = 0; i < queries_.size(); ++i) {
    auto [c, t] = asked_[i];
    const ProcessQuery& q = queries_[i];
    const TaskRead r = Update(*c, *t, q.status, q.status == ReadStatus::kOk ? &q.stats : nullptr);
    if (r == TaskRead::kOk) {
      c->unaccounted_ns -= static_cast<int64_t>(t->ran_ns);
    } else {
      c->round.changed = true;
      if (r == TaskRead::kFailed) c->round.complete = false;
    }
  }
  queries_.clear();
  asked_.clear();
}

Collector::TaskRead Collector::ReadThread(Container& c, Task& t) {
  const ReadStatus status = t.file.Read(buf_);
  if (status != ReadStatus::kOk) return Update(c, t, status, nullptr);
  const auto s = ParseTaskSchedstat(buf_.view());
  if (!s) {
    t.read_round = round_;
    ++threads_read_;
    Count(kTasks, kMalformed, t.file.path());
    return TaskRead::kFailed;
  }
  return Update(c, t, status, &*s);
}

std::string Collector::Describe(const Task& t) const {
  return t.file.path().empty() ? "taskstats of process " + std::to_string(t.id) : t.file.path();
}

Collector::TaskRead Collector::Update(Container& c, Task& t, ReadStatus status,
                                      const TaskSchedstat* s) {
  t.read_round = round_;
  ++threads_read_;
  if (status == ReadStatus::kMissing || status == ReadStatus::kVanished) {
    // Exited after the list was read: normal churn, not an error.
    Retire(c, t);
    t.dropped = true;
    return TaskRead::kExited;
  }
  if (status != ReadStatus::kOk) {
    Count(kTasks, status == ReadStatus::kPermission ? kPermission : kIo, Describe(t));
    return TaskRead::kFailed;
  }
  if (t.last && (s->run_ns < t.last->run_ns || s->wait_ns < t.last->wait_ns ||
                 s->timeslices < t.last->timeslices)) {
    // Another task under an ID we knew: keep the old task's values, drop this one, and take
    // it up from scratch next time if it is still listed.
    Count(kTasks, kPidReused, Describe(t));
    Retire(c, t);
    t.dropped = true;
    return TaskRead::kFailed;
  }
  t.ran_ns = s->run_ns - (t.last ? t.last->run_ns : 0);
  t.last = *s;
  return TaskRead::kOk;
}

void Collector::SumTasks(Container& c) {
  KernelSample::Container& v = c.values;
  v.has_tasks = true;
  v.run_ns = c.retired.run_ns;
  v.wait_ns = c.retired.wait_ns;
  v.timeslices = c.retired.timeslices;
  for (const Task& t : c.tasks) {
    if (!t.last) continue;
    v.run_ns += t.last->run_ns;
    v.wait_ns += t.last->wait_ns;
    v.timeslices += t.last->timeslices;
  }
  v.threads = c.tasks.size();
}

void Collector::ReadNode(KernelSample::Node& node) {
  node = {};
  // All three are optional: no PSI without CONFIG_PSI/psi=1, no /proc/schedstat without
  // CONFIG_SCHEDSTATS. Their absence is shown by the missing series, not as errors.
  auto read = [this](StatFile& f) {
    const ReadStatus status = f.Read(buf_);
    if (status == ReadStatus::kOk) return true;
    if (status != ReadStatus::kMissing) {
      Count(kNode, status == ReadStatus::kPermission ? kPermission : kIo, f.path());
    }
    return false;
  };
  if (read(node_pressure_)) {
    if (const auto p = ParsePressure(buf_.view())) {
      node.pressure_some_ns = p->some_ns;
    } else {
      Count(kNode, kMalformed, node_pressure_.path());
    }
  }
  if (read(node_schedstat_)) {
    if (const auto s = ParseNodeSchedstat(buf_.view())) {
      node.runqueue_wait_ns = s->wait_ns;
      node.cpus = s->cpus;
    } else {
      Count(kNode, kMalformed, node_schedstat_.path());
    }
  }
  if (read(cpu_online_)) {
    if (const auto cpus = ParseCpuList(buf_.view())) {
      node.cpus = *cpus;
    } else {
      Count(kNode, kMalformed, cpu_online_.path());
    }
  }
}

void Collector::Fill(KernelSample& out) const {
  out.containers.resize(containers_.size());
  for (size_t i = 0; i < containers_.size(); ++i) {
    const Container& c = *containers_[i];
    KernelSample::Container& v = out.containers[i];
    v = c.values;
    v.k8s_namespace = c.labels.k8s_namespace;
    v.pod = c.labels.pod;
    v.container = c.labels.container;
  }
  out.sources.clear();
  for (size_t s = 0; s < kSourceCount; ++s) {
    if (!sources_[s].ran) continue;
    out.sources.push_back({kSourceNames[s], sources_[s].success, sources_[s].seconds});
  }
  out.errors.clear();
  for (size_t s = 0; s < kSourceCount; ++s) {
    for (size_t r = 0; r < kReasonCount; ++r) {
      if (errors_[s][r] > 0)
        out.errors.push_back({kSourceNames[s], kReasonNames[r], errors_[s][r]});
    }
  }
  out.cgroup_mode = CgroupModeName(layout_.mode);
  out.task_counters = options_.process_stats ? "taskstats" : "schedstat";
  out.kept_files = budget_.used;
  out.idle_containers = idle_containers_;
  out.threads_read = threads_read_;
}

}  // namespace exporter::kernel
