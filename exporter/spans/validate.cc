#include "exporter/spans/validate.h"

namespace exporter::spans {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7: no overlongs, surrogates
// or values above U+10FFFF), 0 when there is none; `cp` receives its code point.
size_t SequenceLength(std::string_view s, size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  cp = (cp << 6) | (b1 & 0x3F);
  for (size_t k = 2; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (!IsContinuation(b)) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

bool IsControl(uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0); }

}  // namespace

std::string_view Name(SpanLabel label) {
  switch (label) {
    case SpanLabel::kService:
      return "service";
    case SpanLabel::kOperation:
      return "operation";
    case SpanLabel::kInstance:
      return "instance";
    case SpanLabel::kNamespace:
      return "namespace";
  }
  return "";
}

std::string_view Name(LabelFix fix) {
  switch (fix) {
    case LabelFix::kTruncated:
      return "truncated";
    case LabelFix::kControlCharacter:
      return "control_character";
    case LabelFix::kInvalidUtf8:
      return "invalid_utf8";
  }
  return "";
}

std::string_view Name(SpanDrop drop) {
  switch (drop) {
    case SpanDrop::kEndBeforeStart:
      return "end_before_start";
    case SpanDrop::kDurationTooLong:
      return "duration_too_long";
    case SpanDrop::kStartTooOld:
      return "start_too_old";
  }
  return "";
}

uint64_t ValidationCounts::TotalDropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

std::string_view SanitizeLabel(std::string_view value, size_t max_bytes, std::string& scratch,
                               LabelFixes& fixes) {
  // First pass: find the first code point that must be replaced, cutting at max_bytes on the way.
  // Only max_bytes of a huge value are ever looked at.
  size_t i = 0;
  uint32_t cp = 0;
  size_t len = 0;
  while (i < value.size()) {
    len = SequenceLength(value, i, cp);
    if (len == 0 || IsControl(cp)) break;
    if (i + len > max_bytes) {
      fixes |= Bit(LabelFix::kTruncated);
      return value.substr(0, i);
    }
    i += len;
  }
  if (i == value.size()) return value;

  // Second pass: copy, replacing from the first bad code point on.
  scratch.assign(value.substr(0, i));
  while (i < value.size()) {
    len = SequenceLength(value, i, cp);
    std::string_view out = value.substr(i, len);
    std::optional<LabelFix> fix;
    if (len == 0) {
      fix = LabelFix::kInvalidUtf8;
      len = 1;  // each stray byte becomes one replacement character
    } else if (IsControl(cp)) {
      fix = LabelFix::kControlCharacter;
    }
    if (fix) out = kReplacement;
    if (scratch.size() + out.size() > max_bytes) {
      fixes |= Bit(LabelFix::kTruncated);
      break;
    }
    if (fix) fixes |= Bit(*fix);
    scratch.append(out);
    i += len;
  }
  return scratch;
}

ValidationCounts ValidateSpans(SpanBatch& batch, const SpanLimits& limits,
                               std::optional<int64_t> received_unix_nano) {
  ValidationCounts counts;
  std::vector<Span>& spans = batch.mutable_spans();

  size_t kept = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    std::optional<SpanDrop> drop;
    if (s.end_unix_nano < s.start_unix_nano) {
      drop = SpanDrop::kEndBeforeStart;
    } else if (static_cast<uint64_t>(s.end_unix_nano) - static_cast<uint64_t>(s.start_unix_nano) >
               static_cast<uint64_t>(limits.max_duration_nano)) {
      drop = SpanDrop::kDurationTooLong;
    } else if (received_unix_nano &&
               s.start_unix_nano<*received_unix_nano&& static_cast<uint64_t>(*received_unix_nano) -
                                 static_cast<uint64_t>(
                                     s.start_unix_nano)> static_cast<uint64_t>(limits
                                                                                   .max_age_nano)) {
      drop = SpanDrop::kStartTooOld;
    }
    if (drop) {
      ++counts.dropped[static_cast<size_t>(*drop)];
      continue;
    }
    if (kept != i) spans[kept] = s;
    ++kept;
  }
  spans.resize(kept);

  // Spans of one resource share their resource strings (same arena view), so one-entry caches per
  // label skip rescanning them.
  struct Cached {
    std::string_view in, out;
    LabelFixes fixes = 0;
  };
  std::array<Cached, kSpanLabels> cache{};
  std::string scratch;
  auto sanitize = [&](std::string_view& field, SpanLabel label) {
    Cached& c = cache[static_cast<size_t>(label)];
    if (field.data() != c.in.data() || field.size() != c.in.size()) {
      LabelFixes fixes = 0;
      std::string_view out = SanitizeLabel(field, limits.max_label_bytes, scratch, fixes);
      // A repaired copy lives in scratch until it is stored with the batch.
      if (!out.empty() && out.data() == scratch.data()) out = batch.Store(out);
      c = {field, out, fixes};
    }
    field = c.out;
    for (size_t f = 0; f < kLabelFixes; ++f) {
      if (c.fixes & Bit(static_cast<LabelFix>(f))) ++counts.fixed[static_cast<size_t>(label)][f];
    }
  };
  for (Span& s : spans) {
    sanitize(s.service, SpanLabel::kService);
    sanitize(s.operation, SpanLabel::kOperation);
    sanitize(s.instance, SpanLabel::kInstance);
    sanitize(s.k8s_namespace, SpanLabel::kNamespace);
  }
  return counts;
}

}  // namespace exporter::spans
