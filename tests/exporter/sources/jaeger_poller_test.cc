#include "exporter/sources/jaeger_poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporter/spans/otlp_proto_writer.h"
#include "tests/exporter/sources/test_util.h"
#include "tests/exporter/spans/test_util.h"
#include "tests/support/fake_clock.h"

namespace exporter::sources {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;

constexpr char kBase[] = "http://jaeger:16686";
constexpr char kReceived[] = "queuelens_spans_received_total";
constexpr char kDropped[] = "queuelens_spans_dropped_total";
constexpr char kFailures[] = "queuelens_source_failures_total";
constexpr char kUp[] = "queuelens_source_up";
const std::map<std::string, std::string> kJaeger = {{"source", "jaeger"}};

common::HttpResult Answer(int status, std::string body) {
  return {.status = status, .body = std::move(body), .error = ""};
}

common::HttpResult TransportError(std::string error) {
  return {.status = 0, .body = "", .error = std::move(error)};
}

// Jaeger's api_v3 answer when a search matches nothing.
common::HttpResult NoTracesFound() {
  return Answer(404, R"({"error":{"httpCode":404,"message":"No traces found"}})"
                     "\n");
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> QueryParams(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = std::min(pair.find('='), pair.size());
    out[PercentDecode(pair.substr(0, eq))] =
        PercentDecode(pair.substr(std::min(eq + 1, pair.size())));
    query.remove_prefix(std::min(amp + 1, query.size()));
  }
  return out;
}

// "2026-08-22T09:59:00.123456789Z", the only form the poller writes.
common::TimePoint ParseRfc3339(const std::string& text) {
  std::tm tm{};
  long long nanos = -1;
  const int fields =
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%9lldZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &nanos);
  EXPECT_EQ(fields, 7) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return common::TimePoint{seconds{timegm(&tm)}} + nanoseconds{nanos};
}

// Jaeger's query service as the poller sees it. Paths in `routes` answer as given; otherwise
// api_v3 searches are served from `traces`, by start time as Jaeger searches, each trace only
// once it is indexed. Every URL asked for is recorded.
class FakeJaeger {
 public:
  struct Trace {
    uint64_t id = 0;
    common::TimePoint start;
    bool indexed = true;
    int spans = 1;
  };

  std::map<std::string, common::HttpResult> routes;
  std::vector<std::string> services = {"shop"};
  std::vector<Trace> traces;
  std::deque<common::HttpResult> outages;  // answered first, in order, whatever the URL
  std::vector<std::string> urls;

  common::HttpGet Get() {
    return [this](const std::string& url) { return Serve(url); };
  }

 private:
  common::HttpResult Serve(const std::string& url) {
    urls.push_back(url);
    if (!outages.empty()) {
      common::HttpResult r = std::move(outages.front());
      outages.pop_front();
      return r;
    }
    EXPECT_EQ(url.rfind(kBase, 0), 0u) << url;
    const std::string rest = url.substr(std::string_view(kBase).size());
    const size_t q = std::min(rest.find('?'), rest.size());
    const std::string path = rest.substr(0, q);
    if (const auto it = routes.find(path); it != routes.end()) return it->second;
    if (path == "/api/v3/services") {
      std::string body = "{\"services\":[";
      for (size_t i = 0; i < services.size(); ++i) {
        body += (i ? ",\"" : "\"") + services[i] + "\"";
      }
      return Answer(200, body + "]}");
    }
    if (path != "/api/v3/traces") return Answer(404, "404 page not found\n");

    auto params = QueryParams(std::string_view(rest).substr(std::min(q + 1, rest.size())));
    const common::TimePoint min = ParseRfc3339(params["query.start_time_min"]);
    const common::TimePoint max = ParseRfc3339(params["query.start_time_max"]);
    spans::OtlpResourceSpans resource{
        .resource = {{.key = "service.name", .value = params["query.service_name"]}},
        .scope_name = "fake",
        .spans = {}};
    for (const Trace& t : traces) {
      if (!t.indexed || t.start < min || t.start > max) continue;
      const int64_t start = t.start.time_since_epoch().count();
      for (int i = 0; i < t.spans; ++i) {
        resource.spans.push_back({.trace_id = {.hi = 0, .lo = t.id},
                                  .span_id = static_cast<uint64_t>(i + 1),
                                  .parent_span_id = static_cast<uint64_t>(i),
                                  .name = "GET /",
                                  .kind = spans::SpanKind::kServer,
                                  .start_unix_nano = start,
                                  .end_unix_nano = start + 10'000'000,
                                  .status = spans::OtlpStatusCode::kUnset,
                                  .attributes = {}});
      }
    }
    if (resource.spans.empty()) return NoTracesFound();
    return Answer(200, "{\"result\":" + spans::ToOtlpJson({&resource, 1}) + "}");
  }
};

