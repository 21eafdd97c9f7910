#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "exporter/loop.h"
#include "exporter/sources/source_metrics.h"
#include "exporter/spans/span.h"

namespace exporter::sources {

enum class JaegerApi { kAuto, kV3, kV1 };

struct JaegerPollerOptions {
  std::string url;  // e.g. http://jaeger-query:16686
  JaegerApi api = JaegerApi::kAuto;
  common::Duration interval = std::chrono::seconds{15};
  // Each poll asks for traces started in [end of the last successful poll's window - overlap,
  // now - settle]: settle lets traces finish before they are read, overlap catches traces Jaeger
  // indexed late.
  common::Duration overlap = std::chrono::seconds{30};
  common::Duration settle = std::chrono::seconds{5};
  common::Duration first_lookback = std::chrono::minutes{1};
  size_t search_limit = 1000;    // traces per service per poll
  size_t seen_traces = 200'000;  // remembered trace ids, so none is counted twice
  common::Duration max_backoff = std::chrono::minutes{2};
};

JaegerApi ParseJaegerApi(std::string_view s);  // throws std::invalid_argument

// Polls Jaeger's query service for new traces: v3 (/api/v3/services, /api/v3/traces, OTLP JSON)
// or, where v3 is absent, v1 (/api/services, /api/traces). Traces already seen are skipped, and a
// failed poll does not move the window's start, so nothing is missed while Jaeger is down.
class JaegerPoller {
 public:
  JaegerPoller(JaegerPollerOptions options, common::HttpGet get, ExporterLoop& loop,
               SourceMetrics& metrics);
  ~JaegerPoller();

  struct PollResult {
    bool ok = false;
    size_t traces = 0;  // new traces submitted
    size_t spans = 0;
    std::string error;
    std::string_view failure;  // the reason counted in queuelens_source_failures_total
    // How long to wait before the next poll: the interval, or while polls fail a backoff that
    // doubles up to max_backoff.
    common::Duration next_poll{0};
  };
  // One poll at `now`; the background thread calls it, tests call it directly.
  PollResult PollOnce(common::TimePoint now);

  // Polls every interval (backing off after failures) on a thread until destroyed.
  void Start(const common::Clock& clock);

  std::optional<JaegerApi> detected_api() const { return detected_; }

 private:
  struct TraceIdHash {
    size_t operator()(const spans::TraceId& id) const {
      return static_cast<size_t>(id.lo * 0x9e3779b97f4a7c15ull ^ id.hi);
    }
  };
  bool Fetch(const std::string& url, std::string& body, std::string& error, bool& not_found);
  std::optional<std::vector<std::string>> ListServices(PollResult& result);
  // Fetches one service's traces in [from, to] and submits the unseen ones; now: the poll's time,
  // against which span ages are checked.
  bool PollService(const std::string& service, common::TimePoint from, common::TimePoint to,
                   common::TimePoint now, PollResult& result);
  bool Remember(const spans::TraceId& id);  // false when already seen

  JaegerPollerOptions options_;
  common::HttpGet get_;
  ExporterLoop& loop_;
  SourceMetrics& metrics_;
  std::optional<JaegerApi> detected_;
  std::optional<common::TimePoint> from_;  // start of the next poll's window
  common::Duration next_poll_{0};
  std::unordered_set<spans::TraceId, TraceIdHash> seen_;
  std::deque<spans::TraceId> seen_order_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace exporter::sources
