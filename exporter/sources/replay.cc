#include "exporter/sources/replay.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "exporter/spans/formats.h"

namespace exporter::sources {
namespace {

constexpr std::string_view kSource = "replay";

bool IsProtobufPath(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".pb" || ext == ".binpb" || ext == ".protobuf";
}

}  // namespace

ReplayResult ReplayFile(const std::string& path, size_t max_bytes, ExporterLoop& loop,
                        SourceMetrics& metrics) {
  ReplayResult result;
  auto fail = [&](const std::string& reason, const std::string& message) {
    metrics.Failed(kSource, reason);
    result.error = path + ": " + message;
    return result;
  };
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail("read_error", ec.message());
  if (size > max_bytes) {
    return fail("too_large", std::to_string(size) + " bytes exceeds --replay.max-bytes (" +
                                 std::to_string(max_bytes) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(size, '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(size))) {
    return fail("read_error", std::strerror(errno));
  }

  std::optional<spans::SpanFormat> format;
  if (IsProtobufPath(path)) {
    format = spans::SpanFormat::kOtlpProto;
  } else {
    format = spans::DetectJsonFormat(data);
  }
  if (!format) {
    return fail("malformed", "neither Jaeger JSON nor OTLP JSON (use .pb for OTLP protobuf)");
  }
  spans::SpanBatch batch = loop.TakeBatch();
  const spans::ParseResult parsed = spans::ParseSpans(*format, data, batch);
  if (!parsed.ok()) return fail("malformed", parsed.error);
  metrics.Dropped(kSource, "invalid_span", parsed.rejected_spans);
  // Recordings are old by nature: no age check.
  const spans::ValidationCounts checked = loop.Validate(batch, std::nullopt);
  metrics.Validated(kSource, checked);
  result.spans = batch.size();
  result.rejected_spans = parsed.rejected_spans + checked.TotalDropped();
  if (!loop.Submit(std::move(batch), /*flush=*/true,
                   [&] { metrics.Received(kSource, result.spans); })) {
    metrics.Dropped(kSource, "queue_full", result.spans);
    return fail("queue_full", "span queue is full (--queue.max-spans)");
  }
  result.ok = true;
  return result;
}

}  // namespace exporter::sources
