#include "exporter/spans/otlp_proto.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/spans/otlp_proto_writer.h"
#include "exporter/spans/otlp_response.h"
#include "tests/exporter/spans/test_util.h"

namespace exporter::spans {
namespace {

// Hand encoding of protobuf pieces, for payloads the writer would never produce.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(uint32_t field, uint32_t wire) { return Varint((uint64_t{field} << 3) | wire); }
std::string Len(uint32_t field, std::string_view body) {
  return Tag(field, 2) + Varint(body.size()) + std::string(body);
}
std::string Fixed64(uint32_t field, uint64_t v) {
  std::string out = Tag(field, 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string Fixed32(uint32_t field, uint32_t v) {
  std::string out = Tag(field, 5);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string Request(std::string_view resource, std::string_view spans) {
  return Len(1, Len(1, resource) + Len(2, spans));
}
std::string StringAttribute(std::string_view key, std::string_view value) {
  return Len(1, Len(1, key) + Len(2, Len(1, value)));
}
const std::string kTraceBytes = std::string(15, '\0') + "\x01";
const std::string kSpanBytes = std::string(7, '\0') + "\x02";
std::string MinimalSpan(std::string_view extra = "") {
  return Len(1, kTraceBytes) + Len(2, kSpanBytes) + Len(5, "op") + Fixed64(7, 100) +
         Fixed64(8, 200) + std::string(extra);
}

std::vector<OtlpResourceSpans> SampleResources() {
  std::vector<OtlpResourceSpans> resources(3);
  resources[0].resource = {{"service.name", std::string("frontend")},
                           {"k8s.pod.name", std::string("frontend-abc")},
                           {"k8s.namespace.name", std::string("hotel")},
                           {"replicas", int64_t{-3}},
                           {"ratio", 0.25},
                           {"canary", true}};
  resources[0].scope_name = "queuelens-test";
  OtlpSpan root;
  root.trace_id = TraceId{0x1111, 0x2222};
  root.span_id = 0xa;
  root.name = "HTTP GET /hotels";
  root.kind = SpanKind::kServer;
  root.start_unix_nano = 1700000000000000000;
  root.end_unix_nano = 1700000000005000000;
  root.status = OtlpStatusCode::kError;
  root.attributes = {{"http.status_code", int64_t{500}}, {"http.method", std::string("GET")}};
  OtlpSpan child = root;
  child.span_id = 0xb;
  child.parent_span_id = 0xa;
  child.name = "/search.Search/Nearby";
  child.kind = SpanKind::kClient;
  child.status = OtlpStatusCode::kOk;
  child.start_unix_nano += 1000;
  child.attributes.clear();
  resources[0].spans = {root, child};
  resources[1].resource = {{"service.name", std::string("search")},
                           {"host.name", std::string("node-1")}};
  OtlpSpan server = child;
  server.span_id = 0xc;
  server.parent_span_id = 0xb;
  server.kind = SpanKind::kServer;
  server.status = OtlpStatusCode::kUnset;
  resources[1].spans = {server};
  resources[2].resource = {};  // no service.name
  OtlpSpan orphan = server;
  orphan.span_id = 0xd;
  orphan.kind = SpanKind::kInternal;
  resources[2].spans = {orphan};
  return resources;
}

// Kept alive for the views in SampleExpected().
const std::vector<OtlpResourceSpans> kSample = SampleResources();

std::vector<Span> SampleExpected() {
  const auto& resources = kSample;
  std::vector<Span> spans;
  const std::string_view services[] = {"frontend", "search", "unknown_service"};
  const std::string_view instances[] = {"frontend-abc", "node-1", ""};
  const std::string_view namespaces[] = {"hotel", "", ""};
  for (size_t r = 0; r < resources.size(); ++r) {
    for (const OtlpSpan& o : resources[r].spans) {
      Span& s = spans.emplace_back();
      s.trace_id = o.trace_id;
      s.span_id = o.span_id;
      s.parent_span_id = o.parent_span_id;
      s.start_unix_nano = o.start_unix_nano;
      s.end_unix_nano = o.end_unix_nano;
      s.service = services[r];
      s.operation = o.name;
      s.instance = instances[r];
      s.k8s_namespace = namespaces[r];
      s.kind = o.kind;
      s.error = o.status == OtlpStatusCode::kError;
    }
  }
  return spans;
}

TEST(ParseOtlpProto, WriterRoundTrip) {
  const std::string bytes = ToOtlpProto(kSample);
  SpanBatch batch;
  const ParseResult result = ParseOtlpProto(bytes, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.rejected_spans, 0u);
  const std::vector<Span> want = SampleExpected();
  ASSERT_EQ(batch.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(SameSpan(batch.spans()[i], want[i]))
        << "got " << Describe(batch.spans()[i]) << "\nwant " << Describe(want[i]);
  }
}

TEST(ParseOtlpProto, EmptyPayloadIsAnEmptyRequest) {
  SpanBatch batch;
  const ParseResult result = ParseOtlpProto("", batch);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(batch.size(), 0u);
}

TEST(ParseOtlpProto, EveryTruncationIsAnErrorOrAValidSubset) {
  const std::string bytes = ToOtlpProto(kSample);
  const std::vector<Span> want = SampleExpected();
  SpanBatch batch;
  size_t errors = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so that the sanitizers see any read past the end.
    const std::vector<char> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    batch.Clear();
    const ParseResult result = ParseOtlpProto({prefix.data(), prefix.size()}, batch);
    if (!result.ok()) {
      ++errors;
      EXPECT_EQ(batch.size(), 0u);
      continue;
    }
    for (const Span& got : batch.spans()) {
      bool found = false;
      for (const Span& w : want) found = found || SameSpan(got, w);
      EXPECT_TRUE(found) << "prefix " << n << " produced " << Describe(got);
    }
  }
  // Only the cuts between whole resource_spans fields are readable.
  EXPECT_EQ(errors, bytes.size() - 3);
}

// Outer lengths are checked before a message is entered, so the loop above never reaches a cut
// inside a span. Here every cut of a span and of a resource is framed by valid outer messages and
// placed at the very end of the buffer.
TEST(ParseOtlpProto, EveryTruncationOfInnerMessagesIsAnErrorOrAValidSubset) {
  // A span with every field the reader looks at, plus attributes and an unknown fixed32.
  const std::string span = MinimalSpan(Len(4, kSpanBytes) + Tag(6, 0) + Varint(2) +
                                       Len(9, Len(1, "k") + Len(2, Tag(4, 1) + "12345678")) +
                                       Len(15, Tag(3, 0) + Varint(2)) + Fixed32(16, 1));
  const std::string resource = StringAttribute("service.name", "svc") +
                               Len(1, Len(1, "n") + Len(2, Len(5, Len(1, Tag(3, 0) + Varint(7)))));
  SpanBatch batch;
  for (const bool cut_span : {true, false}) {
    const std::string& message = cut_span ? span : resource;
    for (size_t n = 0; n <= message.size(); ++n) {
      const std::string cut = message.substr(0, n);
      // The cut message is the last field on the wire, so a read past it leaves the buffer.
      const std::string bytes = cut_span ? Len(1, Len(1, resource) + Len(2, Len(2, cut)))
                                         : Len(1, Len(2, Len(2, span)) + Len(1, cut));
      const std::vector<char> exact(bytes.begin(), bytes.end());
      batch.Clear();
      const ParseResult result = ParseOtlpProto({exact.data(), exact.size()}, batch);
      if (result.ok()) {
        EXPECT_EQ(result.accepted_spans + result.rejected_spans, 1u) << n;
      } else {
        EXPECT_EQ(batch.size(), 0u) << n;
      }
    }
  }
}

TEST(ParseOtlpProto, SkipsUnknownFieldsOfEveryWireType) {
  const std::string unknown =
      Tag(90, 0) + Varint(1ull << 63) + Fixed64(91, 7) + Len(92, "xyz") + Fixed32(93, 5);
  const std::string bytes =
      unknown +
      Request(unknown + StringAttribute("service.name", "svc") + unknown,
              unknown + Len(1, "scope") + Len(2, MinimalSpan(unknown)) + unknown) +
      unknown;
  SpanBatch batch;
  const ParseResult result = ParseOtlpProto(bytes, batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].service, "svc");
  EXPECT_EQ(batch.spans()[0].operation, "op");
  EXPECT_EQ(batch.spans()[0].end_unix_nano, 200);
}

TEST(ParseOtlpProto, ResourceAfterSpansAndRepeatedResourcesMerge) {
  const std::string bytes =
      Len(1, Len(2, Len(2, MinimalSpan())) + Len(1, StringAttribute("service.name", "late")) +
                 Len(1, StringAttribute("k8s.pod.name", "pod-1")));
  SpanBatch batch;
  ASSERT_TRUE(ParseOtlpProto(bytes, batch).ok());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].service, "late");
  EXPECT_EQ(batch.spans()[0].instance, "pod-1");
}

TEST(ParseOtlpProto, RejectsSpansWithBadIdsOrTimes) {
  const std::string trace15 = std::string(14, '\0') + "\x01";
  const std::string spans =
      Len(2, Len(1, trace15) + Len(2, kSpanBytes) + Fixed64(7, 1) + Fixed64(8, 2)) +
      Len(2, Len(1, kTraceBytes) + Len(2, "\x01\x02\x03") + Fixed64(7, 1) + Fixed64(8, 2)) +
      Len(2, Len(1, std::string(16, '\0')) + Len(2, kSpanBytes) + Fixed64(7, 1) + Fixed64(8, 2)) +
      Len(2, Len(2, kSpanBytes) + Fixed64(7, 1) + Fixed64(8, 2)) +
      Len(2, Len(1, kTraceBytes) + Len(2, std::string(8, '\0')) + Fixed64(7, 1) + Fixed64(8, 2)) +
      Len(2, Len(1, kTraceBytes) + Len(2, kSpanBytes) + Fixed64(8, 2)) +
      Len(2, Len(1, kTraceBytes) + Len(2, kSpanBytes) + Fixed64(7, ~0ull) + Fixed64(8, 2)) +
      Len(2, Len(1, kTraceBytes) + Len(2, kSpanBytes) + Len(4, "\x01") + Fixed64(7, 1) +
                 Fixed64(8, 2)) +
      Len(2, MinimalSpan(Tag(6, 0) + Varint(77)));
  SpanBatch batch;
  const ParseResult result = ParseOtlpProto(Request("", spans), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.rejected_spans, 8u);
  EXPECT_EQ(result.rejection, "trace_id is not 16 bytes");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].service, "unknown_service");
  EXPECT_EQ(batch.spans()[0].kind, SpanKind::kUnspecified);  // kind 77 is unknown
}