// The api_v3 search fixture, whose one span has no times (Jaeger's snapshot omits them), with
// times added so that the span is usable.
std::string V3FindTracesWithTimes() {
  std::string json = spans::ReadFixture("v3_FindTraces.json");
  const std::string anchor = "\"kind\": 2,";
  const size_t at = json.find(anchor);
  EXPECT_NE(at, std::string::npos);
  json.insert(at + anchor.size(),
              "\"startTimeUnixNano\":\"1787392700000000000\",\"endTimeUnixNano\":"
              "\"1787392700005000000\",");
  return json;
}

std::string V1Envelope(const std::string& traces) {
  return "{\"data\":[" + traces + "],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}";
}

class JaegerPollerTest : public ::testing::Test {
 protected:
  std::unique_ptr<JaegerPoller> MakePoller(JaegerPollerOptions options = {},
                                           ExporterLoop* loop = nullptr) {
    if (options.url.empty()) options.url = kBase;
    return std::make_unique<JaegerPoller>(options, jaeger_.Get(), loop ? *loop : loop_, metrics_);
  }

  // Returns once the state thread has applied, and released from the queue, everything
  // submitted so far: the second snapshot is served in a later round of the state thread than
  // the first, after the first round has released its batches.
  static void Drain(ExporterLoop& loop) {
    loop.Snapshot(false);
    loop.Snapshot(false);
    ASSERT_EQ(loop.QueuedSpans(), 0u);
  }

  double Failures(const std::string& reason) const {
    return CounterValue(registry_, kFailures, {{"source", "jaeger"}, {"reason", reason}});
  }

  // 2026-08-22T10:00:00Z
  const common::TimePoint now_{seconds{1'787'392'800}};
  common::FakeClock clock_{now_};  // the state thread's; never advanced
  prometheus::Registry registry_;
  SourceMetrics metrics_{registry_};
  ExporterLoop loop_{state::StateOptions{}, LoopOptions{}, clock_};
  FakeJaeger jaeger_;
};

TEST_F(JaegerPollerTest, ReadsServicesAndTracesFromApiV3Fixtures) {
  jaeger_.routes["/api/v3/services"] = Answer(200, spans::ReadFixture("v3_GetServices.json"));
  jaeger_.routes["/api/v3/traces"] = Answer(200, V3FindTracesWithTimes());
  auto poller = MakePoller();

  const JaegerPoller::PollResult r = poller->PollOnce(now_);

  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 1u);
  EXPECT_EQ(r.spans, 1u);
  EXPECT_EQ(poller->detected_api(), JaegerApi::kV3);
  ASSERT_EQ(jaeger_.urls.size(), 2u);
  EXPECT_EQ(jaeger_.urls[0], "http://jaeger:16686/api/v3/services");
  EXPECT_EQ(jaeger_.urls[1].rfind("http://jaeger:16686/api/v3/traces?query.service_name=foo&", 0),
            0u)
      << jaeger_.urls[1];
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 1);
  EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 1);
  EXPECT_EQ(CounterValue(registry_, kFailures, kJaeger), 0);
}

