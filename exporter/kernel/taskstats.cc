#include "exporter/kernel/taskstats.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace exporter::kernel {
namespace {

template <typename T>
void Append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// One request: nlmsghdr, genlmsghdr, one attribute. Netlink pads every part to 4 bytes.
void AppendRequest(uint16_t type, uint8_t cmd, uint8_t version, uint32_t seq, uint16_t attr,
                   std::string_view payload, std::string& out) {
  const uint32_t attr_len = NLA_HDRLEN + payload.size();
  const nlmsghdr nl{
      .nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(attr_len)),
      .nlmsg_type = type,
      .nlmsg_flags = NLM_F_REQUEST,
      .nlmsg_seq = seq,
      .nlmsg_pid = 0};
  Append(out, nl);
  const genlmsghdr genl{.cmd = cmd, .version = version, .reserved = 0};
  Append(out, genl);
  const nlattr a{.nla_len = static_cast<uint16_t>(attr_len), .nla_type = attr};
  Append(out, a);
  out.append(payload);
  out.append(NLA_ALIGN(attr_len) - attr_len, '\0');
}

template <typename T>
T Load(std::string_view data, size_t offset) {
  T value;
  std::memcpy(&value, data.data() + offset, sizeof value);
  return value;
}

// Calls f(type, payload) for every attribute of `data`; false when one is truncated.
template <typename F>
bool ForEachAttr(std::string_view data, F&& f) {
  while (data.size() >= NLA_HDRLEN) {
    const auto a = Load<nlattr>(data, 0);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > data.size()) return false;
    if (!f(a.nla_type & NLA_TYPE_MASK, data.substr(NLA_HDRLEN, a.nla_len - NLA_HDRLEN))) {
      return false;
    }
    data.remove_prefix(std::min<size_t>(NLA_ALIGN(a.nla_len), data.size()));
  }
  return data.empty();
}

// The counters of struct taskstats; later versions only append fields, so offsets hold.
bool ParseTaskstats(std::string_view stats, TaskSchedstat& out) {
  constexpr size_t kNeeded = offsetof(taskstats, cpu_run_virtual_total) + sizeof(uint64_t);
  if (stats.size() < kNeeded) return false;
  out.run_ns = Load<uint64_t>(stats, offsetof(taskstats, cpu_run_virtual_total));
  out.wait_ns = Load<uint64_t>(stats, offsetof(taskstats, cpu_delay_total));
  out.timeslices = Load<uint64_t>(stats, offsetof(taskstats, cpu_count));
  return true;
}

// TASKSTATS_TYPE_AGGR_TGID { TASKSTATS_TYPE_TGID u32, TASKSTATS_TYPE_STATS struct taskstats },
// with TASKSTATS_TYPE_NULL padding where the kernel aligns the struct to 8 bytes.
bool ParseTaskstatsAttrs(std::string_view attrs, NetlinkReply& r) {
  bool stats = false;
  const bool ok = ForEachAttr(attrs, [&](uint16_t type, std::string_view payload) {
    if (type != TASKSTATS_TYPE_AGGR_TGID && type != TASKSTATS_TYPE_AGGR_PID) return true;
    return ForEachAttr(payload, [&](uint16_t inner, std::string_view value) {
      if (inner == TASKSTATS_TYPE_TGID || inner == TASKSTATS_TYPE_PID) {
        if (value.size() < sizeof(uint32_t)) return false;
        r.tgid = static_cast<int32_t>(Load<uint32_t>(value, 0));
      } else if (inner == TASKSTATS_TYPE_STATS) {
        if (!ParseTaskstats(value, r.stats)) return false;
        stats = true;
      }
      return true;
    });
  });
  return ok && stats && r.tgid;
}

bool ParseFamilyAttrs(std::string_view attrs, NetlinkReply& r) {
  return ForEachAttr(attrs,
                     [&](uint16_t type, std::string_view value) {
                       if (type == CTRL_ATTR_FAMILY_ID) {
                         if (value.size() < sizeof(uint16_t)) return false;
                         r.family = Load<uint16_t>(value, 0);
                       }
                       return true;
                     }) &&
         r.family;
}

}  // namespace

void AppendFamilyRequest(uint32_t seq, std::string& out) {
  // The name with its terminating NUL, as the controller expects.
  AppendRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, seq, CTRL_ATTR_FAMILY_NAME,
                std::string_view(TASKSTATS_GENL_NAME, sizeof TASKSTATS_GENL_NAME), out);
}

void AppendTgidRequest(uint16_t family, uint32_t seq, int32_t tgid, std::string& out) {
  const auto id = static_cast<uint32_t>(tgid);
  AppendRequest(family, TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, seq, TASKSTATS_CMD_ATTR_TGID,
                std::string_view(reinterpret_cast<const char*>(&id), sizeof id), out);
}

