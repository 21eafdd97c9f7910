#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace recommender::input {

using Labels = std::vector<std::pair<std::string, std::string>>;  // in exposition order

// The value of label `name`, or "" when absent (Prometheus treats both alike).
std::string_view LabelValue(const Labels& labels, std::string_view name);

enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

struct TextSample {
  std::string name;  // the sample's own name: foo_bucket, foo_sum, foo_total, ...
  Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

// A label as StreamPrometheusText hands it out: views into the text, or into the parser's own
// buffer for a value with escape sequences.
struct LabelView {
  std::string_view name;
  std::string_view value;  // unescaped
};
std::string_view LabelValue(std::span<const LabelView> labels, std::string_view name);

// A sample as StreamPrometheusText hands it out; its views are valid during the call only.
struct SampleView {
  std::string_view name;
  // The line's name and label set as written: the same text names the same series, so a reader
  // can recognise a series it saw before without joining its labels.
  std::string_view series;
  std::span<const LabelView> labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

struct TextFamily {
  std::string name;
  MetricType type = MetricType::kUntyped;
  std::string help;  // unescaped
};

struct ParsedText {
  std::vector<TextSample> samples;   // in input order
  std::vector<TextFamily> families;  // one per # TYPE or # HELP name, in order of first mention
  size_t malformed_lines = 0;
  std::vector<std::string> errors;  // "line N: reason", the first ParseLimits::max_errors
  bool truncated = false;           // stopped early at a ParseLimits cap
  // Transparent: the parser looks names up as views into the text, without a copy.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>>
      family_index;  // family name → index in families

  // The family a sample belongs to: its own name, or the name without a _bucket/_sum/_count
  // suffix when that names a histogram or summary family. nullptr when untyped and unknown.
  const TextFamily* FamilyOf(const TextSample& sample) const;
};

// Caps keep a hostile or broken target from costing unbounded memory. Oversized lines are
// counted as malformed; reaching max_samples stops the parse with truncated = true.
struct ParseLimits {
  size_t max_samples = 2'000'000;
  size_t max_line_bytes = 64 << 10;
  size_t max_labels = 64;
  size_t max_errors = 16;
};

// A sample value as Prometheus writes it (Go's ParseFloat): an optional sign, digits or
// Inf/Infinity/NaN in any case. Values beyond double's range become ±Inf or 0.
std::optional<double> ParseFloatValue(std::string_view text);

// Parses the Prometheus text exposition format 0.0.4: # HELP and # TYPE lines, other comments,
// samples with optional labels (escapes \\ \" \n), values incl. NaN, +Inf and -Inf, and optional
// millisecond timestamps. A malformed line is skipped, counted and described in `errors`; the
// rest of the text is still read. Pure: no I/O.
ParsedText ParsePrometheusText(std::string_view text, const ParseLimits& limits = {});

// The same parse, but each sample goes to `on_sample` as it is read instead of into `samples`
// (which stays empty), with no allocation per sample: for readers that use each sample once.
// ParseLimits::max_samples counts the samples handed out.
ParsedText StreamPrometheusText(std::string_view text, const ParseLimits& limits,
                                const std::function<void(const SampleView&)>& on_sample);

}  // namespace recommender::input