TEST_F(JaegerPollerTest, SpansWithoutTimesInTheV3FixtureAreDroppedNotFatal) {
  jaeger_.routes["/api/v3/services"] = Answer(200, spans::ReadFixture("v3_GetServices.json"));
  jaeger_.routes["/api/v3/traces"] = Answer(200, spans::ReadFixture("v3_FindTraces.json"));
  auto poller = MakePoller();

  const JaegerPoller::PollResult r = poller->PollOnce(now_);

  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 0u);
  EXPECT_EQ(MetricValue(registry_, kDropped, {{"source", "jaeger"}, {"reason", "invalid_span"}}),
            1);
  EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 1);
}

TEST_F(JaegerPollerTest, SpansStartedLongBeforeThePollAreDropped) {
  jaeger_.routes["/api/services"] = Answer(200, R"({"data":["service-x"]})");
  // Recorded in 2017, polled in 2026: older than --span.max-age.
  jaeger_.routes["/api/traces"] = Answer(200, V1Envelope(spans::ReadFixture("v1_ui_01.json")));
  auto poller = MakePoller({.api = JaegerApi::kV1});

  const JaegerPoller::PollResult r = poller->PollOnce(now_);

  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 0u);
  EXPECT_EQ(MetricValue(registry_, kDropped, {{"source", "jaeger"}, {"reason", "start_too_old"}}),
            5);
  EXPECT_EQ(CounterValue(registry_, kReceived, kJaeger), 0);
}

TEST_F(JaegerPollerTest, FallsBackToV1WhenV3AnswersNotFound) {
  jaeger_.routes["/api/v3/services"] = Answer(404, "404 page not found\n");
  jaeger_.routes["/api/services"] =
      Answer(200, R"({"data":["service-x","service-y"],"total":2,"limit":0,"offset":0,)"
                  R"("errors":null})");
  // One trace touching both services: each service's search returns it whole.
  jaeger_.routes["/api/traces"] = Answer(200, V1Envelope(spans::ReadFixture("v1_ui_01.json")));
  auto poller = MakePoller();
  // Polled as if just after the fixture was recorded (2017), so its spans are not too old.
  const common::TimePoint recorded{std::chrono::microseconds{1485467191639875} + seconds{10}};

  const JaegerPoller::PollResult first = poller->PollOnce(recorded);

  EXPECT_TRUE(first.ok) << first.error;
  EXPECT_EQ(poller->detected_api(), JaegerApi::kV1);
  EXPECT_EQ(first.traces, 1u);
  EXPECT_EQ(first.spans, 5u);
  ASSERT_EQ(jaeger_.urls.size(), 4u);
  EXPECT_EQ(jaeger_.urls[0], "http://jaeger:16686/api/v3/services");
  EXPECT_EQ(jaeger_.urls[1], "http://jaeger:16686/api/services");
  EXPECT_EQ(jaeger_.urls[2].rfind("http://jaeger:16686/api/traces?service=service-x&", 0), 0u);
  EXPECT_EQ(jaeger_.urls[3].rfind("http://jaeger:16686/api/traces?service=service-y&", 0), 0u);
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 5);

  // Once v1 is found, later polls go to it directly.
  jaeger_.urls.clear();
  const JaegerPoller::PollResult second = poller->PollOnce(recorded + seconds{15});
  EXPECT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.traces, 0u);  // the same trace again
  ASSERT_EQ(jaeger_.urls.size(), 3u);
  EXPECT_EQ(jaeger_.urls[0], "http://jaeger:16686/api/services");
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 5);
}

