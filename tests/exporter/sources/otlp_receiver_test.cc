#include "exporter/sources/otlp_receiver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/gzip.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "rapidjson/document.h"
#include "tests/exporter/sources/test_util.h"
#include "tests/support/fake_clock.h"

namespace exporter::sources {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kJson[] = "application/json";
constexpr char kProtobuf[] = "application/x-protobuf";
const std::map<std::string, std::string> kOtlp = {{"source", "otlp"}};

// gRPC codes in the google.rpc.Status bodies.
constexpr int64_t kInvalidArgument = 3;
constexpr int64_t kResourceExhausted = 8;
constexpr int64_t kUnavailable = 14;

// `count` root server spans of service checkout, one trace each; a span id of 0 makes a span
// invalid.
spans::OtlpResourceSpans Resource(int count, uint64_t first_trace = 1, bool zero_span_id = false) {
  spans::OtlpResourceSpans r{
      .resource = {{.key = "service.name", .value = std::string("checkout")},
                   {.key = "k8s.namespace.name", .value = std::string("shop")},
                   {.key = "k8s.pod.name", .value = std::string("checkout-0")}},
      .scope_name = "test",
      .spans = {}};
  for (int i = 0; i < count; ++i) {
    const int64_t start = 1'787'392'800'000'000'000 + i * 1'000'000;
    r.spans.push_back({.trace_id = {.hi = 7, .lo = first_trace + static_cast<uint64_t>(i)},
                       .span_id = zero_span_id ? 0 : 100 + static_cast<uint64_t>(i),
                       .parent_span_id = 0,
                       .name = "POST /pay",
                       .kind = spans::SpanKind::kServer,
                       .start_unix_nano = start,
                       .end_unix_nano = start + 4'000'000,
                       .status = spans::OtlpStatusCode::kUnset,
                       .attributes = {}});
  }
  return r;
}

std::string Json(std::vector<spans::OtlpResourceSpans> resources) {
  return spans::ToOtlpJson(resources);
}
std::string Proto(std::vector<spans::OtlpResourceSpans> resources) {
  return spans::ToOtlpProto(resources);
}

common::HttpRequest Post(std::string_view content_type, std::string body,
                         std::string_view encoding = {}) {
  common::HttpRequest r;
  r.method = "POST";
  r.path = "/v1/traces";
  if (!content_type.empty()) r.headers.emplace_back("content-type", content_type);
  if (!encoding.empty()) r.headers.emplace_back("content-encoding", encoding);
  r.body = std::move(body);
  return r;
}

std::string_view Header(const common::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// The top-level fields of a protobuf message: varints by number, length-delimited ones by number.
struct ProtoMessage {
  std::map<int, uint64_t> varints;
  std::map<int, std::string> bytes;
};

std::optional<uint64_t> ReadVarint(std::string_view& in) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return v;
  }
  return std::nullopt;
}

std::optional<ProtoMessage> DecodeProto(std::string_view in) {
  ProtoMessage m;
  while (!in.empty()) {
    const auto tag = ReadVarint(in);
    if (!tag) return std::nullopt;
    const int field = static_cast<int>(*tag >> 3);
    if ((*tag & 7) == 0) {
      const auto v = ReadVarint(in);
      if (!v) return std::nullopt;
      m.varints[field] = *v;
    } else if ((*tag & 7) == 2) {
      const auto len = ReadVarint(in);
      if (!len || *len > in.size()) return std::nullopt;
      m.bytes[field] = std::string(in.substr(0, *len));
      in.remove_prefix(*len);
    } else {
      return std::nullopt;
    }
  }
  return m;
}

struct Status {
  int64_t code = 0;
  std::string message;
};

