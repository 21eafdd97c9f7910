#pragma once

#include <algorithm>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "exporter/spans/ids.h"
#include "exporter/spans/span.h"

namespace exporter::spans {

inline std::string ReadFixture(std::string_view name) {
  std::ifstream in(std::string(QL_SOURCE_DIR "/tests/fixtures/jaeger/") + std::string(name),
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline auto Fields(const Span& s) {
  return std::tie(s.trace_id.hi, s.trace_id.lo, s.span_id, s.parent_span_id, s.start_unix_nano,
                  s.end_unix_nano, s.service, s.operation, s.instance, s.k8s_namespace, s.kind,
                  s.error);
}

inline bool SameSpan(const Span& a, const Span& b) { return Fields(a) == Fields(b); }

// gtest prints spans through this (found by ADL).
inline void PrintTo(const Span& s, std::ostream* os) {
  *os << "{trace=" << FormatTraceId(s.trace_id) << " span=" << FormatSpanId(s.span_id)
      << " parent=" << FormatSpanId(s.parent_span_id) << " start=" << s.start_unix_nano
      << " end=" << s.end_unix_nano << " service=" << s.service << " op=" << s.operation
      << " instance=" << s.instance << " ns=" << s.k8s_namespace
      << " kind=" << static_cast<int>(s.kind) << " error=" << s.error << "}";
}

inline std::string Describe(const Span& s) {
  std::ostringstream out;
  PrintTo(s, &out);
  return out.str();
}

// Orders spans by (trace, span id, start) so that readers with different output orders compare.
inline void SortSpans(std::vector<Span>& spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return std::tie(a.trace_id.hi, a.trace_id.lo, a.span_id, a.start_unix_nano) <
           std::tie(b.trace_id.hi, b.trace_id.lo, b.span_id, b.start_unix_nano);
  });
}

// A deep copy of a batch's spans, for checking that a failed parse left the batch untouched.
struct BatchSnapshot {
  explicit BatchSnapshot(const SpanBatch& batch) : arena_bytes(batch.ArenaBytes()) {
    for (const Span& s : batch.spans()) {
      spans.push_back(Describe(s));
    }
  }
  friend bool operator==(const BatchSnapshot&, const BatchSnapshot&) = default;
  size_t arena_bytes;
  std::vector<std::string> spans;
};

}  // namespace exporter::spans