TEST_F(JaegerPollerTest, ExplicitApiVersionIsNotProbed) {
  jaeger_.routes["/api/services"] = Answer(200, R"({"data":null})");
  auto v1 = MakePoller({.api = JaegerApi::kV1});
  EXPECT_TRUE(v1->PollOnce(now_).ok);
  EXPECT_THAT(jaeger_.urls, ElementsAre("http://jaeger:16686/api/services"));

  // With v3 forced, a missing v3 API is a failure rather than a reason to try v1.
  jaeger_.urls.clear();
  jaeger_.routes["/api/v3/services"] = Answer(404, "404 page not found\n");
  auto v3 = MakePoller({.api = JaegerApi::kV3});
  EXPECT_FALSE(v3->PollOnce(now_).ok);
  EXPECT_THAT(jaeger_.urls, ElementsAre("http://jaeger:16686/api/v3/services"));
}

TEST_F(JaegerPollerTest, NotFoundOnV3TracesMeansNoTraces) {
  auto poller = MakePoller();  // the store is empty: every search answers 404

  const JaegerPoller::PollResult r = poller->PollOnce(now_);

  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 0u);
  EXPECT_EQ(r.next_poll, seconds{15});
  EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 1);
  EXPECT_EQ(CounterValue(registry_, kFailures, kJaeger), 0);
}

TEST_F(JaegerPollerTest, QueryParametersAreSnakeCaseWithRfc3339Times) {
  jaeger_.services = {"shop api/v2"};
  auto v3 = MakePoller({.url = "http://jaeger:16686/"});
  const common::TimePoint now = now_ + nanoseconds{123'456'789};
  ASSERT_TRUE(v3->PollOnce(now).ok);
  // [now - lookback (1m), now - settle (5s)], RFC 3339 with nanoseconds, ':' percent-encoded.
  // The limit goes by both names: older Jaeger reads only query.num_traces.
  EXPECT_THAT(jaeger_.urls,
              ElementsAre("http://jaeger:16686/api/v3/services",
                          "http://jaeger:16686/api/v3/traces?query.service_name=shop%20api%2Fv2"
                          "&query.start_time_min=2026-08-22T09%3A59%3A00.123456789Z"
                          "&query.start_time_max=2026-08-22T09%3A59%3A55.123456789Z"
                          "&query.num_traces=1000&query.search_depth=1000"));

  jaeger_.urls.clear();
  jaeger_.routes["/api/services"] = Answer(200, R"({"data":["shop api/v2"]})");
  jaeger_.routes["/api/traces"] = Answer(200, R"({"data":[]})");
  auto v1 = MakePoller({.api = JaegerApi::kV1, .search_limit = 20});
  ASSERT_TRUE(v1->PollOnce(now).ok);
  // v1 takes unix microseconds.
  EXPECT_THAT(jaeger_.urls, ElementsAre("http://jaeger:16686/api/services",
                                        "http://jaeger:16686/api/traces?service=shop%20api%2Fv2"
                                        "&start=1787392740123456&end=1787392795123456&limit=20"));
}

TEST_F(JaegerPollerTest, TraceInTwoConsecutivePollsIsCountedOnce) {
  jaeger_.traces = {{.id = 1, .start = now_ - seconds{30}, .indexed = true, .spans = 3}};
  auto poller = MakePoller();

  const JaegerPoller::PollResult first = poller->PollOnce(now_);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.traces, 1u);
  EXPECT_EQ(first.spans, 3u);

  // The next window reaches back over the overlap and finds the trace again.
  const JaegerPoller::PollResult second = poller->PollOnce(now_ + seconds{15});
  ASSERT_TRUE(second.ok) << second.error;
  ASSERT_EQ(jaeger_.urls.size(), 4u);
  EXPECT_THAT(jaeger_.urls[3],
              ::testing::HasSubstr("query.start_time_min=2026-08-22T09%3A59%3A25."));
  EXPECT_EQ(second.traces, 0u);
  EXPECT_EQ(second.spans, 0u);
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 3);
}