void ExpectError(std::string_view bytes, std::string_view needle) {
  SpanBatch batch;
  ASSERT_TRUE(ParseOtlpProto(Request("", Len(2, MinimalSpan())), batch).ok());
  const BatchSnapshot before(batch);
  const ParseResult result = ParseOtlpProto(bytes, batch);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find(needle), std::string::npos)
      << "error \"" << result.error << "\" lacks \"" << needle << "\"";
  EXPECT_EQ(result.accepted_spans, 0u);
  EXPECT_TRUE(BatchSnapshot(batch) == before) << "a failed parse changed the batch";
}

TEST(ParseOtlpProto, MalformedPayloadsAreErrorsThatNameTheField) {
  const std::string good_span = Len(2, MinimalSpan());
  ExpectError(Request("", good_span + Len(2, MinimalSpan(Len(6, "x")))),
              "Span.kind: wire type length-delimited, expected varint");
  ExpectError(Request("", Len(2, MinimalSpan(Tag(7, 0) + Varint(5)))),
              "Span.start_time_unix_nano: wire type varint, expected fixed64");
  ExpectError(Request("", Len(2, MinimalSpan(Len(15, Tag(3, 2) + Varint(0))))),
              "Status.code: wire type length-delimited");
  ExpectError(Tag(1, 0) + Varint(3), "ExportTraceServiceRequest.resource_spans");
  ExpectError(Request("", Tag(2, 5) + "abcd"), "ScopeSpans.spans");
  ExpectError(Request(Len(1, Len(1, "k") + Tag(2, 0) + Varint(1)), good_span), "KeyValue.value");
  ExpectError(Request(Len(1, Len(1, "k") + Len(2, Tag(2, 2) + Varint(0))), good_span),
              "AnyValue.bool_value");
  ExpectError(Request("", good_span + Tag(5, 3) + Tag(5, 4)), "groups are not supported");
  ExpectError(Request("", good_span + Tag(5, 6)), "invalid wire type");
  ExpectError(Tag(0, 0) + Varint(1), "invalid field number");
  ExpectError("\x0a", "truncated length");
  ExpectError("\x0a\xff", "truncated length");
  ExpectError(
      "\x0a\x05"
      "abc",
      "length past the end");
  ExpectError("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", "length past the end");
  ExpectError(Tag(9, 0) + std::string(11, '\xff') + "\x01", "truncated varint");
  ExpectError(Tag(9, 1) + "1234567", "truncated fixed64");
  ExpectError(Tag(9, 5) + "123", "truncated fixed32");
  ExpectError("\xff", "truncated field tag");
  ExpectError(Request("", Len(2, MinimalSpan(Len(5, "bad \xff name")))), "Span.name: not UTF-8");
  ExpectError(Request(StringAttribute("service.name", "\xc3\x28"), good_span), "not UTF-8");
}

