// Hostile and broken input for both JSON readers: each must return an error or a valid subset,
// never crash, and leave the batch as it was on error.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/corpus.h"
#include "exporter/spans/formats.h"
#include "tests/exporter/spans/test_util.h"

namespace exporter::spans {
namespace {

class JsonRobustness : public ::testing::TestWithParam<SpanFormat> {
 protected:
  static const bench::Corpus& Corpus() {
    static const bench::Corpus corpus = bench::GenerateCorpus({.traces = 20, .seed = 3});
    return corpus;
  }

  std::string Payload() const { return bench::Serialize(Corpus(), GetParam()); }

  // A batch holding spans from an earlier payload, to check that errors leave them alone.
  void Prefill(SpanBatch& batch) const {
    ASSERT_TRUE(ParseSpans(GetParam(), Payload(), batch).ok());
    ASSERT_GT(batch.size(), 0u);
  }

  void ExpectError(std::string_view payload, std::string_view what) const {
    SpanBatch batch;
    Prefill(batch);
    const BatchSnapshot before(batch);
    const ParseResult result = ParseSpans(GetParam(), payload, batch);
    EXPECT_FALSE(result.ok()) << what;
    EXPECT_EQ(result.accepted_spans, 0u) << what;
    EXPECT_TRUE(BatchSnapshot(batch) == before) << what << ": a failed parse changed the batch";
  }

  // The first span object of the payload, for building variants of one span.
  std::string WrapSpan(std::string_view field, std::string_view value) const {
    if (GetParam() == SpanFormat::kJaegerJson) {
      return R"({"data":[{"traceID":"1","spans":[{"traceID":"1","spanID":"2","startTime":1,"duration":1,"processID":"p1",")" +
             std::string(field) + "\":" + std::string(value) +
             R"(}],"processes":{"p1":{"serviceName":"s"}}}]})";
    }
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"2","startTimeUnixNano":"1","endTimeUnixNano":"2",")" +
           std::string(field) + "\":" + std::string(value) + "}]}]}]}";
  }
  std::string_view NameField() const {
    return GetParam() == SpanFormat::kJaegerJson ? "operationName" : "name";
  }
  std::string_view StartField() const {
    return GetParam() == SpanFormat::kJaegerJson ? "startTime" : "startTimeUnixNano";
  }
};

TEST_P(JsonRobustness, EmptyAndNotJson) {
  ExpectError("", "empty");
  ExpectError("   \n", "blank");
  ExpectError("not json", "text");
  ExpectError("{\"data\":[}", "bad syntax");
  ExpectError(std::string("{\"a\":1}\0", 8), "trailing NUL");
  ExpectError("{\"a\":1} {\"b\":2}", "two documents");
}

TEST_P(JsonRobustness, TruncatedPayloadsFailCleanly) {
  const std::string payload = Payload();
  for (size_t n = 0; n < payload.size(); n += (n < 400 ? 1 : 251)) {
    // An exact-size copy, so that the sanitizers see any read past the end.
    const std::vector<char> prefix(payload.begin(), payload.begin() + static_cast<ptrdiff_t>(n));
    ExpectError({prefix.data(), prefix.size()}, "prefix of " + std::to_string(n) + " bytes");
  }
}

TEST_P(JsonRobustness, WrongTypesRejectTheSpan) {
  for (const char* value : {"\"soon\"", "{}", "[]", "true", "null", "1.5", "-1"}) {
    SpanBatch batch;
    const ParseResult result = ParseSpans(GetParam(), WrapSpan(StartField(), value), batch);
    ASSERT_TRUE(result.ok()) << value << ": " << result.error;
    EXPECT_EQ(result.rejected_spans, 1u) << value;
    EXPECT_EQ(batch.size(), 0u) << value;
  }
  SpanBatch batch;
  const ParseResult result = ParseSpans(GetParam(), WrapSpan(NameField(), "42"), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.rejected_spans, 1u);
  EXPECT_NE(result.rejection.find("not a string"), std::string::npos) << result.rejection;
}

TEST_P(JsonRobustness, HugeNumbers) {
  for (const char* value : {"99999999999999999999999999", "1e400", "-99999999999999999999999",
                            "18446744073709551616", "\"99999999999999999999999\""}) {
    SpanBatch batch;
    const ParseResult result = ParseSpans(GetParam(), WrapSpan(StartField(), value), batch);
    // simdjson refuses some of these as documents; the rest must reject the span.
    if (result.ok()) {
      EXPECT_EQ(result.rejected_spans, 1u) << value;
    }
    EXPECT_EQ(batch.size(), 0u) << value;
  }
}

TEST_P(JsonRobustness, DeepNestingIsRefused) {
  const size_t levels = 100000;
  const std::string deep = std::string(levels, '[') + std::string(levels, ']');
  ExpectError(deep, "bare nesting");
  ExpectError(WrapSpan("extra", deep), "nesting inside a span");
}

TEST_P(JsonRobustness, InvalidUtf8IsAnError) {
  ExpectError(WrapSpan(NameField(), "\"caf\xc3\""), "truncated sequence");
  ExpectError(WrapSpan(NameField(), "\"\xff\xfe\""), "invalid bytes");
  ExpectError(WrapSpan("extra", "\"\xed\xa0\x80\""), "surrogate");
}

TEST_P(JsonRobustness, OversizedStringsAreKeptWhole) {
  const std::string name(4 << 20, 'n');
  SpanBatch batch;
  Prefill(batch);
  const size_t before = batch.size();
  const ParseResult result =
      ParseSpans(GetParam(), WrapSpan(NameField(), "\"" + name + "\""), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), before + 1);
  EXPECT_EQ(batch.spans().back().operation, name);
  // A batch parsed before the big string is still intact.
  EXPECT_EQ(batch.spans().front().service, "frontend");
}

TEST_P(JsonRobustness, ReusedBatchAndParserDoNotGrow) {
  const std::string payload = Payload();
  SpanBatch batch;
  ASSERT_TRUE(ParseSpans(GetParam(), payload, batch).ok());
  const size_t arena = batch.ArenaBytes();
  const size_t capacity = batch.spans().capacity();
  for (int i = 0; i < 5; ++i) {
    batch.Clear();
    ASSERT_TRUE(ParseSpans(GetParam(), payload, batch).ok());
  }
  EXPECT_EQ(batch.ArenaBytes(), arena);
  EXPECT_EQ(batch.spans().capacity(), capacity);
}

INSTANTIATE_TEST_SUITE_P(Readers, JsonRobustness,
                         ::testing::Values(SpanFormat::kJaegerJson, SpanFormat::kOtlpJson),
                         [](const auto& info) {
                           return info.param == SpanFormat::kJaegerJson ? "Jaeger" : "OtlpJson";
                         });

}  // namespace
}  // namespace exporter::spans
