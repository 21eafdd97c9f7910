#include "exporter/sources/otlp_receiver.h"

#include <spdlog/spdlog.h>

#include <string>

#include "common/gzip.h"
#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_response.h"

namespace exporter::sources {
namespace {

constexpr std::string_view kSource = "otlp";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProtobuf = "application/x-protobuf";

std::string_view MediaType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

common::HttpResponse Error(bool json, int http_status, int rpc_code, std::string_view message) {
  common::HttpResponse r;
  r.status = http_status;
  r.content_type = std::string(json ? kJson : kProtobuf);
  // google.rpc.Status, the body OTLP/HTTP specifies for errors.
  r.body = json ? spans::ToStatusJson(rpc_code, message) : spans::ToStatusProto(rpc_code, message);
  return r;
}

// gRPC status codes used in the Status body.
constexpr int kInvalidArgument = 3;
constexpr int kResourceExhausted = 8;
constexpr int kUnavailable = 14;

}  // namespace

OtlpReceiver::OtlpReceiver(ExporterLoop& loop, SourceMetrics& metrics, OtlpReceiverOptions options)
    : loop_(loop), metrics_(metrics), options_(options) {}

common::HttpResponse OtlpReceiver::Handle(const common::HttpRequest& request) {
  const std::string_view media = MediaType(request.Header("content-type"));
  const bool json = EqualsIgnoreCase(media, kJson);
  if (request.method != "POST") {
    common::HttpResponse r = Error(json, 405, kInvalidArgument, "only POST is supported");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (!json && !EqualsIgnoreCase(media, kProtobuf)) {
    metrics_.Failed(kSource, "unsupported_media_type");
    common::HttpResponse r;
    r.status = 415;
    r.body = "unsupported content type \"" + std::string(media) +
             "\"; use application/x-protobuf or application/json\n";
    return r;
  }

  // The server refuses larger bodies before they are read; this holds wherever the handler runs.
  if (request.body.size() > options_.max_body_bytes) {
    metrics_.Failed(kSource, "too_large");
    return Error(json, 413, kResourceExhausted,
                 "body exceeds " + std::to_string(options_.max_body_bytes) +
                     " bytes (--otlp.max-body-bytes)");
  }

  std::string inflated;
  std::string_view payload = request.body;
  const std::string_view encoding = request.Header("content-encoding");
  if (EqualsIgnoreCase(encoding, "gzip")) {
    switch (common::Gunzip(request.body, options_.max_decompressed_bytes, inflated)) {
      case common::GunzipStatus::kOk:
        payload = inflated;
        break;
      case common::GunzipStatus::kTooLarge:
        metrics_.Failed(kSource, "too_large");
        return Error(json, 413, kResourceExhausted,
                     "decompressed body exceeds " +
                         std::to_string(options_.max_decompressed_bytes) +
                         " bytes (--otlp.max-decompressed-bytes)");
      case common::GunzipStatus::kCorrupt:
        metrics_.Failed(kSource, "malformed");
        return Error(json, 400, kInvalidArgument, "body is not valid gzip");
    }
  } else if (!encoding.empty() && !EqualsIgnoreCase(encoding, "identity")) {
    metrics_.Failed(kSource, "unsupported_media_type");
    common::HttpResponse r;
    r.status = 415;
    r.body = "unsupported content encoding \"" + std::string(encoding) + "\"; use gzip\n";
    return r;
  }

  spans::SpanBatch batch = loop_.TakeBatch();
  const spans::ParseResult parsed = spans::ParseSpans(
      json ? spans::SpanFormat::kOtlpJson : spans::SpanFormat::kOtlpProto, payload, batch);
  if (!parsed.ok()) {
    metrics_.Failed(kSource, "malformed");
    spdlog::debug("otlp: rejected payload of {} bytes: {}", payload.size(), parsed.error);
    return Error(json, 400, kInvalidArgument, parsed.error);
  }
  metrics_.Dropped(kSource, "invalid_span", parsed.rejected_spans);
  const spans::ValidationCounts checked = loop_.Validate(batch, loop_.Now());
  metrics_.Validated(kSource, checked);
  const size_t accepted = batch.size();
  if (!loop_.Submit(std::move(batch), false, [&] { metrics_.Received(kSource, accepted); })) {
    metrics_.Failed(kSource, "queue_full");
    common::HttpResponse r = Error(json, 503, kUnavailable, "span queue is full; retry later");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }

  common::HttpResponse r;
  r.content_type = std::string(json ? kJson : kProtobuf);
  const size_t rejected = parsed.rejected_spans + checked.TotalDropped();
  std::string message;
  if (parsed.rejected_spans > 0) message = "rejected spans: " + parsed.rejection;
  for (size_t d = 0; d < spans::kSpanDrops && message.empty(); ++d) {
    if (checked.dropped[d] > 0) {
      message = "rejected spans: " + std::string(spans::Name(static_cast<spans::SpanDrop>(d)));
    }
  }
  r.body = json ? spans::ToExportResponseJson(rejected, message)
                : spans::ToExportResponseProto(rejected, message);
  return r;
}

}  // namespace exporter::sources
