#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "exporter/spans/formats.h"
#include "exporter/spans/span.h"
#include "tests/fuzz/fuzz_check.h"

namespace exporter::spans::fuzz {

// A batch reused across inputs, as the exporter's loop reuses its batches, holding one valid
// span before the parse so that a failed parse can be seen to leave it alone.
inline SpanBatch& FreshBatch() {
  static SpanBatch batch;
  batch.Clear();
  Span& s = batch.Add();
  s.trace_id = {1, 2};
  s.span_id = 3;
  s.start_unix_nano = s.end_unix_nano = 4;
  s.service = batch.Store("present-before");
  return batch;
}

// The payload in a buffer with simdjson's padding after it, as a caller owning it passes it.
inline PaddedJson Padded(std::string_view payload, std::string& buffer) {
  buffer.reserve(payload.size() + kJsonPadding);
  buffer.assign(payload);
  const std::optional<PaddedJson> padded = AsPaddedJson(buffer);
  QL_FUZZ_CHECK(padded.has_value());
  return *padded;
}

}  // namespace exporter::spans::fuzz
