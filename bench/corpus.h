#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "exporter/spans/span.h"

namespace bench {

// A deterministic stream of DeathStarBench hotel-reservation requests (algorithms.md §6.1):
// 60 % search, 39 % recommendation, 0.5 % user login, 0.5 % reservation, each a trace of gRPC
// client/server span pairs plus memcached and MongoDB client spans.
struct CorpusOptions {
  size_t traces = 200;
  int64_t start_unix_nano = 1'700'000'000'000'000'000;
  uint64_t seed = 1;
  double requests_per_second = 1000;  // Poisson arrivals
  double cache_miss_ratio = 0.1;
  double error_ratio = 0.002;  // per RPC; a failure marks the callee, the caller and the root
};

// One pod of a service: a Jaeger process, an OTLP resource.
struct CorpusProcess {
  std::string service;
  std::string pod;
  std::string ip;
};

inline constexpr char kCorpusNamespace[] = "hotel";

struct CorpusSpan {
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  uint32_t process = 0;  // index into Corpus::processes
  std::string operation;
  exporter::spans::SpanKind kind = exporter::spans::SpanKind::kUnspecified;
  int64_t start_unix_nano = 0;  // whole microseconds, so Jaeger JSON carries them exactly
  int64_t end_unix_nano = 0;
  bool error = false;
  std::vector<exporter::spans::OtlpAttribute> tags;
};

struct CorpusTrace {
  exporter::spans::TraceId trace_id;
  std::vector<CorpusSpan> spans;  // parents before children
};

struct Corpus {
  std::vector<CorpusProcess> processes;
  std::vector<CorpusTrace> traces;
  size_t SpanCount() const;
};

// The same seed and options give the same corpus, byte for byte (on one libm: times go through
// log, exp and cos).
Corpus GenerateCorpus(const CorpusOptions& options);

// The batch as Jaeger's query API answers it: `{"data":[trace,...]}`, a processes table per trace.
std::string ToJaegerJson(const Corpus& corpus);
// The batch as a collector would export it: one ResourceSpans per pod.
std::vector<exporter::spans::OtlpResourceSpans> ToOtlpResources(const Corpus& corpus);
std::string ToOtlpJson(const Corpus& corpus);
std::string ToOtlpProto(const Corpus& corpus);
std::string Serialize(const Corpus& corpus, exporter::spans::SpanFormat format);

// The spans every reader should produce from this corpus, in trace order; views point into
// `corpus`.
std::vector<exporter::spans::Span> ExpectedSpans(const Corpus& corpus);

}  // namespace bench