TEST_F(JaegerPollerTest, TraceIndexedLateWithinTheOverlapIsNotMissed) {
  jaeger_.traces = {
      {.id = 1, .start = now_ - seconds{30}},
      // Started inside the first window but not yet searchable when it was polled.
      {.id = 2, .start = now_ - seconds{20}, .indexed = false},
      // Started within the settle time: left for the next poll.
      {.id = 3, .start = now_ - seconds{2}},
  };
  auto poller = MakePoller();

  const JaegerPoller::PollResult first = poller->PollOnce(now_);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.traces, 1u);

  jaeger_.traces[1].indexed = true;
  const JaegerPoller::PollResult second = poller->PollOnce(now_ + seconds{15});
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.traces, 2u);  // traces 2 and 3; trace 1 was counted before
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 3);
}

TEST_F(JaegerPollerTest, SeenTraceSetIsBounded) {
  for (uint64_t id = 1; id <= 4; ++id) {
    jaeger_.traces.push_back({.id = id, .start = now_ - seconds{30} + seconds{id}});
  }
  auto poller = MakePoller({.seen_traces = 3});
  ASSERT_EQ(poller->PollOnce(now_).traces, 4u);

  // Only the three most recent ids are remembered: trace 1 was forgotten, trace 4 was not.
  jaeger_.traces[1].indexed = jaeger_.traces[2].indexed = false;
  const JaegerPoller::PollResult r = poller->PollOnce(now_ + seconds{15});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 1u);
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 5);
}

TEST_F(JaegerPollerTest, TracesRefusedByAFullQueueComeBackAndStayCountedOnce) {
  ExporterLoop small_loop(state::StateOptions{}, LoopOptions{.max_queued_spans = 2}, clock_);
  jaeger_.traces = {{.id = 1, .start = now_ - seconds{30}, .indexed = true, .spans = 3}};
  auto poller = MakePoller({.seen_traces = 3}, &small_loop);

  // Three spans do not fit a queue of two: the poll fails and trace 1 is forgotten again.
  const JaegerPoller::PollResult refused = poller->PollOnce(now_);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(MetricValue(registry_, kDropped, {{"source", "jaeger"}, {"reason", "queue_full"}}), 3);
  EXPECT_EQ(Failures("queue_full"), 1);

  jaeger_.traces[0].spans = 1;
  ASSERT_EQ(poller->PollOnce(now_ + seconds{15}).traces, 1u);
  Drain(small_loop);
  jaeger_.traces.push_back({.id = 2, .start = now_ - seconds{10}});
  jaeger_.traces.push_back({.id = 3, .start = now_});
  ASSERT_EQ(poller->PollOnce(now_ + seconds{30}).traces, 2u);
  Drain(small_loop);

  // Three traces, three places in the seen set: none may come back.
  const JaegerPoller::PollResult r = poller->PollOnce(now_ + seconds{45});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 0u);
  EXPECT_EQ(MetricValue(registry_, kReceived, kJaeger), 3);
}

TEST_F(JaegerPollerTest, FailuresMarkTheSourceDownBackOffAndRecover) {
  jaeger_.traces = {{.id = 1, .start = now_ - seconds{30}}};
  auto poller = MakePoller({.interval = seconds{15}, .max_backoff = minutes{1}});
  ASSERT_TRUE(poller->PollOnce(now_).ok);
  EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 1);

  jaeger_.outages = {
      TransportError("Failed to connect to jaeger port 16686: Connection refused"),
      TransportError("Operation timed out after 10000 milliseconds with 0 bytes received"),
      Answer(503, "upstream unavailable"),
      TransportError("Operation timed out after 10000 milliseconds with 0 bytes received"),
  };
  // Jaeger is down while trace 2 starts.
  jaeger_.traces.push_back({.id = 2, .start = now_ + seconds{20}});
  common::TimePoint t = now_;
  std::vector<common::Duration> waits;
  for (int i = 0; i < 4; ++i) {
    t += seconds{15};
    const JaegerPoller::PollResult r = poller->PollOnce(t);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 0);
    waits.push_back(r.next_poll);
  }
  EXPECT_THAT(waits, ElementsAre(seconds{30}, minutes{1}, minutes{1}, minutes{1}));
  EXPECT_EQ(Failures("fetch_error"), 4);
  EXPECT_EQ(CounterValue(registry_, kFailures, kJaeger), 4);

  // The window did not move while Jaeger was down, so trace 2 is found on recovery.
  const JaegerPoller::PollResult recovered = poller->PollOnce(t + minutes{1});
  ASSERT_TRUE(recovered.ok) << recovered.error;
  EXPECT_EQ(recovered.traces, 1u);
  EXPECT_EQ(recovered.next_poll, seconds{15});
  EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 1);
}

