// --captain.apply on the fixture trees (v1, v2, hybrid): the kernel poller's Captains write the
// quota files of the opted-in pod's container and of no other, within the bounds; a resize, an
// opt-out and the poller's end put the right values back; failed writes are counted.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "exporter/kernel/rooted_fs.h"
#include "exporter/sources/kernel_poller.h"
#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::sources {
namespace {

using kernel::fixtures::FixtureTree;
using kernel::fixtures::kT0;
using kernel::fixtures::MakeCollector;
using kernel::fixtures::ReadText;
using std::chrono::milliseconds;
using std::chrono::seconds;

const state::KernelStateOptions kStateOptions{
    .window = seconds{60}, .window_buckets = 4, .series_idle = std::chrono::minutes{5}};

struct Target {
  std::string uid, id, file;  // pod UID, container id, quota file
  kernel::CpuQuota quota;
  bool v2 = false;
};

// The fixture's containers with a quota file (limited ones first), from one plain collection.
std::vector<Target> Targets(const FixtureTree& tree) {
  auto collector = MakeCollector(tree.proc(), tree.sys());
  kernel::KernelSample s;
  collector->Collect(kT0, s);
  std::vector<Target> out;
  for (const auto& c : s.containers) {
    if (c.pod_uid.empty() || !c.quota || !c.usage_ns || !c.throttled_periods) continue;
    out.push_back({c.pod_uid, c.container_id, c.quota_file, *c.quota, c.quota_v2});
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const Target& t) { return t.quota.quota_us > 0; });
  return out;
}

// A kubelet pod list naming each target's pod and container. The pod of `opted` carries
// `annotations` and lists `opted` alone: its other containers stand for the sandbox, which the
// kubelet does not list and which is never written.
std::string PodList(const std::vector<Target>& targets, const Target* opted = nullptr,
                    std::string_view annotations = {}) {
  std::map<std::string, std::vector<std::string>> pods;  // UID -> container ids
  for (const Target& t : targets) {
    if (opted == nullptr || t.uid != opted->uid || t.id == opted->id) pods[t.uid].push_back(t.id);
  }
  std::string items;
  for (const auto& [uid, ids] : pods) {
    std::string statuses;
    for (const std::string& id : ids) {
      if (!statuses.empty()) statuses += ",";
      statuses +=
          R"({"name":"c-)" + id.substr(0, 6) + R"(","containerID":"containerd://)" + id + R"("})";
    }
    if (!items.empty()) items += ",";
    items += R"({"metadata":{"uid":")" + uid + R"(","namespace":"ns","name":"pod-)" +
             uid.substr(0, 8) + R"(","annotations":{)" +
             std::string(opted != nullptr && uid == opted->uid ? annotations : "") +
             R"(}},"status":{"containerStatuses":[)" + statuses + "]}}";
  }
  return R"({"items":[)" + items + "]}";
}

// As queuelens writes it (the kernel adds a newline when it prints the value).
std::string QuotaText(const Target& t, int64_t quota_us) {
  if (!t.v2) return std::to_string(quota_us);
  return (quota_us < 0 ? std::string("max") : std::to_string(quota_us)) + " " +
         std::to_string(t.quota.period_us);
}

// Parses what the writer left: the v2 or v1 quota in µs.
int64_t QuotaIn(const Target& t) {
  const std::string text = ReadText(t.file);
  if (!t.v2) return std::stoll(text);
  return text.rfind("max", 0) == 0 ? -1 : std::stoll(text);
}

class CaptainApplyTest : public ::testing::TestWithParam<const char*> {
 protected:
  CaptainApplyTest() : tree_(GetParam()), targets_(Targets(tree_)) {}

