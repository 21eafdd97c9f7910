#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/kernel/parsers.h"
#include "exporter/kernel/rooted_fs.h"

namespace exporter::kernel {

// Per-process scheduler statistics from the kernel's taskstats generic-netlink family
// (linux/taskstats.h). One TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_TGID answers for a whole
// process, its live threads plus every thread that has exited, with the three counters of
// /proc/<pid>/task/<tid>/schedstat summed: cpu_run_virtual_total (run), cpu_delay_total
// (run-queue wait) and cpu_count (timeslices). The kernel fills these without delay accounting
// (kernel.task_delayacct) being on. An exited thread's run time lacks the part of its last
// timeslice not yet charged when it exited (at most a scheduler tick); its wait and timeslices
// are whole. Per-thread schedstat reads lose all of an exited thread's time since its last read.
// Needs CAP_NET_ADMIN, the initial network namespace (the family is not namespaced) and the
// host's PID namespace (TGIDs are looked up in the caller's).

// One process to ask about, and the answer.
struct ProcessQuery {
  int32_t tgid = 0;
  ReadStatus status = ReadStatus::kIoError;  // kVanished: no such process (ESRCH)
  TaskSchedstat stats;
};
// Answers every query of the span; the collector's way to reach TaskstatsClient::Query, so
// tests can answer from a fixture tree.
using ProcessStatsFn = std::function<void(std::span<ProcessQuery>)>;

// The netlink messages, pure. Requests are appended to `out`; a datagram may hold several
// messages.
void AppendFamilyRequest(uint32_t seq, std::string& out);
void AppendTgidRequest(uint16_t family, uint32_t seq, int32_t tgid, std::string& out);

struct NetlinkReply {
  uint32_t seq = 0;
  int error = 0;  // errno of an NLMSG_ERROR reply, 0 otherwise
  // CTRL_CMD_NEWFAMILY: the family id.
  std::optional<uint16_t> family;
  // TASKSTATS_CMD_NEW for a TGID.
  std::optional<int32_t> tgid;
  TaskSchedstat stats;
};
// Every message of `datagram` into `out` (cleared first); returns how many were malformed
// (skipped: truncated headers or attributes, a taskstats payload too short for its counters).
size_t ParseNetlinkReplies(std::string_view datagram, std::vector<NetlinkReply>& out);

// True when `procfs` is the procfs of this process's PID namespace (its "self" is our PID), so
// the PIDs it lists are the ones taskstats looks up.
bool SharesPidNamespace(const FsRoot& procfs);

// A NETLINK_GENERIC socket bound to the taskstats family. Not thread-safe.
class TaskstatsClient {
 public:
  // Opens the socket, resolves the family and asks once about this process, so a missing
  // capability or namespace shows here. nullptr with `error` set when taskstats is unusable.
  static std::unique_ptr<TaskstatsClient> Open(std::chrono::milliseconds timeout,
                                               std::string& error);
  ~TaskstatsClient();
  TaskstatsClient(const TaskstatsClient&) = delete;
  TaskstatsClient& operator=(const TaskstatsClient&) = delete;

  // Asks about every query's tgid, kBatch requests per send and the replies by recvmmsg.
  // Status per query: kOk, kVanished (ESRCH), kPermission (EPERM/EACCES), kIoError (any other
  // error, or no reply within the timeout). Replies to earlier, timed-out rounds are ignored.
  void Query(std::span<ProcessQuery> queries);

  static constexpr size_t kBatch = 64;

 private:
  TaskstatsClient(int fd, uint16_t family);

  int fd_;
  uint16_t family_;
  uint32_t seq_ = 1;
  std::string request_;
  std::vector<std::string> buffers_;
  std::vector<NetlinkReply> replies_;
};

// The collector's per-process counters (CollectorOptions::process_stats) for the processes
// `procfs` lists: a TaskstatsClient when `procfs` shares this PID namespace and Open succeeds,
// else empty with `why` set.
ProcessStatsFn OpenProcessStats(const FsRoot& procfs, std::chrono::milliseconds timeout,
                                std::string& why);

}  // namespace exporter::kernel
