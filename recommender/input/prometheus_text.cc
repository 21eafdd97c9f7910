#include "recommender/input/prometheus_text.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace recommender::input {
namespace {

// Character classes as one table lookup each: names are most of an exposition's bytes.
constexpr uint8_t kNameStart = 1, kNameChar = 2, kColon = 4;
constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    t[static_cast<size_t>(c)] = static_cast<uint8_t>(
        (letter ? kNameStart | kNameChar : 0) | (digit ? kNameChar : 0) | (c == ':' ? kColon : 0));
  }
  return t;
}();
uint8_t ClassOf(char c) { return kClass[static_cast<unsigned char>(c)]; }

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line; every Read* returns false and leaves an error on bad input.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : s_(line) {}

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void Skip() { ++pos_; }
  size_t SkipBlanks() {
    const size_t start = pos_;
    while (!AtEnd() && IsBlank(s_[pos_])) ++pos_;
    return pos_ - start;
  }
  std::string_view Rest() const { return s_.substr(std::min(pos_, s_.size())); }
  size_t Position() const { return pos_; }

  // Metric names may contain ':'; label names may not.
  std::string_view ReadName(bool allow_colon) {
    const size_t start = pos_;
    // A label name stops at ':' as at any other character outside the name class.
    const uint8_t stop = allow_colon ? 0 : kColon;
    if (AtEnd() || (ClassOf(s_[pos_]) & (kNameStart | stop)) != kNameStart) return {};
    ++pos_;
    while (!AtEnd() && (ClassOf(s_[pos_]) & (kNameChar | stop)) == kNameChar) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  std::string_view ReadToken() {
    const size_t start = pos_;
    while (!AtEnd() && !IsBlank(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // A double-quoted label value with the escapes \\ \" \n; the opening quote is current. Without
  // escapes the value is a view into the line; with them it is unescaped onto the end of
  // `scratch`, which must have room for the whole line so that earlier views stay valid.
  bool ReadQuoted(std::string& scratch, std::string_view* out, const char** error) {
    Skip();
    const size_t start = pos_;
    // One pass to the first quote or backslash: values are short, and two searches (quote, then
    // backslash before it) cost two library calls per label.
    size_t stop = start;
    while (stop < s_.size() && s_[stop] != '"' && s_[stop] != '\\') ++stop;
    if (stop < s_.size() && s_[stop] == '"') {
      *out = s_.substr(start, stop - start);
      pos_ = stop + 1;
      return true;
    }
    const size_t begin = scratch.size();
    while (!AtEnd()) {
      const char c = s_[pos_++];
      if (c == '"') {
        *out = std::string_view(scratch).substr(begin);
        return true;
      }
      if (c != '\\') {
        scratch.push_back(c);
        continue;
      }
      if (AtEnd()) break;
      const char e = s_[pos_++];
      if (e == '\\' || e == '"') {
        scratch.push_back(e);
      } else if (e == 'n') {
        scratch.push_back('\n');
      } else {
        *error = "invalid escape sequence in label value";
        return false;
      }
    }
    *error = "unterminated label value";
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<double> ParseFloatValue(std::string_view t) {
  if (t.empty()) return std::nullopt;
  bool negative = false;
  if (t[0] == '+' || t[0] == '-') {
    negative = t[0] == '-';
    t.remove_prefix(1);
    if (t.empty() || t[0] == '+' || t[0] == '-') return std::nullopt;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (end != t.data() + t.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Not an error in the format: Go yields ±Inf or 0 there, as strtod does (from_chars does not).
    v = std::strtod(std::string(t).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -v : v;
}

namespace {

std::optional<int64_t> ParseTimestamp(std::string_view t) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<MetricType> ParseType(std::string_view t) {
  if (t == "counter") return MetricType::kCounter;
  if (t == "gauge") return MetricType::kGauge;
  if (t == "histogram") return MetricType::kHistogram;
  if (t == "summary") return MetricType::kSummary;
  if (t == "untyped") return MetricType::kUntyped;
  return std::nullopt;
}

std::string UnescapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == 'n')) {
      out.push_back(text[i + 1] == 'n' ? '\n' : '\\');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

class Parser {
 public:
  using Sink = std::function<void(const SampleView&)>;
  Parser(ParsedText& out, const ParseLimits& limits, const Sink& sink)
      : out_(out), limits_(limits), sink_(sink) {}

  // Returns false when a cap says to stop.
  bool Line(std::string_view line, size_t number) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line_bytes) return Fail(number, "line longer than the limit");
    LineReader r(line);
    r.SkipBlanks();
    if (r.AtEnd()) return true;
    if (r.Peek() == '#') return Comment(r, number);
    return Sample(r, number, line);
  }

 private:
  bool Fail(size_t number, std::string_view reason) {
    ++out_.malformed_lines;
    if (out_.errors.size() < limits_.max_errors) {
      out_.errors.push_back("line " + std::to_string(number) + ": " + std::string(reason));
    }
    return true;
  }

  // The family's index, created on first mention.
  size_t Family(std::string_view name) {
    if (const auto it = out_.family_index.find(name); it != out_.family_index.end()) {
      return it->second;
    }
    const size_t index = out_.families.size();
    out_.family_index.emplace(std::string(name), index);
    out_.families.push_back({.name = std::string(name)});
    seen_.push_back(0);
    return index;
  }

  bool Comment(LineReader& r, size_t number) {
    r.Skip();
    r.SkipBlanks();
    const std::string_view keyword = r.ReadToken();
    if (keyword != "HELP" && keyword != "TYPE") return true;  // a plain comment
    if (r.SkipBlanks() == 0) {
      return Fail(number, "missing metric name after # " + std::string(keyword));
    }
    const std::string_view name = r.ReadName(true);
    if (name.empty() || (!r.AtEnd() && !IsBlank(r.Peek()))) {
      return Fail(number, "invalid metric name in # " + std::string(keyword));
    }
    if (keyword == "HELP") {
      r.SkipBlanks();
      const size_t f = Family(name);
      if (seen_[f] & kSeenHelp) return Fail(number, "second HELP line for " + std::string(name));
      seen_[f] |= kSeenHelp;
      out_.families[f].help = UnescapeHelp(r.Rest());
      return true;
    }
    r.SkipBlanks();
    const std::optional<MetricType> type = ParseType(r.ReadToken());
    r.SkipBlanks();
    if (!type || !r.AtEnd()) return Fail(number, "unknown metric type for " + std::string(name));
    const size_t f = Family(name);
    if (seen_[f] & kSeenType) return Fail(number, "second TYPE line for " + std::string(name));
    seen_[f] |= kSeenType;
    out_.families[f].type = *type;
    return true;
  }

  bool Sample(LineReader& r, size_t number, std::string_view line) {
    if (samples_ >= limits_.max_samples) {
      out_.truncated = true;
      return false;
    }
    SampleView s;
    const size_t series_start = r.Position();
    s.name = r.ReadName(true);
    if (s.name.empty()) return Fail(number, "invalid metric name");
    s.series = s.name;
    // Unescaped label values never outgrow the line, so the buffer does not move under the views.
    scratch_.clear();
    scratch_.reserve(line.size());
    labels_.clear();
    // A bare name needs a blank before the value; after "}" the value may follow at once.
    bool separated = r.SkipBlanks() > 0;
    if (r.Peek() == '{') {
      r.Skip();
      if (const char* error = Labels(r)) return Fail(number, error);
      s.series = line.substr(series_start, r.Position() - series_start);
      r.SkipBlanks();
      separated = true;
    }
    if (r.AtEnd()) return Fail(number, "missing sample value");
    if (!separated) return Fail(number, "invalid character after name");
    const std::optional<double> value = ParseFloatValue(r.ReadToken());
    if (!value) return Fail(number, "invalid sample value");
    s.value = *value;
    if (r.SkipBlanks() > 0 && !r.AtEnd()) {
      s.timestamp_ms = ParseTimestamp(r.ReadToken());
      if (!s.timestamp_ms) return Fail(number, "invalid timestamp");
      r.SkipBlanks();
    }
    if (!r.AtEnd()) return Fail(number, "unexpected text after the sample");
    s.labels = labels_;
    ++samples_;
    sink_(s);
    return true;
  }

  // Reads `name="value", ...}` into labels_; returns an error or nullptr.
  const char* Labels(LineReader& r) {
    while (true) {
      r.SkipBlanks();
      if (r.Peek() == '}') {
        r.Skip();
        return nullptr;
      }
      const std::string_view name = r.ReadName(false);
      if (name.empty()) return "invalid label name";
      r.SkipBlanks();
      if (r.Peek() != '=') return "expected '=' after label name";
      r.Skip();
      r.SkipBlanks();
      if (r.Peek() != '"') return "expected '\"' to open a label value";
      std::string_view value;
      const char* error = nullptr;
      if (!r.ReadQuoted(scratch_, &value, &error)) return error;
      for (const LabelView& l : labels_) {
        if (l.name == name) return "duplicate label name";
      }
      if (labels_.size() >= limits_.max_labels) return "more labels than the limit";
      labels_.push_back({name, value});
      r.SkipBlanks();
      if (r.Peek() == ',') {
        r.Skip();
      } else if (r.Peek() != '}') {
        return "expected ',' or '}' after a label value";
      }
    }
  }

  ParsedText& out_;
  const ParseLimits& limits_;
  const Sink& sink_;
  size_t samples_ = 0;
  std::vector<LabelView> labels_;  // the current sample's, reused
  std::string scratch_;            // its unescaped label values, reused
  // Per family (index into out_.families): which of its HELP and TYPE lines were read.
  static constexpr uint8_t kSeenHelp = 1, kSeenType = 2;
  std::vector<uint8_t> seen_;
};

}  // namespace

std::string_view LabelValue(const Labels& labels, std::string_view name) {
  for (const auto& [n, v] : labels) {
    if (n == name) return v;
  }
  return {};
}

std::string_view LabelValue(std::span<const LabelView> labels, std::string_view name) {
  for (const LabelView& l : labels) {
    if (l.name == name) return l.value;
  }
  return {};
}

const TextFamily* ParsedText::FamilyOf(const TextSample& sample) const {
  if (auto it = family_index.find(sample.name); it != family_index.end()) {
    return &families[it->second];
  }
  const std::string_view name = sample.name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (!name.ends_with(suffix)) continue;
    auto it = family_index.find(name.substr(0, name.size() - suffix.size()));
    if (it == family_index.end()) continue;
    const TextFamily& f = families[it->second];
    const bool histogram = f.type == MetricType::kHistogram;
    if (histogram || (f.type == MetricType::kSummary && suffix != "_bucket")) return &f;
  }
  return nullptr;
}

ParsedText StreamPrometheusText(std::string_view text, const ParseLimits& limits,
                                const std::function<void(const SampleView&)>& on_sample) {
  ParsedText out;
  Parser parser(out, limits, on_sample);
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (!parser.Line(text.substr(start, end - start), ++number)) break;
    start = end + 1;
  }
  return out;
}

ParsedText ParsePrometheusText(std::string_view text, const ParseLimits& limits) {
  std::vector<TextSample> samples;
  ParsedText out = StreamPrometheusText(text, limits, [&samples](const SampleView& v) {
    TextSample& s = samples.emplace_back();
    s.name = v.name;
    s.labels.reserve(v.labels.size());
    for (const LabelView& l : v.labels) s.labels.emplace_back(l.name, l.value);
    s.value = v.value;
    s.timestamp_ms = v.timestamp_ms;
  });
  out.samples = std::move(samples);
  return out;
}

}  // namespace recommender::input
