#include "exporter/spans/jaeger_json.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/exporter/spans/test_util.h"

namespace exporter::spans {
namespace {

constexpr int64_t kUiStart = 1485467191639875000;

Span Expect(uint64_t span_id, uint64_t parent, std::string_view service, std::string_view op,
            int64_t start, int64_t duration_us) {
  Span s;
  s.trace_id = TraceId{0, 1};
  s.span_id = span_id;
  s.parent_span_id = parent;
  s.service = service;
  s.operation = op;
  s.start_unix_nano = start;
  s.end_unix_nano = start + duration_us * 1000;
  return s;
}

void ExpectUiFixtureSpans(const SpanBatch& batch) {
  ASSERT_EQ(batch.size(), 5u);
  Span first = Expect(2, 0, "service-x", "test-general-conversion", kUiStart, 5);
  Span second = Expect(2, 0, "service-x", "some-operation", kUiStart, 5);
  second.error = true;  // tag error, type bool, value true
  // The CHILD_OF to trace 0xff is a link; the first CHILD_OF within the trace is the parent.
  const Span expected[] = {
      first,
      second,
      Expect(3, 2, "service-y", "some-operation", kUiStart, 5),
      Expect(4, 2, "service-y", "reference-test", kUiStart, 5),
      Expect(5, 4, "service-y", "preserveParentID-test", kUiStart, 4),
  };
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(SameSpan(batch.spans()[i], expected[i]))
        << "span " << i << ": got " << Describe(batch.spans()[i]) << "\nwant "
        << Describe(expected[i]);
  }
}

TEST(ParseJaegerJson, UiTraceObjectFixture) {
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(ReadFixture("v1_ui_01.json"), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.accepted_spans, 5u);
  EXPECT_EQ(result.rejected_spans, 0u);
  ExpectUiFixtureSpans(batch);
}

TEST(ParseJaegerJson, QueryApiEnvelope) {
  const std::string json = "{\"data\":[" + ReadFixture("v1_ui_01.json") +
                           "],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}";
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ExpectUiFixtureSpans(batch);
}

TEST(ParseJaegerJson, ArrayOfSpansWithInlineProcessFixture) {
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(ReadFixture("v1_trace_success.json"), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 2u);
  Span server;
  server.trace_id = TraceId{0, 0x2be38093ead7a083u};
  server.span_id = 0x7606ddfe69932d34u;
  server.parent_span_id = 0x492770a15935810fu;
  server.service = "16af988c443cff37";
  server.operation = "a071653098f9250d";
  server.kind = SpanKind::kServer;
  server.start_unix_nano = 1605223981761425000;
  server.end_unix_nano = (1605223981761425 + 267037) * 1000;
  Span client;
  client.trace_id = server.trace_id;
  client.span_id = 0x7bd66f09ba90ea3du;
  client.parent_span_id = 0x7606ddfe69932d34u;
  client.service = "3c220036602f839e";
  client.operation = "471418097747d04a";
  client.kind = SpanKind::kClient;
  client.error = true;  // type bool with the value as the string "true"
  client.start_unix_nano = 1605223981965074000;
  client.end_unix_nano = (1605223981965074 + 32782) * 1000;
  EXPECT_TRUE(SameSpan(batch.spans()[0], server)) << Describe(batch.spans()[0]);
  EXPECT_TRUE(SameSpan(batch.spans()[1], client)) << Describe(batch.spans()[1]);
}

TEST(ParseJaegerJson, ProcessTagsGiveInstanceAndNamespace) {
  const std::string json = R"({"traceID":"1","spans":[
    {"traceID":"1","spanID":"a","operationName":"op","startTime":10,"duration":"7",
     "processID":"p1","tags":[{"key":"span.kind","type":"string","value":"producer"}]},
    {"traceID":"1","spanID":"b","operationName":"op","startTime":10,"duration":7,
     "processID":"p2","parentSpanID":"a"},
    {"traceID":"1","spanID":"c","operationName":"op","startTime":10,"duration":-3,
     "processID":"p3","references":[{"refType":"FOLLOWS_FROM","traceID":"1","spanID":"b"}]}],
   "processes":{
    "p1":{"serviceName":"svc","tags":[{"key":"hostname","type":"string","value":"host-1"},
      {"key":"service.instance.id","type":"string","value":"inst"},
      {"key":"k8s.namespace.name","type":"string","value":"hotel"}]},
    "p2":{"serviceName":"svc","tags":[{"key":"host.name","type":"string","value":"h2"},
      {"key":"k8s.pod.name","type":"string","value":"pod-2"},
      {"key":"hostname","type":"string","value":"host-2"}]},
    "p3":{"serviceName":"svc","tags":[{"key":"service.instance.id","type":"string","value":"i3"},
      {"key":"ip","type":"int64","value":"9223372036854775222"}]}}})";
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 3u);
  const auto& spans = batch.spans();
  EXPECT_EQ(spans[0].instance, "host-1");
  EXPECT_EQ(spans[0].k8s_namespace, "hotel");
  EXPECT_EQ(spans[0].kind, SpanKind::kProducer);
  EXPECT_EQ(spans[0].end_unix_nano - spans[0].start_unix_nano, 7000);  // duration as a string
  EXPECT_EQ(spans[1].instance, "pod-2");
  EXPECT_EQ(spans[1].k8s_namespace, "");
  EXPECT_EQ(spans[1].parent_span_id, 0xau);  // deprecated parentSpanID
  EXPECT_EQ(spans[2].instance, "i3");
  EXPECT_EQ(spans[2].parent_span_id, 0xbu);  // FOLLOWS_FROM when there is no CHILD_OF
  // A negative duration is passed on for the validation step to drop.
  EXPECT_LT(spans[2].end_unix_nano, spans[2].start_unix_nano);
}

