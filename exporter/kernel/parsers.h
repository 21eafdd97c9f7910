#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Pure parsers of the kernel files queuelens reads (contracts.md §5). None touches the
// filesystem. Times are converted to integer nanoseconds here, whatever unit the file uses, so
// cumulative counters keep full precision; exposition turns them into seconds.
namespace exporter::kernel {

// /proc/<pid>/task/<tid>/schedstat: "<on-cpu ns> <run-queue wait ns> <timeslices>".
struct TaskSchedstat {
  uint64_t run_ns = 0;
  uint64_t wait_ns = 0;
  uint64_t timeslices = 0;
};
std::optional<TaskSchedstat> ParseTaskSchedstat(std::string_view text);

// /proc/schedstat (versions 15-17): fields 7-9 of every "cpu<N>" line summed over CPUs.
struct NodeSchedstat {
  uint64_t run_ns = 0;
  uint64_t wait_ns = 0;
  uint64_t timeslices = 0;
  int cpus = 0;
};
// nullopt on an unknown version, a missing version line or a short or malformed cpu line.
std::optional<NodeSchedstat> ParseNodeSchedstat(std::string_view text);

// PSI (/proc/pressure/cpu, cgroup v2 cpu.pressure): the "total=" stall time of the "some" and
// "full" lines, which the kernel prints in microseconds.
struct Pressure {
  uint64_t some_ns = 0;
  std::optional<uint64_t> full_ns;  // kernels before 5.13 print no "full" line for cpu
};
std::optional<Pressure> ParsePressure(std::string_view text);

// cgroup CPU bandwidth counters. Keys the kernel did not print stay empty (v2 prints
// nr_periods/nr_throttled/throttled_usec only where the cpu controller is enabled).
struct CpuStat {
  std::optional<uint64_t> usage_ns;  // v2 usage_usec; v1 has it in cpuacct.usage instead
  std::optional<uint64_t> periods;
  std::optional<uint64_t> throttled_periods;
  std::optional<uint64_t> throttled_ns;
};
// v2 cpu.stat (microseconds). nullopt on a malformed line or when usage_usec is missing.
std::optional<CpuStat> ParseCpuStatV2(std::string_view text);
// v1 cpu.stat (nr_periods, nr_throttled, throttled_time in ns). nullopt on a malformed line or
// when nr_periods is missing.
std::optional<CpuStat> ParseCpuStatV1(std::string_view text);

// v1 cpuacct.usage: one number, nanoseconds.
std::optional<uint64_t> ParseCpuacctUsage(std::string_view text);

// CFS quota: quota_us < 0 means unlimited.
struct CpuQuota {
  int64_t quota_us = -1;
  int64_t period_us = 100'000;
};
// v2 cpu.max: "$MAX $PERIOD", "max 100000" when unlimited.
std::optional<CpuQuota> ParseCpuMax(std::string_view text);
// v1 cpu.cfs_quota_us / cpu.cfs_period_us: one signed integer each (-1 = unlimited).
std::optional<int64_t> ParseSingleInt(std::string_view text);
// Limit in cores; nullopt when unlimited.
std::optional<double> LimitCores(const CpuQuota& quota);

// cgroup.threads, cgroup.procs, tasks: one positive id per line. Malformed lines are skipped;
// the return value is how many there were.
size_t ParseIdList(std::string_view text, std::vector<int32_t>& out);

// The value of `key` in a NUL-separated /proc/<pid>/environ; nullopt when absent.
std::optional<std::string_view> FindEnv(std::string_view environ, std::string_view key);

// /sys/devices/system/cpu/online: "0-3,8,10-11" -> 7.
std::optional<int> ParseCpuList(std::string_view text);

// One line of /proc/<pid>/mountinfo (proc(5)); paths have their \040-style escapes undone.
struct Mount {
  std::string root;         // field 4: the path of the filesystem that is mounted
  std::string mount_point;  // field 5
  std::string fs_type;      // after the "-" separator
  std::string super_options;
};
// Malformed lines are skipped.
std::vector<Mount> ParseMountinfo(std::string_view text);

}  // namespace exporter::kernel
