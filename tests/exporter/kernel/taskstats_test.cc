// The taskstats netlink messages, over replies captured from a real kernel
// (tests/fixtures/taskstats), and the client against this machine's kernel where it allows.
#include "exporter/kernel/taskstats.h"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::ReadText;

std::string Fixture(std::string_view name) {
  return ReadText(std::string(QL_SOURCE_DIR "/tests/fixtures/taskstats/") + std::string(name));
}

TEST(TaskstatsMessagesTest, RequestsAreOneNetlinkMessageEach) {
  std::string out;
  AppendTgidRequest(31, 7, 4242, out);
  AppendFamilyRequest(8, out);
  // nlmsghdr 16 + genlmsghdr 4 + nlattr 4 + u32 tgid.
  ASSERT_EQ(out.size(), 28u + NLMSG_ALIGN(NLMSG_LENGTH(GENL_HDRLEN) + NLA_HDRLEN + 10));
  nlmsghdr nl;
  std::memcpy(&nl, out.data(), sizeof nl);
  EXPECT_EQ(nl.nlmsg_len, 28u);
  EXPECT_EQ(nl.nlmsg_type, 31);
  EXPECT_EQ(nl.nlmsg_flags, NLM_F_REQUEST);
  EXPECT_EQ(nl.nlmsg_seq, 7u);
  genlmsghdr genl;
  std::memcpy(&genl, out.data() + NLMSG_HDRLEN, sizeof genl);
  EXPECT_EQ(genl.cmd, TASKSTATS_CMD_GET);
  nlattr a;
  std::memcpy(&a, out.data() + NLMSG_HDRLEN + GENL_HDRLEN, sizeof a);
  EXPECT_EQ(a.nla_type, TASKSTATS_CMD_ATTR_TGID);
  EXPECT_EQ(a.nla_len, NLA_HDRLEN + 4);
  uint32_t tgid;
  std::memcpy(&tgid, out.data() + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, sizeof tgid);
  EXPECT_EQ(tgid, 4242u);
  // The family name goes with its NUL.
  EXPECT_NE(out.find(std::string("TASKSTATS\0", 10), 28), std::string::npos);
}

TEST(TaskstatsMessagesTest, RealRepliesParse) {
  std::vector<NetlinkReply> replies;
  EXPECT_EQ(ParseNetlinkReplies(Fixture("family_reply.bin"), replies), 0u);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].seq, 1u);
  EXPECT_EQ(replies[0].family, 31);

  // A sleeping single-threaded process, and its own schedstat read right after.
  std::istringstream expected(Fixture("tgid_reply.schedstat"));
  int32_t pid = 0;
  uint64_t run = 0, wait = 0, slices = 0;
  expected >> pid >> run >> wait >> slices;
  EXPECT_EQ(ParseNetlinkReplies(Fixture("tgid_reply.bin"), replies), 0u);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].seq, 7u);
  EXPECT_EQ(replies[0].error, 0);
  EXPECT_EQ(replies[0].tgid, pid);
  EXPECT_EQ(replies[0].stats.run_ns, run);
  EXPECT_EQ(replies[0].stats.wait_ns, wait);
  EXPECT_EQ(replies[0].stats.timeslices, slices);

  // The same process after it was killed.
  EXPECT_EQ(ParseNetlinkReplies(Fixture("esrch_reply.bin"), replies), 0u);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].seq, 8u);
  EXPECT_EQ(replies[0].error, ESRCH);
  EXPECT_FALSE(replies[0].tgid);
}

TEST(TaskstatsMessagesTest, SeveralMessagesInOneDatagram) {
  const std::string datagram =
      Fixture("tgid_reply.bin") + Fixture("esrch_reply.bin") + Fixture("family_reply.bin");
  std::vector<NetlinkReply> replies;
  EXPECT_EQ(ParseNetlinkReplies(datagram, replies), 0u);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(replies[0].tgid);
  EXPECT_EQ(replies[1].error, ESRCH);
  EXPECT_TRUE(replies[2].family);
}

TEST(TaskstatsMessagesTest, TruncatedAndHostileRepliesAreCountedNotRead) {
  const std::string reply = Fixture("tgid_reply.bin");
  std::vector<NetlinkReply> replies;
  // Every proper prefix: no reply taken, at least one malformed (nothing for the empty one).
  for (size_t n = 1; n < reply.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_GE(ParseNetlinkReplies(std::string_view(reply).substr(0, n), replies), 1u);
    EXPECT_TRUE(replies.empty());
  }
  EXPECT_EQ(ParseNetlinkReplies("", replies), 0u);

  auto with = [&](size_t offset, auto value) {
    std::string bad = reply;
    std::memcpy(bad.data() + offset, &value, sizeof value);
    return bad;
  };
  // A message length beyond the datagram; an attribute length beyond the message; an
  // attribute length below its own header; a stats attribute too short for the counters.
  const size_t attr = NLMSG_HDRLEN + GENL_HDRLEN;
  const size_t stats = attr + NLA_HDRLEN + NLA_HDRLEN + 4;  // after the TGID attribute
  for (const std::string& bad : {with(0, uint32_t{1} << 20), with(attr, uint16_t{60000}),
                                 with(attr, uint16_t{2}), with(stats, uint16_t{NLA_HDRLEN + 8})}) {
    EXPECT_EQ(ParseNetlinkReplies(bad, replies), 1u);
    EXPECT_TRUE(replies.empty());
  }
  // A reply of another command, and an error message cut short.
  std::string other = reply;
  other[NLMSG_HDRLEN] = static_cast<char>(TASKSTATS_CMD_GET);
  EXPECT_EQ(ParseNetlinkReplies(other, replies), 1u);
  std::string error = Fixture("esrch_reply.bin");
  const uint32_t short_len = NLMSG_HDRLEN + 4;
  std::memcpy(error.data(), &short_len, sizeof short_len);
  EXPECT_EQ(ParseNetlinkReplies(std::string_view(error).substr(0, short_len), replies), 1u);
  // An error code that is not a negated errno.
  for (const int32_t bad_code : {ESRCH, -5000, INT32_MIN}) {
    std::string bad = Fixture("esrch_reply.bin");
    std::memcpy(bad.data() + NLMSG_HDRLEN, &bad_code, sizeof bad_code);
    EXPECT_EQ(ParseNetlinkReplies(bad, replies), 1u);
    EXPECT_TRUE(replies.empty());
  }
}