// google.rpc.Status from an error answer, in the answer's content type.
Status DecodeStatus(const common::HttpResponse& r) {
  Status s;
  if (r.content_type == kJson) {
    rapidjson::Document doc;
    doc.Parse(r.body.c_str(), r.body.size());
    EXPECT_FALSE(doc.HasParseError()) << r.body;
    if (doc.HasParseError() || !doc.IsObject()) return s;
    if (doc.HasMember("code") && doc["code"].IsInt64()) s.code = doc["code"].GetInt64();
    if (doc.HasMember("message") && doc["message"].IsString())
      s.message = doc["message"].GetString();
    return s;
  }
  EXPECT_EQ(r.content_type, kProtobuf);
  const auto m = DecodeProto(r.body);
  EXPECT_TRUE(m.has_value()) << "Status is not protobuf";
  if (!m) return s;
  if (m->varints.contains(1)) s.code = static_cast<int64_t>(m->varints.at(1));
  if (m->bytes.contains(2)) s.message = m->bytes.at(2);
  return s;
}

struct PartialSuccess {
  int64_t rejected_spans = 0;
  std::string error_message;
};

// ExportTraceServiceResponse.partial_success, in the answer's content type.
PartialSuccess DecodePartialSuccess(const common::HttpResponse& r) {
  PartialSuccess p;
  if (r.content_type == kJson) {
    rapidjson::Document doc;
    doc.Parse(r.body.c_str(), r.body.size());
    EXPECT_FALSE(doc.HasParseError()) << r.body;
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("partialSuccess")) return p;
    const auto& ps = doc["partialSuccess"];
    // proto3 JSON writes int64 as a decimal string.
    if (ps.HasMember("rejectedSpans") && ps["rejectedSpans"].IsString()) {
      p.rejected_spans = std::stoll(ps["rejectedSpans"].GetString());
    }
    if (ps.HasMember("errorMessage") && ps["errorMessage"].IsString()) {
      p.error_message = ps["errorMessage"].GetString();
    }
    return p;
  }
  const auto outer = DecodeProto(r.body);
  EXPECT_TRUE(outer.has_value());
  if (!outer || !outer->bytes.contains(1)) return p;
  const auto inner = DecodeProto(outer->bytes.at(1));
  EXPECT_TRUE(inner.has_value());
  if (!inner) return p;
  if (inner->varints.contains(1)) p.rejected_spans = static_cast<int64_t>(inner->varints.at(1));
  if (inner->bytes.contains(2)) p.error_message = inner->bytes.at(2);
  return p;
}

class OtlpReceiverTest : public ::testing::Test {
 protected:
  static state::StateOptions Immediate() {
    state::StateOptions o;
    o.traces.wait = common::Duration::zero();  // every trace is finished as it arrives
    return o;
  }

  // Requests counted by the state for checkout's POST /pay, after everything submitted so far.
  uint64_t RequestsInState(ExporterLoop& loop) {
    const auto snap = loop.Snapshot(false);
    uint64_t n = 0;
    for (const auto& o : snap->operations) {
      if (o.service == "checkout" && o.operation == "POST /pay") n += o.requests;
    }
    return n;
  }

  double Failures(const std::string& reason) const {
    return CounterValue(registry_, "queuelens_source_failures_total",
                        {{"source", "otlp"}, {"reason", reason}});
  }

  common::FakeClock clock_;  // never advanced
  prometheus::Registry registry_;
  SourceMetrics metrics_{registry_};
  ExporterLoop loop_{Immediate(), LoopOptions{}, clock_};
  OtlpReceiver receiver_{loop_, metrics_, OtlpReceiverOptions{}};
};

TEST_F(OtlpReceiverTest, AcceptsProtobuf) {
  const common::HttpResponse r = receiver_.Handle(Post(kProtobuf, Proto({Resource(3)})));

  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kProtobuf);
  EXPECT_THAT(r.body, IsEmpty());  // ExportTraceServiceResponse with nothing set
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", kOtlp), 3);
  EXPECT_EQ(RequestsInState(loop_), 3u);
}

