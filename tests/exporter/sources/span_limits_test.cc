// What one hostile span can do to the exporter, through the real path: OTLP/HTTP receiver, the
// validation step, the state thread and the /metrics text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/gzip.h"
#include "exporter/exposition/http_routes.h"
#include "exporter/exposition/state_collectable.h"
#include "exporter/sources/otlp_receiver.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "tests/exporter/sources/test_util.h"
#include "tests/support/fake_clock.h"

namespace exporter::sources {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kSecond = 1'000'000'000;
constexpr char kDropped[] = "queuelens_spans_dropped_total";
constexpr char kSanitized[] = "queuelens_span_labels_sanitized_total";

class SpanLimitsTest : public ::testing::Test {
 protected:
  static state::StateOptions Immediate() {
    state::StateOptions o;
    o.traces.wait = common::Duration::zero();
    return o;
  }

  // One resource with one root server span per (operation, start, end).
  struct SpanSpec {
    std::string operation;
    int64_t start, end;
  };
  static spans::OtlpResourceSpans Resource(std::string service, std::vector<SpanSpec> specs) {
    spans::OtlpResourceSpans r{.resource = {{.key = "service.name", .value = std::move(service)},
                                            {.key = "k8s.namespace.name", .value = "shop"}},
                               .scope_name = "test",
                               .spans = {}};
    uint64_t id = 0;
    for (SpanSpec& s : specs) {
      ++id;
      r.spans.push_back({.trace_id = {.hi = 9, .lo = id},
                         .span_id = id,
                         .parent_span_id = 0,
                         .name = std::move(s.operation),
                         .kind = spans::SpanKind::kServer,
                         .start_unix_nano = s.start,
                         .end_unix_nano = s.end,
                         .status = spans::OtlpStatusCode::kUnset,
                         .attributes = {}});
    }
    return r;
  }

  common::HttpResponse PostJson(const spans::OtlpResourceSpans& resource) {
    common::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/traces";
    r.headers.emplace_back("content-type", "application/json");
    r.headers.emplace_back("content-encoding", "gzip");
    r.body = common::Gzip(spans::ToOtlpJson({&resource, 1}));
    return receiver_.Handle(r);
  }

  std::string MetricsText() {
    const exposition::StateCollectable state([this] { return loop_.Snapshot(false); });
    std::string text;
    exposition::AppendMetricsText(registry_, state, text);
    return text;
  }

  const int64_t now_ = 1'787'392'800 * kSecond;
  common::FakeClock clock_{common::TimePoint{std::chrono::nanoseconds{now_}}};
  prometheus::Registry registry_;
  SourceMetrics metrics_{registry_};
  ExporterLoop loop_{Immediate(), LoopOptions{}, clock_};
  OtlpReceiver receiver_{loop_, metrics_, OtlpReceiverOptions{}};
};

TEST_F(SpanLimitsTest, AFiftyMegabyteServiceNameIsCutAndTheExpositionStaysSmall) {
  const std::string huge(50u << 20, 'x');
  const common::HttpResponse r =
      PostJson(Resource(huge, {{"GET /", now_ - kSecond, now_}, {"POST /", now_ - kSecond, now_}}));
  ASSERT_EQ(r.status, 200) << r.body;

  const std::string text = MetricsText();
  EXPECT_LT(text.size(), 64u << 10);
  const std::string cut(256, 'x');
  EXPECT_THAT(text, HasSubstr("service=\"" + cut + "\""));
  EXPECT_THAT(text, Not(HasSubstr(cut + "x")));
  EXPECT_EQ(MetricValue(registry_, kSanitized,
                        {{"source", "otlp"}, {"label", "service"}, {"reason", "truncated"}}),
            2);
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", {{"source", "otlp"}}), 2);
  const auto snap = loop_.Snapshot(false);
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0].requests, 2u);
  EXPECT_LT(snap->stats.interned_bytes, 1024u);
}