  std::unique_ptr<KernelPoller> Poller(state::QuotaWriter write = kernel::WriteFile) {
    CaptainsRun run;
    run.apply = state::CaptainApplierOptions{.min_cores = 0.1, .retry = seconds{10}};
    run.write = [this, write](const std::string& path, std::string_view content) {
      written_.push_back(path);
      return write(path, content);
    };
    kernel::CollectorOptions options;
    options.kubelet_every_discovery = true;
    options.discovery_interval = seconds{10};
    return std::make_unique<KernelPoller>(MakeCollector(tree_.proc(), tree_.sys(), options,
                                                        [this](const std::string&) {
                                                          common::HttpResult r;
                                                          r.status = 200;
                                                          r.body = pods_;
                                                          return r;
                                                        }),
                                          kStateOptions, std::move(run));
  }
  // A collection at `start`, then 100 ms ticks up to `start + span`.
  void Run(KernelPoller& p, common::TimePoint start, common::Duration span) {
    p.CollectOnce(start);
    for (auto t = start + milliseconds{100}; t < start + span; t += milliseconds{100}) {
      p.TickCaptains(t);
    }
  }
  const state::KernelSnapshot::CaptainApply& Apply(KernelPoller& p, common::TimePoint now) {
    p.CollectOnce(now);
    snapshot_ = p.Snapshot();
    return snapshot_->captain_apply;
  }
  uint64_t Errors(const state::KernelSnapshot::CaptainApply& a, std::string_view reason) {
    for (const auto& [r, n] : a.write_errors) {
      if (r == reason) return n;
    }
    ADD_FAILURE() << "no reason " << reason;
    return 0;
  }

  FixtureTree tree_;
  std::vector<Target> targets_;
  std::string pods_ = R"({"items":[]})";
  std::vector<std::string> written_;
  std::shared_ptr<const state::KernelSnapshot> snapshot_;
};

constexpr char kOptIn[] = R"("queuelens.io/cpu-control":"captain")";

TEST_P(CaptainApplyTest, WritesOnlyTheOptedInContainerWithinItsBoundsAndRestoresIt) {
  ASSERT_GE(targets_.size(), 2u);
  const Target& opted = targets_[0];
  ASSERT_GT(opted.quota.quota_us, 0);  // a limited container, so the floor is reached by halving
  std::map<std::string, std::string> others;  // the quota files of the other containers
  for (const Target& t : targets_) {
    if (t.file != opted.file) others[t.file] = ReadText(t.file);
  }
  pods_ =
      PodList(targets_, &opted, std::string(kOptIn) + R"(,"queuelens.io/captain-min-cpu":"150m")");
  {
    auto poller = Poller();
    // No usage and no throttling in the fixture: every decision halves the limit, down to the
    // pod's floor of 0.15 cores.
    Run(*poller, kT0, seconds{9});
    EXPECT_EQ(QuotaIn(opted), opted.quota.period_us * 15 / 100);
    for (const std::string& path : written_) EXPECT_EQ(path, opted.file);
    for (const auto& [file, text] : others) EXPECT_EQ(ReadText(file), text) << file;
    const auto& a = Apply(*poller, kT0 + seconds{9});
    ASSERT_EQ(a.applied.size(), 1u);
    EXPECT_EQ(a.applied[0].pod, "pod-" + opted.uid.substr(0, 8));
    EXPECT_EQ(a.applied[0].container, "c-" + opted.id.substr(0, 6));
    EXPECT_DOUBLE_EQ(a.applied[0].cpu_cores, 0.15);
    EXPECT_GE(a.limit_writes, 1u);
    EXPECT_EQ(a.restore_writes, 0u);
  }
  // The poller's end wrote the original back.
  EXPECT_EQ(QuotaIn(opted), opted.quota.quota_us);
  if (opted.v2) {
    EXPECT_EQ(ReadText(opted.file), QuotaText(opted, opted.quota.quota_us));
  }
}