TEST_F(OtlpReceiverTest, AcceptsJsonWhateverTheCaseAndParameters) {
  for (const char* type : {"application/json", "Application/JSON; charset=utf-8"}) {
    SCOPED_TRACE(type);
    const common::HttpResponse r = receiver_.Handle(Post(type, Json({Resource(2)})));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, kJson);
    EXPECT_EQ(r.body, "{}");
  }
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", kOtlp), 4);
}

TEST_F(OtlpReceiverTest, AcceptsGzip) {
  EXPECT_EQ(receiver_.Handle(Post(kProtobuf, common::Gzip(Proto({Resource(2)})), "gzip")).status,
            200);
  EXPECT_EQ(receiver_.Handle(Post(kJson, common::Gzip(Json({Resource(3, 10)})), "GZIP")).status,
            200);
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", kOtlp), 5);
  EXPECT_EQ(RequestsInState(loop_), 5u);
}

TEST_F(OtlpReceiverTest, OtherContentTypesAndEncodingsAre415) {
  for (const char* type : {"text/plain", "application/grpc", "application/protobuf", ""}) {
    SCOPED_TRACE(type);
    const common::HttpResponse r = receiver_.Handle(Post(type, Proto({Resource(1)})));
    EXPECT_EQ(r.status, 415);
    EXPECT_THAT(r.body, HasSubstr("application/x-protobuf or application/json"));
  }
  const common::HttpResponse br = receiver_.Handle(Post(kProtobuf, Proto({Resource(1)}), "br"));
  EXPECT_EQ(br.status, 415);
  EXPECT_THAT(br.body, HasSubstr("\"br\""));
  EXPECT_EQ(Failures("unsupported_media_type"), 5);
  EXPECT_EQ(CounterValue(registry_, "queuelens_spans_received_total", kOtlp), 0);
}

TEST_F(OtlpReceiverTest, OnlyPostIsAllowed) {
  common::HttpRequest get = Post(kJson, "");
  get.method = "GET";
  const common::HttpResponse r = receiver_.Handle(get);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST");
}

TEST_F(OtlpReceiverTest, BodyOverTheSizeLimitIs413) {
  const std::string body = Proto({Resource(50)});
  OtlpReceiver small(loop_, metrics_, {.max_body_bytes = body.size() - 1});

  const common::HttpResponse r = small.Handle(Post(kProtobuf, body));

  EXPECT_EQ(r.status, 413);
  const Status s = DecodeStatus(r);
  EXPECT_EQ(s.code, kResourceExhausted);
  EXPECT_THAT(s.message, HasSubstr(std::to_string(body.size() - 1)));
  EXPECT_EQ(Failures("too_large"), 1);
  EXPECT_EQ(small.Handle(Post(kProtobuf, Proto({Resource(49)}))).status, 200);
}

TEST_F(OtlpReceiverTest, GzipBombIs413) {
  OtlpReceiver small(loop_, metrics_, {.max_decompressed_bytes = 1 << 20});
  // 16 MiB of zeros is about 16 KiB of gzip.
  const std::string bomb = common::Gzip(std::string(16 << 20, '\0'), 9);
  ASSERT_LT(bomb.size(), size_t{64} << 10);

  for (const char* type : {kProtobuf, kJson}) {
    SCOPED_TRACE(type);
    const common::HttpResponse r = small.Handle(Post(type, bomb, "gzip"));
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.content_type, type);
    const Status s = DecodeStatus(r);
    EXPECT_EQ(s.code, kResourceExhausted);
    EXPECT_THAT(s.message, HasSubstr("1048576 bytes"));
  }
  EXPECT_EQ(Failures("too_large"), 2);
}

