#include "exporter/sources/jaeger_poller.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "exporter/spans/formats.h"

namespace exporter::sources {
namespace {

constexpr std::string_view kSource = "jaeger";

std::string Rfc3339(common::TimePoint t) {
  const auto ns = t.time_since_epoch().count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1'000'000'000));
  return buf;
}

int64_t Micros(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// {"services":[...]} (v3) or {"data":[...]} (v1).
std::optional<std::vector<std::string>> ParseServiceList(std::string_view body,
                                                         std::string_view key, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc)) {
    error = std::string("service list is not JSON: ") + simdjson::error_message(err);
    return std::nullopt;
  }
  simdjson::dom::array list;
  if (doc[key].get(list)) {
    // Jaeger answers null instead of [] when it knows no service.
    if (doc[key].is_null()) return std::vector<std::string>{};
    error = "service list has no \"" + std::string(key) + "\" array";
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (simdjson::dom::element e : list) {
    std::string_view name;
    if (!e.get(name)) out.emplace_back(name);
  }
  return out;
}

}  // namespace

JaegerApi ParseJaegerApi(std::string_view s) {
  if (s == "auto") return JaegerApi::kAuto;
  if (s == "v3") return JaegerApi::kV3;
  if (s == "v1") return JaegerApi::kV1;
  throw std::invalid_argument("--jaeger.api must be auto, v3 or v1, not \"" + std::string(s) +
                              "\"");
}

JaegerPoller::JaegerPoller(JaegerPollerOptions options, common::HttpGet get, ExporterLoop& loop,
                           SourceMetrics& metrics)
    : options_(std::move(options)), get_(std::move(get)), loop_(loop), metrics_(metrics) {
  options_.url = TrimSlash(options_.url);
  if (options_.api != JaegerApi::kAuto) detected_ = options_.api;
}

JaegerPoller::~JaegerPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JaegerPoller::Start(const common::Clock& clock) {
  thread_ = std::thread([this, &clock] {
    common::Duration wait{0};
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (wake_.wait_for(lock, wait, [this] { return stop_; })) return;
      }
      const PollResult r = PollOnce(clock.Now());
      wait = r.next_poll;
      if (!r.ok) {
        spdlog::warn("jaeger: poll failed ({}); next attempt in {} s", r.error,
                     std::chrono::duration_cast<std::chrono::seconds>(wait).count());
      }
    }
  });
}

bool JaegerPoller::Fetch(const std::string& url, std::string& body, std::string& error,
                         bool& not_found) {
  common::HttpResult r = get_(url);
  not_found = r.error.empty() && r.status == 404;
  if (!r.ok()) {
    error = r.Describe(url);
    return false;
  }
  body = std::move(r.body);
  return true;
}

std::optional<std::vector<std::string>> JaegerPoller::ListServices(PollResult& result) {
  std::string body;
  bool not_found = false;
  std::string_view key = "services";
  if (detected_ != JaegerApi::kV1) {
    if (!Fetch(options_.url + "/api/v3/services", body, result.error, not_found)) {
      // Only an absent v3 API (404) falls back to v1; other failures are failures.
      if (!not_found || detected_ == JaegerApi::kV3) {
        result.failure = "fetch_error";
        return std::nullopt;
      }
    } else {
      detected_ = JaegerApi::kV3;
    }
  }
  if (detected_ != JaegerApi::kV3) {
    if (!Fetch(options_.url + "/api/services", body, result.error, not_found)) {
      result.failure = "fetch_error";
      return std::nullopt;
    }
    detected_ = JaegerApi::kV1;
    key = "data";
  }
  auto services = ParseServiceList(body, key, result.error);
  if (!services) result.failure = "malformed";
  return services;
}

bool JaegerPoller::Remember(const spans::TraceId& id) {
  if (!seen_.insert(id).second) return false;
  seen_order_.push_back(id);
  while (seen_order_.size() > options_.seen_traces) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  return true;
}

