#include "sim/cgroupfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "sim/emitters.h"

namespace sim {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

uint64_t Micros(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e6)); }
uint64_t Nanos(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e9)); }

}  // namespace

CgroupTree::CgroupTree(std::string root, int cpus)
    : root_(std::move(root)), cpus_(std::max(1, cpus)) {
  std::error_code ec;
  fs::create_directories(root_ + "/proc/1", ec);
  fs::create_directories(root_ + "/proc/pressure", ec);
  fs::create_directories(root_ + "/sys/fs/cgroup/kubepods.slice", ec);
  fs::create_directories(root_ + "/sys/devices/system/cpu", ec);
  if (ec) throw std::runtime_error("cannot create " + root_ + ": " + ec.message());
  Put("proc/1/mountinfo",
      "21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
      "22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
      "26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "27 21 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n");
  WriteNode();
  Put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  Put("sys/devices/system/cpu/online", "0-" + std::to_string(cpus_ - 1) + "\n");
  if (write_errors_ > 0) throw std::runtime_error("cannot write the tree under " + root_);
}

void CgroupTree::Put(const std::string& relative, const std::string& content) {
  const std::string path = root_ + "/" + relative;
  // Same inode every time: a reader holding the file open sees the new content at offset 0.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    ++write_errors_;
    return;
  }
  const ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
  if (n != static_cast<ssize_t>(content.size()) ||
      ::ftruncate(fd, static_cast<off_t>(content.size())) != 0) {
    ++write_errors_;
  }
  ::close(fd);
}

void CgroupTree::Remove(uint32_t replica, const Simulation& sim) {
  const ContainerIdentity id = IdentityOf(sim, replica);
  const fs::path scope = root_ + "/sys/fs/cgroup" + id.cgroup;
  std::error_code ec;
  fs::remove_all(scope.parent_path(), ec);  // the pod's slice: one container per pod
  fs::remove_all(root_ + "/proc/" + std::to_string(TaskId(replica)), ec);
  if (ec) ++write_errors_;
}

void CgroupTree::Write(Simulation& sim) {
  const App& app = sim.app();
  double stall = 0;
  for (uint32_t i = 0; i < sim.replicas().size(); ++i) {
    const Replica& r = sim.replicas()[i];
    if (r.state == ReplicaState::kGone) {
      if (const auto it = written_.find(i); it != written_.end()) {
        retired_.usage_seconds += it->second.usage_seconds;
        retired_.run_delay_seconds += it->second.run_delay_seconds;
        retired_.timeslices += it->second.timeslices;
        written_.erase(it);
        Remove(i, sim);
      }
      continue;
    }
    const ContainerIdentity id = IdentityOf(sim, i);
    const std::string dir = "sys/fs/cgroup" + id.cgroup;
    const std::string task = std::to_string(TaskId(i));
    const auto [last, added] = written_.try_emplace(i);
    if (added) {
      std::error_code ec;
      fs::create_directories(root_ + "/" + dir, ec);
      fs::create_directories(
          std::string(root_).append("/proc/").append(task).append("/task/").append(task), ec);
      fs::create_directories(
          root_ + "/proc/" + task + "/root/var/run/secrets/kubernetes.io/serviceaccount", ec);
      if (ec) ++write_errors_;
      Put("proc/" + task + "/environ", "PATH=/usr/bin\0HOSTNAME="s + r.pod + '\0');
      Put("proc/" + task + "/root/var/run/secrets/kubernetes.io/serviceaccount/namespace",
          app.k8s_namespace);
      Put(dir + "/cgroup.threads", task + "\n");
      Put(dir + "/cgroup.procs", task + "\n");
    }
    const ContainerCounters k = sim.Counters(i);
    stall = std::max(stall, k.pressure_some_seconds - last->second.pressure_some_seconds);
    last->second = k;
    const double limit = sim.cpu().Limit(r.container);
    Put(dir + "/cpu.stat", "usage_usec " + std::to_string(Micros(k.usage_seconds)) +
                               "\nuser_usec " + std::to_string(Micros(k.usage_seconds)) +
                               "\nsystem_usec 0\nnr_periods " + std::to_string(k.periods) +
                               "\nnr_throttled " + std::to_string(k.throttled_periods) +
                               "\nthrottled_usec " + std::to_string(Micros(k.throttled_seconds)) +
                               "\nnr_bursts 0\nburst_usec 0\n");
    Put(dir + "/cpu.max",
        (limit > 0 ? std::to_string(std::llround(limit * kCfsPeriod * 1e6)) : std::string("max")) +
            " " + std::to_string(std::llround(kCfsPeriod * 1e6)) + "\n");
    Put(dir + "/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=" +
                                   std::to_string(Micros(k.pressure_some_seconds)) +
                                   "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=" +
                                   std::to_string(Micros(k.pressure_full_seconds)) + "\n");
    Put(std::string("proc/").append(task).append("/task/").append(task).append("/schedstat"),
        std::to_string(Nanos(k.usage_seconds)) + " " + std::to_string(Nanos(k.run_delay_seconds)) +
            " " + std::to_string(static_cast<uint64_t>(k.timeslices)) + "\n");
  }
  others_ = NodeCounters{};
  node_contended_.resize(sim.cpu().nodes(), 0);
  for (size_t n = 0; n < sim.cpu().nodes(); ++n) {
    const NodeCounters k = sim.cpu().NodeStats(static_cast<int>(n), sim.now());
    others_.other_usage_seconds += k.other_usage_seconds;
    others_.other_run_delay_seconds += k.other_run_delay_seconds;
    others_.other_timeslices += k.other_timeslices;
    stall = std::max(stall, k.contended_seconds - node_contended_[n]);
    node_contended_[n] = k.contended_seconds;
  }
  node_some_seconds_ += stall;
  WriteNode();
}

void CgroupTree::WriteNode() {
  Put("proc/pressure/cpu",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(Micros(node_some_seconds_)) +
          "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  // Sums of what each task's schedstat shows, so the node agrees with its tasks to the ns.
  uint64_t run = Nanos(retired_.usage_seconds) + Nanos(others_.other_usage_seconds);
  uint64_t wait = Nanos(retired_.run_delay_seconds) + Nanos(others_.other_run_delay_seconds);
  auto slices =
      static_cast<uint64_t>(retired_.timeslices) + static_cast<uint64_t>(others_.other_timeslices);
  for (const auto& [replica, k] : written_) {
    run += Nanos(k.usage_seconds);
    wait += Nanos(k.run_delay_seconds);
    slices += static_cast<uint64_t>(k.timeslices);
  }
  // Nanosecond totals split over the CPUs with the remainder on cpu0, so the sums are exact.
  const auto n = static_cast<uint64_t>(cpus_);
  std::string text = "version 15\ntimestamp 0\n";
  for (uint64_t c = 0; c < n; ++c) {
    auto share = [&](uint64_t total) { return total / n + (c == 0 ? total % n : 0); };
    text += "cpu" + std::to_string(c) + " 0 0 0 0 0 0 " + std::to_string(share(run)) + " " +
            std::to_string(share(wait)) + " " + std::to_string(share(slices)) + "\n";
  }
  Put("proc/schedstat", text);
}

}  // namespace sim