TEST_F(OtlpReceiverTest, MalformedBodiesAre400WithAStatusThatSaysWhy) {
  const std::string proto = Proto({Resource(3)});
  const std::string json = Json({Resource(3)});
  struct Case {
    const char* name;
    const char* type;
    std::string body;
    const char* encoding;
    const char* says;  // what the message must say
  };
  const std::vector<Case> cases = {
      {"truncated protobuf", kProtobuf, proto.substr(0, proto.size() - 7), "",
       "otlp protobuf: length past the end in "},
      {"garbage protobuf", kProtobuf, "\xff\xff\xff\xff", "",
       "otlp protobuf: truncated field tag in ExportTraceServiceRequest"},
      {"truncated JSON", kJson, json.substr(0, json.size() / 2), "", "otlp json: "},
      {"JSON that is not OTLP", kJson, R"({"resourceSpans":42})", "", "resourceSpans"},
      {"protobuf sent as JSON", kJson, proto, "", "otlp json: "},
      {"not gzip", kProtobuf, proto, "gzip", "body is not valid gzip"},
      {"truncated gzip", kJson, common::Gzip(json).substr(0, 40), "gzip", "body is not valid gzip"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const common::HttpResponse r = receiver_.Handle(Post(c.type, c.body, c.encoding));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.content_type, c.type);
    const Status s = DecodeStatus(r);
    EXPECT_EQ(s.code, kInvalidArgument);
    EXPECT_THAT(s.message, HasSubstr(c.says));
  }
  EXPECT_EQ(Failures("malformed"), static_cast<double>(cases.size()));
  EXPECT_EQ(CounterValue(registry_, "queuelens_spans_received_total", kOtlp), 0);
}

TEST_F(OtlpReceiverTest, FullQueueIs503AndRetryable) {
  ExporterLoop small_loop(Immediate(), LoopOptions{.max_queued_spans = 2}, clock_);
  OtlpReceiver receiver(small_loop, metrics_, {});

  for (const char* type : {kProtobuf, kJson}) {
    SCOPED_TRACE(type);
    const std::string body =
        type == std::string(kJson) ? Json({Resource(3)}) : Proto({Resource(3)});
    const common::HttpResponse r = receiver.Handle(Post(type, body));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.content_type, type);
    EXPECT_EQ(Header(r, "Retry-After"), "1");
    EXPECT_EQ(DecodeStatus(r).code, kUnavailable);
  }
  EXPECT_EQ(Failures("queue_full"), 2);
  EXPECT_EQ(RequestsInState(small_loop), 0u);
}

TEST_F(OtlpReceiverTest, RejectedSpansAreAPartialSuccessInTheRequestsContentType) {
  for (const char* type : {kProtobuf, kJson}) {
    SCOPED_TRACE(type);
    std::vector<spans::OtlpResourceSpans> request = {Resource(2, 1), Resource(3, 20, true)};
    const std::string body = type == std::string(kJson) ? Json(request) : Proto(request);

    const common::HttpResponse r = receiver_.Handle(Post(type, body));

    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, type);
    const PartialSuccess p = DecodePartialSuccess(r);
    EXPECT_EQ(p.rejected_spans, 3);
    EXPECT_THAT(p.error_message, HasSubstr("rejected spans: "));
    EXPECT_THAT(p.error_message, HasSubstr("span"));
  }
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", kOtlp), 4);
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_dropped_total",
                        {{"source", "otlp"}, {"reason", "invalid_span"}}),
            6);
}

TEST_F(OtlpReceiverTest, SpansAcceptedBeforeABadRequestAreKept) {
  ASSERT_EQ(receiver_.Handle(Post(kProtobuf, Proto({Resource(2, 1)}))).status, 200);
  const std::string json = Json({Resource(4, 10)});
  ASSERT_EQ(receiver_.Handle(Post(kJson, json.substr(0, json.size() - 3))).status, 400);
  ASSERT_EQ(receiver_.Handle(Post(kProtobuf, Proto({Resource(1, 30)}))).status, 200);

  EXPECT_EQ(RequestsInState(loop_), 3u);
  EXPECT_EQ(MetricValue(registry_, "queuelens_spans_received_total", kOtlp), 3);
  EXPECT_EQ(Failures("malformed"), 1);
}

}  // namespace
}  // namespace exporter::sources