// The real kernel: skipped with the reason where taskstats is unusable (no CAP_NET_ADMIN, a
// network namespace other than the host's, no CONFIG_TASKSTATS).
class TaskstatsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    client_ = TaskstatsClient::Open(std::chrono::milliseconds{1000}, error);
    if (!client_) GTEST_SKIP() << "taskstats unusable here: " << error;
  }
  std::unique_ptr<TaskstatsClient> client_;
};

TEST_F(TaskstatsClientTest, AProcessIsTheSumOfItsThreadsExitedOnesIncluded) {
#ifdef __SANITIZE_THREAD__
  GTEST_SKIP() << "ThreadSanitizer's runtime starts threads of its own in the forked child";
#endif
  // A child with 4 threads that burn a little CPU, then 2 of them exit; the child then sleeps.
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto burn = [] {
      volatile uint64_t x = 0;
      for (int i = 0; i < 2'000'000; ++i) x = x + i;
    };
    std::vector<std::thread> exiting;
    for (int i = 0; i < 2; ++i) exiting.emplace_back(burn);
    for (auto& t : exiting) t.join();
    std::atomic<bool> stop{false};
    std::vector<std::thread> staying;
    for (int i = 0; i < 2; ++i) {
      staying.emplace_back([&] {
        burn();
        while (!stop) ::pause();
      });
    }
    burn();
    ::sleep(1);  // let the staying threads finish burning before the parent reads
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    (void)!::read(go[0], &c, 1);
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);

  // The live threads' own schedstat: the process answer holds them plus the exited two.
  TaskSchedstat live;
  std::vector<int32_t> tids;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(child) + "/task")) {
    const auto s = ParseTaskSchedstat(ReadText(e.path() / "schedstat"));
    ASSERT_TRUE(s);
    live.run_ns += s->run_ns;
    live.wait_ns += s->wait_ns;
    live.timeslices += s->timeslices;
    tids.push_back(std::stoi(e.path().filename().string()));
  }
  EXPECT_EQ(tids.size(), 3u);

  std::vector<ProcessQuery> queries(150);  // more than one batch of requests
  for (size_t i = 0; i < queries.size(); ++i) queries[i].tgid = i % 2 ? child : ::getpid();
  client_->Query(queries);
  for (size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(queries[i].status, ReadStatus::kOk);
  }
  const TaskSchedstat& p = queries[1].stats;
  // The exited threads' timeslices (each had at least one) and waits are in the process's. Their
  // run time is too, but for the part of its last timeslice the scheduler had not charged yet
  // when it exited (up to a tick: all of it for threads this short).
  EXPECT_GE(p.timeslices, live.timeslices + 2);
  EXPECT_GE(p.wait_ns, live.wait_ns);
  EXPECT_GE(p.run_ns, live.run_ns);
  EXPECT_EQ(queries[3].stats.run_ns, p.run_ns);  // the child sleeps: nothing moves

  (void)!::write(go[1], &c, 1);
  ::waitpid(child, nullptr, 0);
  std::vector<ProcessQuery> gone(1);
  gone[0].tgid = child;
  client_->Query(gone);
  EXPECT_EQ(gone[0].status, ReadStatus::kVanished);
  for (const int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

// --kernel.taskstats=auto|on: a fixture tree lists no PIDs of ours, so taskstats is never asked
// about them.
TEST(OpenProcessStatsTest, AFixtureTreeIsNotThisPidNamespace) {
  std::string why;
  EXPECT_FALSE(OpenProcessStats(FsRoot(fixtures::FixturePath("v2_systemd")),
                                std::chrono::milliseconds{1000}, why));
  EXPECT_NE(why.find("not the procfs of its PID namespace"), std::string::npos) << why;
}

TEST(OpenProcessStatsTest, TheRealProcfsGetsTaskstatsWhereTheKernelAnswers) {
  std::string error;
  const bool usable = TaskstatsClient::Open(std::chrono::milliseconds{1000}, error) != nullptr;
  std::string why;
  const ProcessStatsFn stats =
      OpenProcessStats(FsRoot("/proc"), std::chrono::milliseconds{1000}, why);
  ASSERT_EQ(static_cast<bool>(stats), usable) << why;
  if (!usable) {
    EXPECT_EQ(why, error);
    GTEST_SKIP() << "taskstats unusable here: " << error;
  }
  ProcessQuery self{.tgid = static_cast<int32_t>(::getpid())};
  stats(std::span(&self, 1));
  EXPECT_EQ(self.status, ReadStatus::kOk);
  EXPECT_GT(self.stats.timeslices, 0u);
}

}  // namespace
}  // namespace exporter::kernel
