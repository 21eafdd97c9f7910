#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/spans/sampling.h"

namespace exporter::spans {

// OTLP's numbering (opentelemetry-proto trace.proto SpanKind).
enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

// 128-bit trace id; Jaeger's 64-bit ids land in `lo` with `hi` = 0.
struct TraceId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool IsZero() const { return hi == 0 && lo == 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// One span, as every source (OTLP JSON/protobuf, Jaeger v1/v3) reduces it. The string views point
// into the owning SpanBatch's arena and stay valid until the batch is cleared or destroyed.
struct Span {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;  // 0 = root (or parent unknown)
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::string_view service;    // resource service.name / Jaeger process.serviceName
  std::string_view operation;  // span name / operationName
  std::string_view instance;   // k8s.pod.name, else host.name / hostname, else service.instance.id
  std::string_view k8s_namespace;  // k8s.namespace.name; empty when absent
  // What the span says about its sampling (OTLP trace_state, Jaeger root sampler tags); the
  // trace's root decides for spans that say nothing.
  double adjusted_count = 0;  // > 0 only when sampling_method is known
  SpanKind kind = SpanKind::kUnspecified;
  bool error = false;  // OTLP status.code == 2, or Jaeger tag error=true
  SamplingMethod sampling_method = SamplingMethod::kNone;

  void SetSampling(Sampling s) {
    adjusted_count = s.adjusted_count;
    sampling_method = s.method;
  }
};

// A reusable batch of spans with an append-only string arena. Clear() keeps every buffer, so a
// batch reused across parses allocates nothing once it has grown to its working size.
class SpanBatch {
 public:
  SpanBatch() = default;
  SpanBatch(const SpanBatch&) = delete;
  SpanBatch& operator=(const SpanBatch&) = delete;
  SpanBatch(SpanBatch&&) noexcept = default;
  SpanBatch& operator=(SpanBatch&&) noexcept = default;

  // Copies `s` into the arena; the returned view lives as long as the batch's current contents.
  std::string_view Store(std::string_view s);

  Span& Add() { return spans_.emplace_back(); }
  void PopBack() { spans_.pop_back(); }

  const std::vector<Span>& spans() const { return spans_; }
  std::vector<Span>& mutable_spans() { return spans_; }
  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }

  // Bytes held by the arena (for caps and memory accounting).
  size_t ArenaBytes() const;

  void Clear();

 private:
  static constexpr size_t kBlockSize = 64 * 1024;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;  // kBlockSize, or larger for one oversized string
  };
  std::vector<Span> spans_;
  std::vector<Block> blocks_;
  size_t current_ = 0;  // index of the block being filled
  size_t used_ = 0;     // bytes used in blocks_[current_]
};

// Outcome of parsing one payload. A payload that cannot be read at all sets `error` and yields no
// spans; spans that are individually unusable (no trace id, no span id, no service) are skipped
// and counted in `rejected_spans` with the first reason in `rejection`.
struct ParseResult {
  std::string error;  // empty when the payload was readable
  size_t accepted_spans = 0;
  size_t rejected_spans = 0;
  std::string rejection;  // why the first rejected span was rejected
  bool ok() const { return error.empty(); }
};

}  // namespace exporter::spans