TEST(ParseJaegerJson, RejectsUnusableSpansOneByOne) {
  const std::string json = R"({"traceID":"1","spans":[
    {"spanID":"a","startTime":10,"duration":1,"processID":"p1"},
    {"traceID":"0","spanID":"a","startTime":10,"duration":1,"processID":"p1"},
    {"traceID":"1","spanID":"0","startTime":10,"duration":1,"processID":"p1"},
    {"traceID":"1","spanID":"a","duration":1,"processID":"p1"},
    {"traceID":"1","spanID":"a","startTime":10,"duration":1,"processID":"nope"},
    {"traceID":"1","spanID":"a","startTime":10,"duration":1,"processID":"p2"},
    {"traceID":"1","spanID":"a","startTime":10,"duration":1},
    {"traceID":"1","spanID":"a","startTime":"soon","duration":1,"processID":"p1"},
    {"traceID":7,"spanID":"a","startTime":10,"duration":1,"processID":"p1"},
    {"traceID":"1","spanID":"a","startTime":10,"duration":1,"processID":"p1",
     "references":[{"refType":"CHILD_OF","traceID":"1","spanID":"zz"}]},
    {"traceID":"1","spanID":"b","startTime":10,"duration":1,"processID":"p1"}],
   "processes":{"p1":{"serviceName":"svc","tags":[]},"p2":{"serviceName":"","tags":[]}}})";
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(json, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.accepted_spans, 1u);
  EXPECT_EQ(result.rejected_spans, 10u);
  EXPECT_EQ(result.rejection, "missing traceID");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].span_id, 0xbu);
}

TEST(ParseJaegerJson, FirstRejectionReasonNamesTheField) {
  const auto reason = [](std::string_view span) {
    SpanBatch batch;
    const ParseResult result = ParseJaegerJson("[" + std::string(span) + "]", batch);
    EXPECT_TRUE(result.ok()) << result.error;
    return result.rejection;
  };
  constexpr std::string_view kTail = R"("process":{"serviceName":"s"}})";
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":"soon","duration":1,)" +
                   std::string(kTail)),
            "startTime is not an integer");
  EXPECT_EQ(
      reason(R"({"traceID":"1","spanID":"a","startTime":1.5,"duration":1,)" + std::string(kTail)),
      "startTime is not an integer");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":18446744073709551615,"duration":1,)" +
                   std::string(kTail)),
            "startTime out of range");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":9223372036854776,"duration":1,)" +
                   std::string(kTail)),
            "startTime out of range");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":10,"duration":9223372036854775807,)" +
                   std::string(kTail)),
            "duration out of range");
  EXPECT_EQ(
      reason(R"({"traceID":1,"spanID":"a","startTime":10,"duration":1,)" + std::string(kTail)),
      "traceID is not a string");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":10,"duration":1,"tags":{},)" +
                   std::string(kTail)),
            "tags is not an array");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":10,"duration":1,"process":[]})"),
            "process is not an object");
  EXPECT_EQ(reason(R"({"traceID":"1","spanID":"a","startTime":10,"duration":1,"process":{}})"),
            "process has no serviceName");
}

TEST(ParseJaegerJson, QueryErrorsAreAnError) {
  SpanBatch batch;
  const ParseResult result = ParseJaegerJson(
      R"({"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]})",
      batch);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("trace not found"), std::string::npos) << result.error;
}

TEST(ParseJaegerJson, EmptyAnswersAreNotErrors) {
  for (const char* json : {R"({"data":[],"total":0,"errors":null})", R"({"data":null})", "[]",
                           R"({"traceID":"1","spans":[],"processes":{}})"}) {
    SpanBatch batch;
    const ParseResult result = ParseJaegerJson(json, batch);
    EXPECT_TRUE(result.ok()) << json << ": " << result.error;
    EXPECT_EQ(batch.size(), 0u);
  }
}

TEST(ParseJaegerJson, MalformedDocumentsAreErrors) {
  for (const char* json : {
           R"({"data":5})",
           R"({"data":[1]})",
           R"({"data":[{"spans":{}}]})",
           R"({"data":[{"spans":[],"processes":[]}]})",
           R"({"data":[{"spans":[7]}]})",
           R"({"services":["a"]})",
           R"("just a string")",
           "[1,2]",
       }) {
    SpanBatch batch;
    EXPECT_FALSE(ParseJaegerJson(json, batch).ok()) << json;
    EXPECT_EQ(batch.size(), 0u);
  }
}

TEST(ParseJaegerJson, AppendsToABatchAndCopiesStrings) {
  SpanBatch batch;
  std::string json = ReadFixture("v1_trace_success.json");
  ASSERT_TRUE(ParseJaegerJson(json, batch).ok());
  ASSERT_TRUE(ParseJaegerJson(ReadFixture("v1_ui_01.json"), batch).ok());
  ASSERT_EQ(batch.size(), 7u);
  // The input and the parser's buffers are reused; the batch must not point into them.
  json.assign(json.size(), 'x');
  ASSERT_TRUE(ParseJaegerJson(R"({"data":[]})", batch).ok());
  EXPECT_EQ(batch.spans()[0].service, "16af988c443cff37");
  EXPECT_EQ(batch.spans()[0].operation, "a071653098f9250d");
  EXPECT_EQ(batch.spans()[6].operation, "preserveParentID-test");
}

}  // namespace
}  // namespace exporter::spans