bool JaegerPoller::PollService(const std::string& service, common::TimePoint from,
                               common::TimePoint to, common::TimePoint now, PollResult& result) {
  std::string url;
  if (detected_ == JaegerApi::kV3) {
    url = options_.url + "/api/v3/traces?query.service_name=" + common::UrlEncode(service) +
          "&query.start_time_min=" + common::UrlEncode(Rfc3339(from)) +
          "&query.start_time_max=" + common::UrlEncode(Rfc3339(to)) +
          // Older Jaeger reads the limit only as query.num_traces, newer also as
          // query.search_depth; unknown names are ignored, so both are sent.
          "&query.num_traces=" + std::to_string(options_.search_limit) +
          "&query.search_depth=" + std::to_string(options_.search_limit);
  } else {
    url = options_.url + "/api/traces?service=" + common::UrlEncode(service) +
          "&start=" + std::to_string(Micros(from)) + "&end=" + std::to_string(Micros(to)) +
          "&limit=" + std::to_string(options_.search_limit);
  }
  std::string body;
  bool not_found = false;
  if (!Fetch(url, body, result.error, not_found)) {
    // v3 answers 404 when no trace matches.
    if (not_found && detected_ == JaegerApi::kV3) {
      result.error.clear();
      return true;
    }
    result.failure = "fetch_error";
    return false;
  }

  spans::SpanBatch batch = loop_.TakeBatch();
  const spans::ParseResult parsed = spans::ParseSpans(
      detected_ == JaegerApi::kV3 ? spans::SpanFormat::kOtlpJson : spans::SpanFormat::kJaegerJson,
      body, batch);
  if (!parsed.ok()) {
    result.failure = "malformed";
    result.error = "traces of " + service + ": " + parsed.error;
    return false;
  }
  metrics_.Dropped(kSource, "invalid_span", parsed.rejected_spans);
  metrics_.Validated(kSource, loop_.Validate(batch, now));

  // Keep only traces not seen in an earlier poll or in another service's answer of this poll
  // (a trace answers the search of every service it touches, each time whole).
  std::unordered_set<spans::TraceId, TraceIdHash> fresh;
  std::vector<spans::Span>& all = batch.mutable_spans();
  std::erase_if(all, [&](const spans::Span& s) {
    if (fresh.contains(s.trace_id)) return false;
    if (!Remember(s.trace_id)) return true;
    fresh.insert(s.trace_id);
    return false;
  });
  if (all.empty()) return true;
  const size_t n = all.size();
  if (!loop_.Submit(std::move(batch), false, [&] { metrics_.Received(kSource, n); })) {
    metrics_.Dropped(kSource, "queue_full", n);
    // Forget them again so the next poll (whose window overlaps) can bring them back. They are
    // the newest entries of seen_order_, so they leave from its back.
    for (const auto& id : fresh) seen_.erase(id);
    while (!seen_order_.empty() && !seen_.contains(seen_order_.back())) seen_order_.pop_back();
    result.failure = "queue_full";
    result.error = "span queue is full";
    return false;
  }
  result.traces += fresh.size();
  result.spans += n;
  return true;
}

JaegerPoller::PollResult JaegerPoller::PollOnce(common::TimePoint now) {
  PollResult result;
  // The first window reaches back first_lookback from the first attempt, so an outage at start-up
  // loses nothing either.
  if (!from_) from_ = now - options_.first_lookback;
  const common::TimePoint from = *from_;
  const common::TimePoint to = now - options_.settle;
  const std::optional<std::vector<std::string>> services = ListServices(result);
  bool ok = services.has_value();
  if (ok) {
    for (const std::string& service : *services) {
      if (!PollService(service, from, to, now, result)) {
        ok = false;
        break;
      }
    }
  }
  // The failure is counted before up turns 0, so a scrape that sees the source down also sees why.
  if (!ok) metrics_.Failed(kSource, result.failure);
  metrics_.SetUp(kSource, ok);
  // Back off while Jaeger is failing; the window's start stays put meanwhile.
  next_poll_ = ok ? options_.interval
                  : std::min(std::max(next_poll_ * 2, options_.interval), options_.max_backoff);
  result.next_poll = next_poll_;
  if (!ok) return result;
  from_ = to - options_.overlap;
  result.ok = true;
  return result;
}

}  // namespace exporter::sources