TEST_F(JaegerPollerTest, JaegerDownFromTheStartLosesNothingOnRecovery) {
  jaeger_.outages = {TransportError("Connection refused"), TransportError("Connection refused")};
  // Starts after the first attempt, long before Jaeger answers.
  jaeger_.traces = {{.id = 1, .start = now_ + seconds{30}}};
  auto poller = MakePoller();
  EXPECT_FALSE(poller->PollOnce(now_).ok);
  EXPECT_FALSE(poller->PollOnce(now_ + seconds{15}).ok);

  const JaegerPoller::PollResult r = poller->PollOnce(now_ + minutes{10});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 1u);
  EXPECT_THAT(jaeger_.urls.back(),
              ::testing::HasSubstr("query.start_time_min=2026-08-22T09%3A59%3A00.000000000Z"));
}

TEST_F(JaegerPollerTest, MalformedAnswersAreCountedFailures) {
  auto poller = MakePoller();
  common::TimePoint t = now_;
  // Each answer is a 200 that is no use: one failure each, counted as malformed, never a crash.
  const std::vector<std::pair<std::string, std::string>> answers = {
      {"/api/v3/services", ""},
      {"/api/v3/services", "<html><body>Sign in</body></html>"},
      {"/api/v3/services", R"({"services":42})"},
      {"/api/v3/services", R"(["shop"])"},
      {"/api/v3/traces", R"({"result":{"resourceSpans":[{"resource":{},"scopeSpans":[{"spa)"},
      {"/api/v3/traces", R"({"result":{"resourceSpans":{}}})"},
      {"/api/v3/traces", "\x1f\x8b\x08"},
  };
  for (const auto& [path, body] : answers) {
    SCOPED_TRACE(body);
    jaeger_.routes.clear();
    jaeger_.routes[path] = Answer(200, body);
    jaeger_.traces = {{.id = 1, .start = t - seconds{30}}};
    t += seconds{15};
    const JaegerPoller::PollResult r = poller->PollOnce(t);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.traces, 0u);
    EXPECT_EQ(MetricValue(registry_, kUp, kJaeger), 0);
  }
  EXPECT_EQ(Failures("malformed"), static_cast<double>(answers.size()));
  EXPECT_EQ(CounterValue(registry_, kFailures, kJaeger), static_cast<double>(answers.size()));
  EXPECT_EQ(CounterValue(registry_, kReceived, kJaeger), 0);

  // A usable answer again: the trace is read.
  jaeger_.routes.clear();
  const JaegerPoller::PollResult r = poller->PollOnce(t + seconds{15});
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.traces, 1u);
}

TEST_F(JaegerPollerTest, MalformedV1AnswersAreCountedFailures) {
  jaeger_.routes["/api/services"] = Answer(200, R"({"data":["shop"]})");
  jaeger_.routes["/api/traces"] = Answer(200, R"({"data":[{"traceID":"00000000000000)");
  auto poller = MakePoller({.api = JaegerApi::kV1});
  const JaegerPoller::PollResult r = poller->PollOnce(now_);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, ::testing::HasSubstr("shop"));
  EXPECT_EQ(Failures("malformed"), 1);
  EXPECT_EQ(CounterValue(registry_, kFailures, kJaeger), 1);
}

}  // namespace
}  // namespace exporter::sources
