#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/http_client.h"
#include "exporter/sources/source_metrics.h"
#include "exporter/state/captains.h"

namespace exporter::sources {

// Parses a /api/v1/targets answer; nullopt with `error` set when it is not one. Entries with a
// target outside [0, 1] or missing fields are rejected with the whole answer, so a bad answer
// never replaces good targets piecemeal.
std::optional<state::ThrottleTargets> ParseThrottleTargets(std::string_view json,
                                                           std::string* error);

struct TargetsPollerOptions {
  std::string url;  // the recommender's base URL, e.g. http://queuelens-recommender:8471
  common::Duration interval = std::chrono::seconds{15};  // the Tower chooses once a minute
};

// Fetches the Tower's throttle targets (GET <url>/api/v1/targets) for this node's Captains. A
// failed or malformed answer keeps the targets already held and is counted as a failure of
// source "recommender"; queuelens_source_up{source="recommender"} shows the last attempt.
class TargetsPoller {
 public:
  TargetsPoller(TargetsPollerOptions options, common::HttpGet get, SourceMetrics& metrics);
  ~TargetsPoller();
  TargetsPoller(const TargetsPoller&) = delete;
  TargetsPoller& operator=(const TargetsPoller&) = delete;

  struct PollResult {
    bool ok = false;
    size_t targets = 0;
    std::string error;
  };
  // One fetch; the thread calls it, tests call it directly.
  PollResult PollOnce();
  // Polls every interval on a thread until destroyed.
  void Start();

  // The last good targets; null before the first.
  std::shared_ptr<const state::ThrottleTargets> Current() const;

 private:
  TargetsPollerOptions options_;
  common::HttpGet get_;
  SourceMetrics& metrics_;

  mutable std::mutex mu_;
  std::shared_ptr<const state::ThrottleTargets> current_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace exporter::sources
