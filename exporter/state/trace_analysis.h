#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "exporter/state/trace_buffer.h"

namespace exporter::state {

// A request to a service found in a finished trace.
struct Request {
  uint32_t span_index = 0;  // into the trace's spans
  int64_t duration_nano = 0;
  int64_t exclusive_nano = 0;   // duration minus time covered by other services' descendants
  uint32_t caller_service = 0;  // interned service of the parent span when it is another service
};

// Reusable buffers, so analysing a trace allocates nothing once they have grown.
struct TraceScratch {
  std::vector<std::pair<uint64_t, uint32_t>> by_id;  // (span id, index), sorted
  std::vector<uint32_t> parent;                      // parent index or kNone
  std::vector<uint32_t> child_begin;                 // CSR offsets into children
  std::vector<uint32_t> children;
  std::vector<uint32_t> stack;
  std::vector<uint32_t> visited;  // walk stamp per span (guards against reference cycles)
  std::vector<std::pair<int64_t, int64_t>> intervals;
  uint32_t stamp = 0;
};

// Finds the requests in one trace and their exclusive times.
//
// A request to service S is a span of S that is a server or consumer span, or whose parent is
// absent from the trace or belongs to another service. Its exclusive time is
//
//   exclusive = duration - | U { [start(d), end(d)] ∩ [start(r), end(r)] } |
//
// over the outermost descendants d of r that belong to another service (the first span of another
// service on each path down from r; in a synchronous call tree everything below d lies within d).
// Parallel children overlap, hence the union; the result is clipped to [0, duration].
// Spans referencing each other in a cycle are walked once.
void FindRequests(std::span<const SpanRecord> spans, TraceScratch& scratch,
                  std::vector<Request>& out);

}  // namespace exporter::state