// Nested AnyValue arrays, `levels` deep, built inside out without quadratic copying.
std::string NestedArrays(size_t levels) {
  // Each level is AnyValue{5: ArrayValue{1: <inner AnyValue>}}.
  std::vector<size_t> sizes(levels + 1, 0);
  for (size_t i = levels; i-- > 0;) {
    const size_t array_size = 1 + Varint(sizes[i + 1]).size() + sizes[i + 1];
    sizes[i] = 1 + Varint(array_size).size() + array_size;
  }
  std::string out;
  out.reserve(sizes[0]);
  for (size_t i = 0; i < levels; ++i) {
    const size_t array_size = 1 + Varint(sizes[i + 1]).size() + sizes[i + 1];
    out += Tag(5, 2) + Varint(array_size) + Tag(1, 2) + Varint(sizes[i + 1]);
  }
  return out;
}

TEST(ParseOtlpProto, DeepNestingIsRefused) {
  const std::string shallow =
      Request(Len(1, Len(1, "k") + Len(2, NestedArrays(20))), Len(2, MinimalSpan()));
  SpanBatch batch;
  EXPECT_TRUE(ParseOtlpProto(shallow, batch).ok());
  for (size_t levels : {40, 100000}) {
    ExpectError(Request(Len(1, Len(1, "k") + Len(2, NestedArrays(levels))), Len(2, MinimalSpan())),
                "nested deeper than 32");
  }
}

TEST(ParseOtlpProto, OversizedStringsAreCopiedWhole) {
  const std::string name(1 << 20, 'n');
  SpanBatch batch;
  const ParseResult result = ParseOtlpProto(Request("", Len(2, MinimalSpan(Len(5, name)))), batch);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.spans()[0].operation, name);
  EXPECT_GE(batch.ArenaBytes(), name.size());
}

TEST(ExportResponse, PartialSuccessEncodings) {
  EXPECT_EQ(ToExportResponseProto(0, ""), "");
  EXPECT_EQ(ToExportResponseJson(0, ""), "{}");
  EXPECT_EQ(ToExportResponseProto(5, "bad"), std::string("\x0a\x07\x08\x05\x12\x03"
                                                         "bad"));
  EXPECT_EQ(ToExportResponseJson(5, "bad \"span\""),
            R"({"partialSuccess":{"rejectedSpans":"5","errorMessage":"bad \"span\""}})");
  EXPECT_EQ(ToExportResponseProto(0, "warn"), std::string("\x0a\x06\x12\x04"
                                                          "warn"));
  EXPECT_EQ(ToExportResponseJson(2, ""), R"({"partialSuccess":{"rejectedSpans":"2"}})");
}

}  // namespace
}  // namespace exporter::spans
