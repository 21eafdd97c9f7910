#include "bench/kernel_tree.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace bench {
namespace {

void Write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Rewrites an existing file in place without truncating it to zero first: ext4 flushes a file
// truncated to zero when it is closed, and that disk traffic would run beside the timed
// collections.
void Rewrite(const std::filesystem::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Write(path, text);
  const bool ok = ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
                  ::ftruncate(fd, static_cast<off_t>(text.size())) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot rewrite " + path.string());
}

std::string Hex(std::mt19937_64& rng, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (char& c : out) c = kHex[rng() % 16];
  return out;
}

}  // namespace

void WriteCpuStat(const std::string& dir, uint64_t usage_usec, uint64_t periods,
                  uint64_t throttled_usec) {
  Rewrite(std::filesystem::path(dir) / "cpu.stat",
          "usage_usec " + std::to_string(usage_usec) + "\nuser_usec " +
              std::to_string(usage_usec / 3 * 2) + "\nsystem_usec " +
              std::to_string(usage_usec / 3) + "\nnr_periods " + std::to_string(periods) +
              "\nnr_throttled " + std::to_string(periods / 20) + "\nthrottled_usec " +
              std::to_string(throttled_usec) + "\nnr_bursts 0\nburst_usec 0\n");
}

void WriteSchedstat(const std::string& proc, int tid, uint64_t run_ns, uint64_t wait_ns,
                    uint64_t timeslices) {
  const std::string id = std::to_string(tid);
  Rewrite(std::filesystem::path(proc) / id / "task" / id / "schedstat",
          std::to_string(run_ns) + " " + std::to_string(wait_ns) + " " +
              std::to_string(timeslices) + "\n");
}

std::vector<std::string> WriteKernelTree(const std::string& root_dir, size_t containers,
                                         size_t threads_per_container) {
  const std::filesystem::path root(root_dir);
  const std::filesystem::path proc = root / "proc";
  const std::filesystem::path cgroup = root / "sys/fs/cgroup";
  std::mt19937_64 rng(42);
  Write(proc / "1/mountinfo",
        "21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "27 21 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate\n");
  Write(proc / "pressure/cpu",
        "some avg10=2.00 avg60=1.00 avg300=0.50 total=7500000\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  Write(root / "sys/devices/system/cpu/online", "0-63\n");
  std::string schedstat = "version 15\ntimestamp 4297299139\n";
  for (int cpu = 0; cpu < 64; ++cpu) {
    schedstat += "cpu" + std::to_string(cpu) +
                 " 0 0 155093 54217 86478 40385 1200000000000 300000000000 100873\n";
  }
  Write(proc / "schedstat", schedstat);

  const std::filesystem::path burstable = cgroup / "kubepods.slice/kubepods-burstable.slice";
  int tid = kFirstTid;
  std::filesystem::path pod;
  std::vector<std::string> dirs;
  for (size_t c = 0; c < containers; ++c) {
    if (c % 2 == 0) {
      std::string uid = Hex(rng, 32);
      uid.insert(20, "_").insert(16, "_").insert(12, "_").insert(8, "_");
      pod = burstable / ("kubepods-burstable-pod" + uid + ".slice");
    }
    const std::filesystem::path dir = pod / ("cri-containerd-" + Hex(rng, 64) + ".scope");
    dirs.push_back(dir.string());
    const uint64_t usage = rng() % 100'000'000'000;
    const uint64_t periods = rng() % 1'000'000;
    WriteCpuStat(dirs.back(), usage, periods, rng() % 1'000'000'000);
    Write(dir / "cpu.max", c % 3 == 0 ? "max 100000\n" : "150000 100000\n");
    Write(dir / "cpu.pressure",
          "some avg10=1.50 avg60=0.80 avg300=0.20 total=" + std::to_string(rng() % 1'000'000'000) +
              "\nfull avg10=0.40 avg60=0.10 avg300=0.02 total=" +
              std::to_string(rng() % 100'000'000) + "\n");
    std::string threads;
    for (size_t t = 0; t < threads_per_container; ++t, ++tid) {
      threads += std::to_string(tid) + "\n";
      WriteSchedstat(proc.string(), tid, rng() % 10'000'000'000'000, rng() % 1'000'000'000'000,
                     rng() % 10'000'000);
    }
    Write(dir / "cgroup.threads", threads);
  }
  return dirs;
}

}  // namespace bench
