#include "exporter/spans/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "exporter/spans/jaeger_json.h"
#include "exporter/spans/otlp_json.h"
#include "exporter/spans/otlp_proto.h"
#include "exporter/spans/otlp_proto_writer.h"

namespace exporter::spans {
namespace {

constexpr double k2p56 = 72057594037927936.0;

TEST(ParseThresholdTest, ZeroIsEverything) {
  const Sampling s = ParseThreshold("0");
  EXPECT_EQ(s.method, SamplingMethod::kOtelThreshold);
  EXPECT_EQ(s.adjusted_count, 1.0);
}

TEST(ParseThresholdTest, OneDigitIsRightPadded) {
  EXPECT_EQ(ParseThreshold("8").adjusted_count, 2.0);   // 50 %
  EXPECT_EQ(ParseThreshold("c").adjusted_count, 4.0);   // 25 %
  EXPECT_EQ(ParseThreshold("e").adjusted_count, 8.0);   // 12.5 %
  EXPECT_EQ(ParseThreshold("C").adjusted_count, 4.0);   // case does not matter
  EXPECT_EQ(ParseThreshold("c0").adjusted_count, 4.0);  // trailing zeros are implied
}

TEST(ParseThresholdTest, FourteenDigits) {
  // The largest threshold: p = 2^-56.
  EXPECT_EQ(ParseThreshold("ffffffffffffff").adjusted_count, k2p56);
  // 10 % as SDKs write it: T = round((1 - 0.1) * 2^56), trailing zeros trimmed.
  const Sampling s = ParseThreshold("e666666666666");
  ASSERT_TRUE(s.known());
  EXPECT_NEAR(s.adjusted_count, 10.0, 1e-9);
}

TEST(ParseThresholdTest, MalformedIsUnknown) {
  for (const char* bad : {"", "fffffffffffffff" /* 15 digits */, "g", "c;", " c", "0x8", "-1"}) {
    const Sampling s = ParseThreshold(bad);
    EXPECT_EQ(s.method, SamplingMethod::kUnknown) << bad;
    EXPECT_FALSE(s.known()) << bad;
  }
}

TEST(ParsePValueTest, Range) {
  EXPECT_EQ(ParsePValue("0").adjusted_count, 1.0);
  EXPECT_EQ(ParsePValue("3").adjusted_count, 8.0);
  EXPECT_EQ(ParsePValue("62").adjusted_count, std::ldexp(1.0, 62));
  EXPECT_EQ(ParsePValue("62").method, SamplingMethod::kOtelPValue);
  for (const char* bad : {"63", "64", "-1", "", "1x", "+1", " 2"}) {
    EXPECT_EQ(ParsePValue(bad).method, SamplingMethod::kUnknown) << bad;
  }
}

TEST(ParseTraceStateTest, ThresholdAmongOtherSubKeysAndMembers) {
  EXPECT_EQ(ParseTraceState("ot=th:c").adjusted_count, 4.0);
  EXPECT_EQ(ParseTraceState("ot=rv:1234567890abcd;th:8").adjusted_count, 2.0);
  EXPECT_EQ(ParseTraceState("ot=th:8;rv:1234567890abcd").adjusted_count, 2.0);
  EXPECT_EQ(ParseTraceState("vendor=x,ot=th:c,other=y").adjusted_count, 4.0);
  EXPECT_EQ(ParseTraceState("ot=th:c,vendor=x").method, SamplingMethod::kOtelThreshold);
}

TEST(ParseTraceStateTest, OptionalWhitespaceAroundMembers) {
  EXPECT_EQ(ParseTraceState("vendor=x , \tot=th:c\t ,a=b").adjusted_count, 4.0);
  EXPECT_EQ(ParseTraceState(" ot=th:e ").adjusted_count, 8.0);
  EXPECT_EQ(ParseTraceState(",,ot=th:8,").adjusted_count, 2.0);  // empty members are allowed
}

TEST(ParseTraceStateTest, FirstOtMemberCounts) {
  EXPECT_EQ(ParseTraceState("ot=th:c,ot=th:8").adjusted_count, 4.0);
  EXPECT_EQ(ParseTraceState("ot=rv:abc,ot=th:8").method, SamplingMethod::kNone);
}

TEST(ParseTraceStateTest, PValueAndPrecedence) {
  EXPECT_EQ(ParseTraceState("ot=p:2").adjusted_count, 4.0);
  EXPECT_EQ(ParseTraceState("ot=p:2").method, SamplingMethod::kOtelPValue);
  EXPECT_EQ(ParseTraceState("ot=p:2;th:8").adjusted_count, 2.0);  // th wins
  EXPECT_EQ(ParseTraceState("ot=p:63").method, SamplingMethod::kUnknown);
}

TEST(ParseTraceStateTest, NothingOrMalformed) {
  EXPECT_EQ(ParseTraceState("").method, SamplingMethod::kNone);
  EXPECT_EQ(ParseTraceState("vendor=th:c").method, SamplingMethod::kNone);
  EXPECT_EQ(ParseTraceState("xot=th:c").method, SamplingMethod::kNone);
  EXPECT_EQ(ParseTraceState("ot=rv:1234567890abcd").method, SamplingMethod::kNone);
  EXPECT_EQ(ParseTraceState("ot=th:").method, SamplingMethod::kUnknown);
  EXPECT_EQ(ParseTraceState("ot=th:xyz").method, SamplingMethod::kUnknown);
  EXPECT_EQ(ParseTraceState("ot=th:fffffffffffffff").method, SamplingMethod::kUnknown);
}

TEST(ParseJaegerSamplerTest, Types) {
  EXPECT_EQ(ParseJaegerSampler("probabilistic", 0.1).adjusted_count, 1 / 0.1);
  EXPECT_EQ(ParseJaegerSampler("probabilistic", 1).adjusted_count, 1.0);
  EXPECT_EQ(ParseJaegerSampler("const", 1).adjusted_count, 1.0);
  EXPECT_EQ(ParseJaegerSampler("", 0).method, SamplingMethod::kNone);
  for (const auto& [type, param] : {std::pair{"ratelimiting", 2.0},
                                    {"lowerbound", 0.1},
                                    {"probabilistic", 0.0},
                                    {"probabilistic", 1.5},
                                    {"probabilistic", std::nan("")}}) {
    EXPECT_EQ(ParseJaegerSampler(type, param).method, SamplingMethod::kUnknown) << type << param;
  }
}

// The sources read the declared sampling into each span.
std::vector<OtlpResourceSpans> TwoSpans() {
  OtlpResourceSpans r{.resource = {{"service.name", std::string("svc")}}, .scope_name = "t"};
  r.spans.push_back({.trace_id = {1, 2},
                     .span_id = 3,
                     .trace_state = "ot=th:c,vendor=x",
                     .name = "root",
                     .start_unix_nano = 1,
                     .end_unix_nano = 2});
  r.spans.push_back({.trace_id = {1, 2},
                     .span_id = 4,
                     .parent_span_id = 3,
                     .name = "child",
                     .start_unix_nano = 1,
                     .end_unix_nano = 2});
  return {r};
}

void ExpectRootSampledAtAQuarter(const SpanBatch& batch) {
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.spans()[0].sampling_method, SamplingMethod::kOtelThreshold);
  EXPECT_EQ(batch.spans()[0].adjusted_count, 4.0);
  EXPECT_EQ(batch.spans()[1].sampling_method, SamplingMethod::kNone);
  EXPECT_EQ(batch.spans()[1].adjusted_count, 0.0);
}

TEST(SpanSamplingTest, OtlpProtoTraceState) {
  SpanBatch batch;
  ASSERT_TRUE(ParseOtlpProto(ToOtlpProto(TwoSpans()), batch).ok());
  ExpectRootSampledAtAQuarter(batch);
}

TEST(SpanSamplingTest, OtlpJsonTraceState) {
  SpanBatch batch;
  const std::string json = ToOtlpJson(TwoSpans());
  ASSERT_NE(json.find("\"traceState\":\"ot=th:c,vendor=x\""), std::string::npos) << json;
  ASSERT_TRUE(ParseOtlpJson(json, batch).ok());
  ExpectRootSampledAtAQuarter(batch);
}

TEST(SpanSamplingTest, JaegerRootSamplerTags) {
  const std::string json = R"({"data":[{"traceID":"1","spans":[
    {"traceID":"1","spanID":"a","operationName":"root","startTime":1,"duration":1,"processID":"p1",
     "tags":[{"key":"sampler.type","type":"string","value":"probabilistic"},
             {"key":"sampler.param","type":"float64","value":0.05}]},
    {"traceID":"1","spanID":"b","operationName":"rl","startTime":1,"duration":1,"processID":"p1",
     "tags":[{"key":"sampler.type","type":"string","value":"ratelimiting"},
             {"key":"sampler.param","type":"float64","value":2}]},
    {"traceID":"1","spanID":"c","operationName":"str","startTime":1,"duration":1,"processID":"p1",
     "tags":[{"key":"sampler.type","type":"string","value":"probabilistic"},
             {"key":"sampler.param","type":"string","value":"0.25"}]},
    {"traceID":"1","spanID":"d","operationName":"child","startTime":1,"duration":1,
     "processID":"p1","references":[{"refType":"CHILD_OF","traceID":"1","spanID":"a"}]}],
    "processes":{"p1":{"serviceName":"svc"}}}]})";
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch.spans()[0].sampling_method, SamplingMethod::kJaeger);
  EXPECT_EQ(batch.spans()[0].adjusted_count, 1 / 0.05);
  EXPECT_EQ(batch.spans()[1].sampling_method, SamplingMethod::kUnknown);
  EXPECT_EQ(batch.spans()[2].adjusted_count, 4.0);
  EXPECT_EQ(batch.spans()[3].sampling_method, SamplingMethod::kNone);
}

}  // namespace
}  // namespace exporter::spans
