#include "exporter/sources/targets_poller.h"

#include <spdlog/spdlog.h>

namespace exporter::sources {
namespace {
constexpr std::string_view kSource = "recommender";
}  // namespace

TargetsPoller::TargetsPoller(TargetsPollerOptions options, common::HttpGet get,
                             SourceMetrics& metrics)
    : options_(std::move(options)), get_(std::move(get)), metrics_(metrics) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

TargetsPoller::~TargetsPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TargetsPoller::PollResult TargetsPoller::PollOnce() {
  PollResult result;
  const std::string url = options_.url + "/api/v1/targets";
  const common::HttpResult r = get_(url);
  if (!r.ok()) {
    result.error = r.Describe(url);
    metrics_.Failed(kSource, "fetch_error");
    metrics_.SetUp(kSource, false);
    return result;
  }
  metrics_.SetUp(kSource, true);
  std::optional<state::ThrottleTargets> targets =
      state::ParseThrottleTargets(r.body, &result.error);
  if (!targets) {
    result.error = "GET " + url + ": " + result.error;
    metrics_.Failed(kSource, "malformed");
    return result;
  }
  result.ok = true;
  result.targets = targets->entries.size();
  auto fresh = std::make_shared<const state::ThrottleTargets>(std::move(*targets));
  std::lock_guard lock(mu_);
  current_.swap(fresh);
  return result;
}

void TargetsPoller::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      const PollResult r = PollOnce();
      if (!r.ok) spdlog::warn("recommender targets: {}; keeping the last ones", r.error);
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, options_.interval, [this] { return stop_; })) return;
    }
  });
}

std::shared_ptr<const state::ThrottleTargets> TargetsPoller::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace exporter::sources
