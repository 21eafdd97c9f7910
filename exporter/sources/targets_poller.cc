#include "exporter/sources/targets_poller.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "exporter/spans/formats.h"

namespace exporter::sources {
namespace {
constexpr std::string_view kSource = "recommender";
}  // namespace

std::optional<state::ThrottleTargets> ParseThrottleTargets(std::string_view json,
                                                           std::string* error) {
  simdjson::dom::element root;
  if (const char* e = spans::internal::ParseJsonDocument(json, false, root)) {
    *error = std::string("not JSON: ") + e;
    return std::nullopt;
  }
  simdjson::dom::array list;
  if (root["targets"].get_array().get(list) != simdjson::SUCCESS) {
    *error = "no \"targets\" array";
    return std::nullopt;
  }
  state::ThrottleTargets out;
  size_t i = 0;
  for (simdjson::dom::element item : list) {
    std::string_view ns, workload, container;
    double target = 0;
    if (item["namespace"].get_string().get(ns) != simdjson::SUCCESS ||
        item["workload"].get_string().get(workload) != simdjson::SUCCESS ||
        item["container"].get_string().get(container) != simdjson::SUCCESS ||
        item["throttleTarget"].get_double().get(target) != simdjson::SUCCESS) {
      *error = "targets[" + std::to_string(i) +
               "]: needs string namespace, workload, container and a number throttleTarget";
      return std::nullopt;
    }
    if (!(target >= 0 && target <= 1)) {
      *error = "targets[" + std::to_string(i) + "]: throttleTarget " + std::to_string(target) +
               " is outside [0, 1]";
      return std::nullopt;
    }
    out.entries.push_back({std::string(ns), std::string(workload), std::string(container), target});
    ++i;
  }
  return out;
}

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
  std::optional<state::ThrottleTargets> targets = ParseThrottleTargets(r.body, &result.error);
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