TEST_F(SpanLimitsTest, ControlCharactersNeverReachTheExposition) {
  using namespace std::string_literals;
  ASSERT_EQ(PostJson(Resource("pay\0ments"s, {{"GET\0/\x1b[2J"s, now_ - kSecond, now_}})).status,
            200);
  const std::string text = MetricsText();
  EXPECT_EQ(text.find('\0'), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("service=\"pay\xEF\xBF\xBDments\",operation=\"GET\xEF\xBF\xBD/"
                              "\xEF\xBF\xBD[2J\""));
  for (const char* label : {"service", "operation"}) {
    EXPECT_EQ(MetricValue(registry_, kSanitized,
                          {{"source", "otlp"}, {"label", label}, {"reason", "control_character"}}),
              1)
        << label;
  }
}

TEST_F(SpanLimitsTest, ImplausibleSpansAreDroppedBeforeTheyMoveAnyGauge) {
  const int64_t y1976 = 200'000'000 * kSecond;
  const common::HttpResponse r = PostJson(
      Resource("api", {{"ok", now_ - kSecond / 10, now_},
                       {"1976", y1976, now_},
                       {"forever", 1, std::numeric_limits<int64_t>::max()},
                       {"backwards", now_, now_ - kSecond},
                       {"stale", now_ - 3 * 3600 * kSecond, now_ - 3 * 3600 * kSecond + kSecond}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"rejectedSpans\":\"4\""));

  const auto snap = loop_.Snapshot(false);
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0].requests, 1u);
  EXPECT_LT(snap->services[0].inflight, 1.0);
  EXPECT_LT(snap->services[0].window_duration.p99, 1.0);
  ASSERT_EQ(snap->operations.size(), 1u);
  EXPECT_EQ(snap->operations[0].operation, "ok");
  const auto dropped = [&](const char* reason) {
    return CounterValue(registry_, kDropped, {{"source", "otlp"}, {"reason", reason}});
  };
  EXPECT_EQ(dropped("duration_too_long"), 2);
  EXPECT_EQ(dropped("end_before_start"), 1);
  EXPECT_EQ(dropped("start_too_old"), 1);
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", {{"source", "otlp"}}), 1);
}

TEST_F(SpanLimitsTest, TheLimitsComeFromTheLoopOptions) {
  LoopOptions options;
  options.span_limits = {
      .max_label_bytes = 8, .max_duration_nano = 2 * kSecond, .max_age_nano = 10 * kSecond};
  ExporterLoop loop(Immediate(), options, clock_);
  OtlpReceiver receiver(loop, metrics_, OtlpReceiverOptions{});
  const spans::OtlpResourceSpans resource =
      Resource("a-long-service", {{"three-seconds", now_ - 3 * kSecond, now_},
                                  {"one-second", now_ - kSecond, now_},
                                  {"eleven-s-ago", now_ - 11 * kSecond, now_ - 10 * kSecond}});
  common::HttpRequest request;
  request.method = "POST";
  request.headers.emplace_back("content-type", "application/json");
  request.body = spans::ToOtlpJson({&resource, 1});
  ASSERT_EQ(receiver.Handle(request).status, 200);
  const auto snap = loop.Snapshot(false);
  ASSERT_EQ(snap->operations.size(), 1u);
  EXPECT_EQ(snap->operations[0].service, "a-long-s");
  EXPECT_EQ(snap->operations[0].operation, "one-seco");
  EXPECT_EQ(CounterValue(registry_, kDropped, {{"source", "otlp"}, {"reason", "start_too_old"}}),
            1);
}

TEST_F(SpanLimitsTest, OnlyOrdinaryBatchesAreKeptForReuse) {
  LoopOptions options;
  options.max_spare_arena_bytes = 1 << 20;
  ExporterLoop loop(Immediate(), options, clock_);
  // Applied, and released from the queue, by the second snapshot's round at the latest.
  auto drain = [&loop] {
    loop.Snapshot(false);
    loop.Snapshot(false);
  };

  spans::SpanBatch small = loop.TakeBatch();
  small.Store("checkout");
  ASSERT_TRUE(loop.Submit(std::move(small)));
  drain();
  spans::SpanBatch reused = loop.TakeBatch();
  EXPECT_GT(reused.ArenaBytes(), 0u);  // the recycled batch, its block kept

  reused.Store(std::string(2 << 20, 'x'));  // one oversized block, as for a 2 MiB name
  ASSERT_TRUE(loop.Submit(std::move(reused)));
  drain();
  EXPECT_EQ(loop.TakeBatch().ArenaBytes(), 0u);  // a new batch: the large one was freed
}

}  // namespace
}  // namespace exporter::sources
