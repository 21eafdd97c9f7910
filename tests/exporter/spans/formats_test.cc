#include "exporter/spans/formats.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/corpus.h"
#include "exporter/spans/jaeger_json.h"
#include "exporter/spans/otlp_json.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "tests/exporter/spans/test_util.h"

namespace exporter::spans {
namespace {

TEST(DetectJsonFormat, RecognisesEveryShape) {
  EXPECT_EQ(DetectJsonFormat(ReadFixture("v1_ui_01.json")), SpanFormat::kJaegerJson);
  EXPECT_EQ(DetectJsonFormat(ReadFixture("v1_trace_success.json")), SpanFormat::kJaegerJson);
  EXPECT_EQ(DetectJsonFormat(ReadFixture("v3_GetTrace.json")), SpanFormat::kOtlpJson);
  EXPECT_EQ(DetectJsonFormat(R"({"resourceSpans":[]})"), SpanFormat::kOtlpJson);
  EXPECT_EQ(DetectJsonFormat("\xEF\xBB\xBF  {\"data\":[]}"), SpanFormat::kJaegerJson);
  // Keys inside nested values do not count; unknown top-level keys are passed over.
  EXPECT_EQ(DetectJsonFormat(R"({"total":0,"meta":{"resourceSpans":1,"s":"\"data\":"},"data":[]})"),
            SpanFormat::kJaegerJson);
  EXPECT_EQ(DetectJsonFormat(R"({"x":[{"data":1}],"result":{}})"), SpanFormat::kOtlpJson);
}

TEST(DetectJsonFormat, UnknownShapes) {
  EXPECT_EQ(DetectJsonFormat(""), std::nullopt);
  EXPECT_EQ(DetectJsonFormat("  "), std::nullopt);
  EXPECT_EQ(DetectJsonFormat("\x0a\x05hello"), std::nullopt);  // protobuf
  EXPECT_EQ(DetectJsonFormat(ReadFixture("v3_GetServices.json")), std::nullopt);
  EXPECT_EQ(DetectJsonFormat(R"({"data")"), std::nullopt);
  EXPECT_EQ(DetectJsonFormat(R"({"unterminated)"), std::nullopt);
  EXPECT_EQ(DetectJsonFormat(R"({"a":1})"), std::nullopt);
}

TEST(SpanFormatNames, RoundTrip) {
  for (SpanFormat f : {SpanFormat::kJaegerJson, SpanFormat::kOtlpJson, SpanFormat::kOtlpProto}) {
    EXPECT_EQ(SpanFormatFromName(SpanFormatName(f)), f);
  }
  EXPECT_EQ(SpanFormatFromName("zipkin"), std::nullopt);
}

// The corpus through every writer and reader gives the spans the generator made.
class CorpusRoundTrip : public ::testing::TestWithParam<SpanFormat> {};

TEST_P(CorpusRoundTrip, ReaderReturnsTheGeneratedSpans) {
  const bench::Corpus corpus = bench::GenerateCorpus({.traces = 300, .seed = 11});
  std::vector<Span> want = bench::ExpectedSpans(corpus);
  const std::string payload = bench::Serialize(corpus, GetParam());
  SpanBatch batch;
  const ParseResult result = ParseSpans(GetParam(), payload, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.rejected_spans, 0u) << result.rejection;
  ASSERT_EQ(batch.size(), want.size());
  std::vector<Span> got = batch.spans();
  SortSpans(got);
  SortSpans(want);
  size_t mismatches = 0;
  for (size_t i = 0; i < want.size() && mismatches < 5; ++i) {
    if (!SameSpan(got[i], want[i])) {
      ++mismatches;
      ADD_FAILURE() << "got " << Describe(got[i]) << "\nwant " << Describe(want[i]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, CorpusRoundTrip,
                         ::testing::Values(SpanFormat::kJaegerJson, SpanFormat::kOtlpJson,
                                           SpanFormat::kOtlpProto),
                         [](const auto& info) {
                           std::string name(SpanFormatName(info.param));
                           std::erase(name, '-');
                           return name;
                         });

TEST(OtlpWriters, JsonAndProtobufAgree) {
  const bench::Corpus corpus = bench::GenerateCorpus({.traces = 100, .seed = 5});
  const auto resources = bench::ToOtlpResources(corpus);
  SpanBatch from_json, from_proto;
  ASSERT_TRUE(ParseSpans(SpanFormat::kOtlpJson, ToOtlpJson(resources), from_json).ok());
  ASSERT_TRUE(ParseSpans(SpanFormat::kOtlpProto, ToOtlpProto(resources), from_proto).ok());
  ASSERT_EQ(from_json.size(), from_proto.size());
  for (size_t i = 0; i < from_json.size(); ++i) {
    ASSERT_TRUE(SameSpan(from_json.spans()[i], from_proto.spans()[i]))
        << Describe(from_json.spans()[i]) << "\n"
        << Describe(from_proto.spans()[i]);
  }
}

TEST(PaddedJson, ParsesInPlaceWithTheSameSpans) {
  const bench::Corpus corpus = bench::GenerateCorpus({.traces = 50, .seed = 8});
  for (SpanFormat format : {SpanFormat::kJaegerJson, SpanFormat::kOtlpJson}) {
    std::string json = bench::Serialize(corpus, format);
    json.shrink_to_fit();
    EXPECT_EQ(AsPaddedJson(json), std::nullopt);
    json.reserve(json.size() + kJsonPadding);
    const auto padded = AsPaddedJson(json);
    ASSERT_TRUE(padded);
    SpanBatch copied, in_place;
    ASSERT_TRUE(ParseSpans(format, json, copied).ok());
    const ParseResult result = format == SpanFormat::kJaegerJson
                                   ? ParseJaegerJson(*padded, in_place)
                                   : ParseOtlpJson(*padded, in_place);
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(in_place.size(), copied.size());
    for (size_t i = 0; i < copied.size(); ++i) {
      ASSERT_TRUE(SameSpan(in_place.spans()[i], copied.spans()[i])) << i;
    }
  }
  std::string truncated = "{\"data\":[";
  truncated.reserve(truncated.size() + kJsonPadding);
  SpanBatch batch;
  EXPECT_FALSE(ParseJaegerJson(*AsPaddedJson(truncated), batch).ok());
}

TEST(SpanBatch, ArenaBytesCountsOversizedBlocks) {
  SpanBatch batch;
  EXPECT_EQ(batch.ArenaBytes(), 0u);
  batch.Store("small");
  const size_t one_block = batch.ArenaBytes();
  EXPECT_GT(one_block, 0u);
  batch.Store(std::string(3 * one_block, 'x'));
  EXPECT_EQ(batch.ArenaBytes(), 4 * one_block);
}

TEST(AppendJsonString, EscapesWhatJsonRequires) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\t\x01\x1f/\xc3\xa9", 12));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\xc3\xa9\"");
}

}  // namespace
}  // namespace exporter::spans
