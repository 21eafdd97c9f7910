#include "exporter/spans/otlp_json.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/exporter/spans/test_util.h"

namespace exporter::spans {
namespace {

// The api_v3 snapshots carry no times, which the span model requires.
TEST(ParseOtlpJson, ApiV3FixturesWithoutTimesAreRejected) {
  for (const char* name : {"v3_GetTrace.json", "v3_FindTraces.json"}) {
    SpanBatch batch;
    const ParseResult result = ParseOtlpJson(ReadFixture(name), batch);
    ASSERT_TRUE(result.ok()) << name << ": " << result.error;
    EXPECT_EQ(result.accepted_spans, 0u);
    EXPECT_EQ(result.rejected_spans, 1u);
    EXPECT_EQ(result.rejection, "missing startTimeUnixNano");
  }
}

TEST(ParseOtlpJson, ApiV3FixtureWithTimes) {
  std::string json = ReadFixture("v3_GetTrace.json");
  const std::string anchor = "\"kind\": 2,";
  const size_t at = json.find(anchor);
  ASSERT_NE(at, std::string::npos);
  json.insert(
      at + anchor.size(),
      "\"startTimeUnixNano\":\"1700000000000000001\",\"endTimeUnixNano\":1700000000000500001,");
  SpanBatch batch;
  const ParseResult result = ParseOtlpJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 1u);
  Span want;
  want.trace_id = TraceId{0, 1};
  want.span_id = 2;
  want.service = "unknown_service";  // the resource has no service.name
  want.operation = "foobar";
  want.kind = SpanKind::kServer;
  want.error = true;  // status code 2
  want.start_unix_nano = 1700000000000000001;
  want.end_unix_nano = 1700000000000500001;
  EXPECT_TRUE(SameSpan(batch.spans()[0], want)) << Describe(batch.spans()[0]);
}

// opentelemetry-proto's examples/trace.json, as quoted in contracts.md §3.4.
constexpr char kSpecExample[] = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"my.service"}}]},
  "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0"},
    "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
      "parentSpanId":"EEE19B7EC3C1B173","name":"I'm a server span",
      "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712661000000000,
      "kind":2,"attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}]}]}]}]})";

TEST(ParseOtlpJson, SpecificationExample) {
  SpanBatch batch;
  const ParseResult result = ParseOtlpJson(kSpecExample, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 1u);
  Span want;
  want.trace_id = TraceId{0x5b8efff798038103u, 0xd269b633813fc60cu};
  want.span_id = 0xeee19b7ec3c1b174u;
  want.parent_span_id = 0xeee19b7ec3c1b173u;
  want.service = "my.service";
  want.operation = "I'm a server span";
  want.kind = SpanKind::kServer;
  want.start_unix_nano = 1544712660000000000;
  want.end_unix_nano = 1544712661000000000;
  EXPECT_TRUE(SameSpan(batch.spans()[0], want)) << Describe(batch.spans()[0]);
}

TEST(ParseOtlpJson, EnumNamesBase64IdsAndResourceAfterSpans) {
  const char* json = R"({"result":{"resourceSpans":[{
    "scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=",
      "parentSpanId":"","name":"call","kind":"SPAN_KIND_CLIENT",
      "startTimeUnixNano":"20","endTimeUnixNano":"10","status":{"code":"STATUS_CODE_ERROR"},
      "futureField":{"x":[1,2,3]}}]}],
    "resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"cart"}},
      {"key":"service.instance.id","value":{"stringValue":"uuid-1"}},
      {"key":"host.name","value":{"stringValue":"node-a"}},
      {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},
      {"key":"replicas","value":{"intValue":"3"}},
      {"key":"nested","value":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}}]}
  }]}})";
  SpanBatch batch;
  const ParseResult result = ParseOtlpJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 1u);
  const Span& s = batch.spans()[0];
  EXPECT_EQ(s.trace_id, (TraceId{0x5b8efff798038103u, 0xd269b633813fc60cu}));
  EXPECT_EQ(s.span_id, 0xeee19b7ec3c1b174u);
  EXPECT_EQ(s.parent_span_id, 0u);
  EXPECT_EQ(s.kind, SpanKind::kClient);
  EXPECT_TRUE(s.error);
  EXPECT_EQ(s.service, "cart");
  EXPECT_EQ(s.instance, "node-a");  // host.name before service.instance.id
  EXPECT_EQ(s.k8s_namespace, "shop");
  EXPECT_EQ(s.start_unix_nano, 20);
  EXPECT_EQ(s.end_unix_nano, 10);  // end before start: passed on for the validation step to drop
}

TEST(ParseOtlpJson, RejectsUnusableSpansWithTheFirstReason) {
  const char* json = R"({"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[
    {"spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2"},
    {"traceId":"00000000000000000000000000000000","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"0000000000000000","startTimeUnixNano":"1","endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"01","startTimeUnixNano":true,"endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615"},
    {"traceId":"01","spanId":"01","startTimeUnixNano":"-5","endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"01","startTimeUnixNano":"1"},
    {"traceId":"01","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2","kind":{}},
    {"traceId":"01","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2","status":7},
    {"traceId":"zz","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"01","parentSpanId":5,"startTimeUnixNano":"1","endTimeUnixNano":"2"},
    {"traceId":"01","spanId":"02","startTimeUnixNano":"1","endTimeUnixNano":"2","kind":99}
  ]}]}]})";
  SpanBatch batch;
  const ParseResult result = ParseOtlpJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.accepted_spans, 1u);
  EXPECT_EQ(result.rejected_spans, 11u);
  EXPECT_EQ(result.rejection, "missing traceId");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].span_id, 2u);
  EXPECT_EQ(batch.spans()[0].kind, SpanKind::kUnspecified);  // unknown enum value
}

TEST(ParseOtlpJson, MalformedEnvelopesAreErrors) {
  for (const char* json : {
           R"({"resourceSpans":"x"})",
           R"({"resourceSpans":[5]})",
           R"({"resourceSpans":[{"scopeSpans":{}}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":5}]}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[5]}]}]})",
           R"({"resourceSpans":[{"resource":[],"scopeSpans":[]}]})",
           R"({"resourceSpans":[{"resource":{"attributes":[{"key":1}]}}]})",
           R"({"result":[]})",
           "[]",
       }) {
    SpanBatch batch;
    EXPECT_FALSE(ParseOtlpJson(json, batch).ok()) << json;
  }
}

TEST(ParseOtlpJson, EmptyRequestsAreNotErrors) {
  for (const char* json : {"{}", R"({"resourceSpans":[]})", R"({"resourceSpans":null})",
                           R"({"resourceSpans":[{"resource":{}}]})"}) {
    SpanBatch batch;
    const ParseResult result = ParseOtlpJson(json, batch);
    EXPECT_TRUE(result.ok()) << json << ": " << result.error;
    EXPECT_EQ(batch.size(), 0u);
  }
}

}  // namespace
}  // namespace exporter::spans
