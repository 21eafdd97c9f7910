#include "exporter/sources/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "tests/exporter/sources/test_util.h"
#include "tests/exporter/spans/test_util.h"
#include "tests/support/fake_clock.h"

namespace exporter::sources {
namespace {

using ::testing::HasSubstr;

constexpr size_t kNoLimit = size_t{1} << 30;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::filesystem::path kThreeTraces =
    std::filesystem::path(QL_SOURCE_DIR) / "tests/fixtures/replay/jaeger_v1_three_traces.json";

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Private to this process: the same test may run from another build directory at once.
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("replay_test_" + std::to_string(getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // Requests the state counted for `service`, after everything replayed so far.
  uint64_t Requests(std::string_view service) {
    const auto snapshot = loop_.Snapshot(false);
    uint64_t n = 0;
    for (const auto& s : snapshot->services) {
      if (s.service == service) n += s.requests;
    }
    return n;
  }

  double Failures(const std::string& reason) const {
    return CounterValue(registry_, "queuelens_source_failures_total",
                        {{"source", "replay"}, {"reason", reason}});
  }
  double Received() const {
    return CounterValue(registry_, "queuelens_spans_received_total", {{"source", "replay"}});
  }

  std::filesystem::path dir_;
  common::FakeClock clock_;  // never advanced: replayed traces finish by the flush
  prometheus::Registry registry_;
  SourceMetrics metrics_{registry_};
  ExporterLoop loop_{state::StateOptions{}, LoopOptions{}, clock_};
};

TEST_F(ReplayTest, JaegerQueryEnvelope) {
  const ReplayResult r = ReplayFile(kThreeTraces.string(), kNoLimit, loop_, metrics_);

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.spans, 12u);
  EXPECT_EQ(r.rejected_spans, 0u);
  EXPECT_EQ(Received(), 12);
  // Whole traces, finished at the end of the file: every request is counted at once.
  EXPECT_EQ(Requests("gateway"), 3u);
  EXPECT_EQ(Requests("cart"), 3u);
}

// Sources count spans in Submit's `accepted`, which runs before the state thread can apply the
// batch: a snapshot asked for meanwhile waits for it, so a scrape (state first, then the
// registry) never shows requests of spans not yet counted as received.
TEST_F(ReplayTest, ASnapshotWaitsForTheAcceptedCallbackOfItsBatch) {
  const std::string data = ReadFile(kThreeTraces);
  spans::SpanBatch batch = loop_.TakeBatch();
  ASSERT_TRUE(spans::ParseSpans(*spans::DetectJsonFormat(data), data, batch).ok());
  std::promise<void> entered, release;
  std::atomic<bool> counted{false};
  std::thread submit([&] {
    EXPECT_TRUE(loop_.Submit(std::move(batch), /*flush=*/true, [&] {
      entered.set_value();
      release.get_future().wait();
      counted = true;
    }));
  });
  entered.get_future().wait();
  uint64_t cart = 0;
  bool counted_at_snapshot = false;
  std::promise<void> scraped;
  std::thread scrape([&] {
    cart = Requests("cart");
    counted_at_snapshot = counted;
    scraped.set_value();
  });
  // The snapshot must not come back while the callback runs; give it the chance to.
  EXPECT_EQ(scraped.get_future().wait_for(std::chrono::milliseconds{100}),
            std::future_status::timeout);
  release.set_value();
  submit.join();
  scrape.join();
  EXPECT_EQ(cart, 3u);
  EXPECT_TRUE(counted_at_snapshot);
}

TEST_F(ReplayTest, BareSpanArrayAndTraceObject) {
  const std::string fixtures = std::string(QL_SOURCE_DIR) + "/tests/fixtures/jaeger/";
  const ReplayResult array =
      ReplayFile(fixtures + "v1_trace_success.json", kNoLimit, loop_, metrics_);
  ASSERT_TRUE(array.ok) << array.error;
  EXPECT_EQ(array.spans, 2u);

  const ReplayResult trace = ReplayFile(fixtures + "v1_ui_01.json", kNoLimit, loop_, metrics_);
  ASSERT_TRUE(trace.ok) << trace.error;
  EXPECT_EQ(trace.spans, 5u);
  EXPECT_EQ(Received(), 7);
  EXPECT_EQ(Requests("16af988c443cff37"), 1u);
}

TEST_F(ReplayTest, ApiV3AndOtlpJson) {
  // Jaeger's api_v3 answer, with the times its snapshot leaves out.
  std::string v3 = spans::ReadFixture("v3_GetTrace.json");
  const size_t at = v3.find("\"kind\": 2,");
  ASSERT_NE(at, std::string::npos);
  v3.insert(
      at,
      "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000002000000\",");
  const ReplayResult api_v3 = ReplayFile(Write("v3.json", v3), kNoLimit, loop_, metrics_);
  ASSERT_TRUE(api_v3.ok) << api_v3.error;
  EXPECT_EQ(api_v3.spans, 1u);
  EXPECT_EQ(Requests("unknown_service"), 1u);

  const spans::OtlpResourceSpans resource{
      .resource = {{.key = "service.name", .value = std::string("billing")}},
      .scope_name = "test",
      .spans = {{.trace_id = {.hi = 1, .lo = 2},
                 .span_id = 3,
                 .parent_span_id = 0,
                 .name = "charge",
                 .kind = spans::SpanKind::kServer,
                 .start_unix_nano = 1'700'000'000'000'000'000,
                 .end_unix_nano = 1'700'000'000'001'000'000,
                 .status = spans::OtlpStatusCode::kUnset,
                 .attributes = {}}}};
  const ReplayResult otlp =
      ReplayFile(Write("otlp.json", spans::ToOtlpJson({&resource, 1})), kNoLimit, loop_, metrics_);
  ASSERT_TRUE(otlp.ok) << otlp.error;
  // The same request as protobuf, told apart by the file's suffix.
  const ReplayResult proto =
      ReplayFile(Write("otlp.pb", spans::ToOtlpProto({&resource, 1})), kNoLimit, loop_, metrics_);
  ASSERT_TRUE(proto.ok) << proto.error;
  EXPECT_EQ(Requests("billing"), 2u);
  EXPECT_EQ(Received(), 3);
}

TEST_F(ReplayTest, RecordingsAreOldButImplausibleSpansAreStillDropped) {
  spans::OtlpResourceSpans resource{
      .resource = {{.key = "service.name", .value = std::string("billing")}},
      .scope_name = "test",
      .spans = {}};
  const int64_t t = 1'000'000'000'000'000'000;  // 2001, years before the loop's clock
  for (uint64_t i = 1; i <= 3; ++i) {
    resource.spans.push_back({.trace_id = {.hi = 1, .lo = i},
                              .span_id = i,
                              .parent_span_id = 0,
                              .name = "charge",
                              .kind = spans::SpanKind::kServer,
                              .start_unix_nano = i == 2 ? 1 : t,
                              .end_unix_nano = i == 3 ? t - 1 : t + 1'000'000,
                              .status = spans::OtlpStatusCode::kUnset,
                              .attributes = {}});
  }
  const ReplayResult r =
      ReplayFile(Write("old.json", spans::ToOtlpJson({&resource, 1})), kNoLimit, loop_, metrics_);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.spans, 1u);
  EXPECT_EQ(r.rejected_spans, 2u);
  EXPECT_EQ(Requests("billing"), 1u);
  for (const char* reason : {"duration_too_long", "end_before_start"}) {
    EXPECT_EQ(CounterValue(registry_, "queuelens_spans_dropped_total",
                           {{"source", "replay"}, {"reason", reason}}),
              1)
        << reason;
  }
}

TEST_F(ReplayTest, MissingFileIsAReadError) {
  const std::string path = (dir_ / "absent.json").string();
  const ReplayResult r = ReplayFile(path, kNoLimit, loop_, metrics_);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr(path));
  EXPECT_THAT(r.error, HasSubstr("No such file"));
  EXPECT_EQ(Failures("read_error"), 1);