TEST_P(CaptainApplyTest, AResizeBecomesTheOriginalAndAnOptOutRestoresIt) {
  const Target& opted = targets_[0];
  pods_ = PodList(targets_, &opted, kOptIn);
  auto poller = Poller();
  Run(*poller, kT0, seconds{3});
  const int64_t ours = QuotaIn(opted);
  ASSERT_LT(ours, opted.quota.quota_us);
  // The kubelet resizes the pod: 1.2 cores.
  const int64_t resized = opted.quota.period_us * 12 / 10;
  tree_.Write(std::filesystem::relative(opted.file, tree_.root()).string(),
              QuotaText(opted, resized));
  const size_t writes = written_.size();
  poller->TickCaptains(kT0 + seconds{3});
  EXPECT_EQ(written_.size(), writes);  // not fought
  EXPECT_EQ(QuotaIn(opted), resized);
  const auto& a = Apply(*poller, kT0 + seconds{3} + milliseconds{100});
  EXPECT_EQ(a.resizes, 1u);
  // The new Captain starts from 1.2 cores and halves it.
  Run(*poller, kT0 + seconds{4}, seconds{3});
  EXPECT_LT(QuotaIn(opted), resized);
  // The pod opts out; the next discovery sees it and writes the resized value back.
  pods_ = PodList(targets_);
  const auto& b = Apply(*poller, kT0 + seconds{20});
  EXPECT_EQ(QuotaIn(opted), resized);
  EXPECT_EQ(b.restore_writes, 1u);
  EXPECT_TRUE(b.applied.empty());
  // Opted out: nothing more is written, at the end either.
  const size_t after = written_.size();
  Run(*poller, kT0 + seconds{21}, seconds{3});
  poller.reset();
  EXPECT_EQ(written_.size(), after);
}

TEST_P(CaptainApplyTest, AnUnlimitedContainerStartsAtItsCeiling) {
  const auto unlimited = std::find_if(targets_.begin(), targets_.end(),
                                      [](const Target& t) { return t.quota.quota_us < 0; });
  ASSERT_NE(unlimited, targets_.end());
  pods_ = PodList(targets_, &*unlimited,
                  std::string(kOptIn) + R"(,"queuelens.io/captain-max-cpu":"0.5")");
  auto poller = Poller();
  poller->CollectOnce(kT0);
  // The Captain starts from the node's CPUs; the annotation caps the first write at 0.5 cores.
  EXPECT_EQ(QuotaIn(*unlimited), unlimited->quota.period_us / 2);
  poller.reset();
  EXPECT_EQ(QuotaIn(*unlimited), -1);
}

TEST_P(CaptainApplyTest, FailedWritesAreCountedByReasonAndRetriedLater) {
  const Target& opted = targets_[0];
  pods_ = PodList(targets_, &opted, kOptIn);
  const std::string before = ReadText(opted.file);
  auto poller =
      Poller([](const std::string&, std::string_view) { return kernel::WriteStatus::kReadOnly; });
  Run(*poller, kT0, seconds{3});
  EXPECT_EQ(ReadText(opted.file), before);
  // The first decision's value failed once; the same value waits 10 s before the next try, so
  // the next decisions (halving the unchanged limit again to the same value) do not write.
  auto a = Apply(*poller, kT0 + seconds{3});
  EXPECT_EQ(Errors(a, "read_only"), 1u);
  EXPECT_EQ(a.limit_writes, 0u);
  Run(*poller, kT0 + seconds{12}, seconds{1});
  a = Apply(*poller, kT0 + seconds{13});
  EXPECT_EQ(Errors(a, "read_only"), 2u);
  EXPECT_EQ(Errors(a, "permission"), 0u);
  poller.reset();  // nothing was written, so nothing is restored
  EXPECT_EQ(ReadText(opted.file), before);
}

TEST_P(CaptainApplyTest, AVanishedCgroupIsCountedAndForgotten) {
  const Target& opted = targets_[0];
  pods_ = PodList(targets_, &opted, kOptIn);
  auto poller =
      Poller([](const std::string&, std::string_view) { return kernel::WriteStatus::kVanished; });
  Run(*poller, kT0, seconds{2});
  const auto& a = Apply(*poller, kT0 + seconds{2});
  EXPECT_GE(Errors(a, "vanished"), 1u);
  EXPECT_TRUE(a.applied.empty());
}

INSTANTIATE_TEST_SUITE_P(Trees, CaptainApplyTest,
                         ::testing::Values("v1_cgroupfs", "v2_systemd", "hybrid_systemd"));

}  // namespace
}  // namespace exporter::sources
