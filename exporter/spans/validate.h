#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/spans/span.h"

namespace exporter::spans {

// What one span may contribute to the exporter. Every source passes its parsed batches through
// ValidateSpans before they reach the state, so one span can neither blow up the exposition nor
// skew in-flight, queue length and quantiles.
struct SpanLimits {
  // Longest label value (service, operation, instance, namespace) in bytes; longer values are cut
  // at the last whole code point that fits.
  size_t max_label_bytes = 256;
  // Spans lasting longer than this are dropped.
  int64_t max_duration_nano = int64_t{3600} * 1'000'000'000;
  // Spans starting more than this before they were received are dropped (not applied to replayed
  // files, which are recordings).
  int64_t max_age_nano = int64_t{2} * 3600 * 1'000'000'000;
};

// The label values a span carries; call-graph edges reuse the service's.
enum class SpanLabel : uint8_t { kService, kOperation, kInstance, kNamespace };
inline constexpr size_t kSpanLabels = 4;

// How a label value was repaired.
enum class LabelFix : uint8_t {
  kTruncated,         // longer than max_label_bytes
  kControlCharacter,  // C0 (NUL included), DEL or C1 control replaced by U+FFFD
  kInvalidUtf8,       // a byte sequence that is not UTF-8 replaced by U+FFFD
};
inline constexpr size_t kLabelFixes = 3;

// Why a span was dropped.
enum class SpanDrop : uint8_t {
  kEndBeforeStart,
  kDurationTooLong,  // longer than max_duration_nano
  kStartTooOld,      // started more than max_age_nano before it was received
};
inline constexpr size_t kSpanDrops = 3;

std::string_view Name(SpanLabel label);  // "service", "operation", "instance", "namespace"
std::string_view Name(LabelFix fix);     // "truncated", "control_character", "invalid_utf8"
std::string_view Name(SpanDrop drop);    // "end_before_start", "duration_too_long", ...

// Per span: each label fixed at most once per kind, each dropped span once.
struct ValidationCounts {
  std::array<std::array<uint64_t, kLabelFixes>, kSpanLabels> fixed{};
  std::array<uint64_t, kSpanDrops> dropped{};

  uint64_t Fixed(SpanLabel label, LabelFix fix) const {
    return fixed[static_cast<size_t>(label)][static_cast<size_t>(fix)];
  }
  uint64_t Dropped(SpanDrop drop) const { return dropped[static_cast<size_t>(drop)]; }
  uint64_t TotalDropped() const;
};

// Bit set of the LabelFix values applied by SanitizeLabel.
using LabelFixes = uint8_t;
inline constexpr LabelFixes Bit(LabelFix fix) { return LabelFixes{1} << static_cast<int>(fix); }

// Makes `value` a valid label value: control characters and bytes that are not UTF-8 become
// U+FFFD, then the result is cut to at most max_bytes at a code-point boundary. Returns `value`
// or a prefix of it when nothing had to be replaced (no copy), else a view of `scratch`. Sets the
// bits of the fixes applied in `fixes`.
std::string_view SanitizeLabel(std::string_view value, size_t max_bytes, std::string& scratch,
                               LabelFixes& fixes);

// Sanitises every span's labels and removes implausible spans from the batch, in place. Repaired
// values are stored in the batch's arena. received_unix_nano: when the batch was received; nullopt
// skips the age check (replayed recordings).
ValidationCounts ValidateSpans(SpanBatch& batch, const SpanLimits& limits,
                               std::optional<int64_t> received_unix_nano);

}  // namespace exporter::spans