  const ReplayResult dir = ReplayFile(dir_.string(), kNoLimit, loop_, metrics_);
  EXPECT_FALSE(dir.ok);
  EXPECT_EQ(Failures("read_error"), 2);
}

TEST_F(ReplayTest, TruncatedFileSubmitsNothing) {
  const std::string full = ReadFile(kThreeTraces);
  for (const size_t keep : {full.size() / 2, full.size() - 3, size_t{0}}) {
    SCOPED_TRACE(keep);
    const ReplayResult r =
        ReplayFile(Write("cut.json", full.substr(0, keep)), kNoLimit, loop_, metrics_);
    EXPECT_FALSE(r.ok);
    EXPECT_THAT(r.error, HasSubstr("cut.json: "));
    EXPECT_EQ(r.spans, 0u);
  }
  EXPECT_EQ(Failures("malformed"), 3);
  EXPECT_EQ(Received(), 0);
  EXPECT_EQ(Requests("gateway"), 0u);
}

TEST_F(ReplayTest, FileOverMaxBytesIsRefused) {
  const size_t size = std::filesystem::file_size(kThreeTraces);

  const ReplayResult over = ReplayFile(kThreeTraces.string(), size - 1, loop_, metrics_);
  EXPECT_FALSE(over.ok);
  EXPECT_THAT(over.error, HasSubstr("--replay.max-bytes"));
  EXPECT_EQ(Failures("too_large"), 1);
  EXPECT_EQ(Received(), 0);

  const ReplayResult at_limit = ReplayFile(kThreeTraces.string(), size, loop_, metrics_);
  EXPECT_TRUE(at_limit.ok) << at_limit.error;
  EXPECT_EQ(Received(), 12);
}

}  // namespace
}  // namespace exporter::sources