size_t ParseNetlinkReplies(std::string_view datagram, std::vector<NetlinkReply>& out) {
  out.clear();
  size_t malformed = 0;
  while (datagram.size() >= NLMSG_HDRLEN) {
    const auto nl = Load<nlmsghdr>(datagram, 0);
    if (nl.nlmsg_len < NLMSG_HDRLEN || nl.nlmsg_len > datagram.size()) return malformed + 1;
    const std::string_view body = datagram.substr(NLMSG_HDRLEN, nl.nlmsg_len - NLMSG_HDRLEN);
    datagram.remove_prefix(std::min<size_t>(NLMSG_ALIGN(nl.nlmsg_len), datagram.size()));

    NetlinkReply r{.seq = nl.nlmsg_seq};
    bool ok = false;
    if (nl.nlmsg_type == NLMSG_ERROR) {
      // A negated errno (the kernel's MAX_ERRNO is 4095), or 0 for an acknowledgement.
      constexpr int kMaxErrno = 4095;
      const bool whole = body.size() >= sizeof(nlmsgerr);
      const int error = whole ? Load<nlmsgerr>(body, 0).error : 0;
      ok = whole && error <= 0 && error >= -kMaxErrno;
      if (ok) r.error = -error;
      if (ok && r.error == 0) continue;  // an acknowledgement
    } else if (body.size() >= GENL_HDRLEN) {
      const auto genl = Load<genlmsghdr>(body, 0);
      const std::string_view attrs = body.substr(GENL_HDRLEN);
      if (genl.cmd == CTRL_CMD_NEWFAMILY) {
        ok = ParseFamilyAttrs(attrs, r);
      } else if (genl.cmd == TASKSTATS_CMD_NEW) {
        ok = ParseTaskstatsAttrs(attrs, r);
      }
    }
    if (ok) {
      out.push_back(r);
    } else {
      ++malformed;
    }
  }
  return malformed + (datagram.empty() ? 0 : 1);
}

bool SharesPidNamespace(const FsRoot& procfs) {
  char target[32];
  const ssize_t n = ::readlink(procfs.Path("self").c_str(), target, sizeof target);
  return n > 0 && std::string_view(target, static_cast<size_t>(n)) == std::to_string(::getpid());
}

std::unique_ptr<TaskstatsClient> TaskstatsClient::Open(std::chrono::milliseconds timeout,
                                                       std::string& error) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) {
    error = std::string("netlink socket: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<TaskstatsClient> client(new TaskstatsClient(fd, 0));
  const timeval tv{.tv_sec = timeout.count() / 1000, .tv_usec = timeout.count() % 1000 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  std::string request;
  AppendFamilyRequest(client->seq_, request);
  char reply[4096];
  if (::send(fd, request.data(), request.size(), 0) < 0) {
    error = std::string("netlink send: ") + std::strerror(errno);
    return nullptr;
  }
  const ssize_t n = ::recv(fd, reply, sizeof reply, 0);
  if (n < 0) {
    error = std::string("netlink recv: ") + std::strerror(errno);
    return nullptr;
  }
  std::vector<NetlinkReply> replies;
  ParseNetlinkReplies(std::string_view(reply, static_cast<size_t>(n)), replies);
  if (replies.empty() || !replies[0].family) {
    const int err = replies.empty() ? EPROTO : replies[0].error;
    // ENOENT: no such family here, a network namespace other than the host's or no
    // CONFIG_TASKSTATS.
    error = std::string("taskstats family: ") + std::strerror(err);
    return nullptr;
  }
  client->family_ = *replies[0].family;

  ProcessQuery self{.tgid = static_cast<int32_t>(::getpid())};
  client->Query(std::span(&self, 1));
  if (self.status != ReadStatus::kOk) {
    error = std::string("taskstats query: ") + std::string(ReadStatusName(self.status)) +
            (self.status == ReadStatus::kPermission ? " (needs CAP_NET_ADMIN)" : "");
    return nullptr;
  }
  return client;
}

TaskstatsClient::TaskstatsClient(int fd, uint16_t family)
    : fd_(fd), family_(family), buffers_(kBatch, std::string(2048, '\0')) {}

TaskstatsClient::~TaskstatsClient() { ::close(fd_); }

void TaskstatsClient::Query(std::span<ProcessQuery> queries) {
  // A reply to TGID request i of this call carries sequence number first + i.
  const uint32_t first = seq_;
  seq_ += static_cast<uint32_t>(queries.size());
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = {.iov_base = buffers_[i].data(), .iov_len = buffers_[i].size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (ProcessQuery& q : queries) q.status = ReadStatus::kIoError;

  for (size_t start = 0; start < queries.size(); start += kBatch) {
    const size_t count = std::min(kBatch, queries.size() - start);
    request_.clear();
    for (size_t i = 0; i < count; ++i) {
      AppendTgidRequest(family_, first + static_cast<uint32_t>(start + i), queries[start + i].tgid,
                        request_);
    }
    if (::send(fd_, request_.data(), request_.size(), 0) < 0) continue;
    // One reply per request; stop waiting at the timeout (SO_RCVTIMEO) and leave the rest
    // failed.
    for (size_t answered = 0; answered < count;) {
      const int n = ::recvmmsg(fd_, msgs, static_cast<unsigned>(count - answered), 0, nullptr);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        break;
      }
      for (int m = 0; m < n; ++m) {
        ParseNetlinkReplies(std::string_view(buffers_[m].data(), msgs[m].msg_len), replies_);
        for (const NetlinkReply& r : replies_) {
          const uint32_t index = r.seq - first;
          if (index < start || index >= start + count) continue;  // an earlier round's
          ++answered;
          ProcessQuery& q = queries[index];
          if (r.error != 0) {
            q.status = StatusFromErrno(r.error);
          } else if (r.tgid == q.tgid) {
            q.status = ReadStatus::kOk;
            q.stats = r.stats;
          }
        }
      }
    }
  }
}

ProcessStatsFn OpenProcessStats(const FsRoot& procfs, std::chrono::milliseconds timeout,
                                std::string& why) {
  if (!SharesPidNamespace(procfs)) {
    why = procfs.Path("self") + " is not this process: not the procfs of its PID namespace";
    return {};
  }
  std::shared_ptr<TaskstatsClient> client = TaskstatsClient::Open(timeout, why);
  if (!client) return {};
  return [client](std::span<ProcessQuery> queries) { client->Query(queries); };
}

}  // namespace exporter::kernel
