#include "exporter/spans/sampling.h"

#include <charconv>
#include <cmath>

namespace exporter::spans {
namespace {

constexpr Sampling kUnknown{.method = SamplingMethod::kUnknown, .adjusted_count = 0};

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // OTEP 235 writes lowercase
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Sampling ParseThreshold(std::string_view hex) {
  constexpr size_t kMaxDigits = 14;
  if (hex.empty() || hex.size() > kMaxDigits) return kUnknown;
  uint64_t threshold = 0;
  for (const char c : hex) {
    const int d = HexDigit(c);
    if (d < 0) return kUnknown;
    threshold = (threshold << 4) | static_cast<uint64_t>(d);
  }
  threshold <<= 4 * (kMaxDigits - hex.size());
  // 2^56 - T in integers: T itself does not always fit a double's 53 bits.
  const uint64_t kept = (uint64_t{1} << 56) - threshold;
  return {.method = SamplingMethod::kOtelThreshold,
          .adjusted_count = kThresholdRange / static_cast<double>(kept)};
}

Sampling ParsePValue(std::string_view digits) {
  int n = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || n < 0 ||
      n > 62) {
    return kUnknown;
  }
  return {.method = SamplingMethod::kOtelPValue, .adjusted_count = std::ldexp(1.0, n)};
}

Sampling ParseTraceState(std::string_view tracestate) {
  while (!tracestate.empty()) {
    const size_t comma = tracestate.find(',');
    const std::string_view member = TrimOws(tracestate.substr(0, comma));
    tracestate =
        comma == std::string_view::npos ? std::string_view{} : tracestate.substr(comma + 1);
    if (!member.starts_with("ot=")) continue;
    std::string_view value = member.substr(3);
    Sampling p_value;
    while (!value.empty()) {
      const size_t semi = value.find(';');
      const std::string_view sub = value.substr(0, semi);
      value = semi == std::string_view::npos ? std::string_view{} : value.substr(semi + 1);
      if (sub.starts_with("th:")) return ParseThreshold(sub.substr(3));
      if (sub.starts_with("p:") && p_value.method == SamplingMethod::kNone) {
        p_value = ParsePValue(sub.substr(2));
      }
    }
    return p_value;  // th wins over p wherever they appear; only the first ot member counts
  }
  return {};
}

Sampling ParseJaegerSampler(std::string_view type, double param) {
  if (type.empty()) return {};
  if (type == "const") return {.method = SamplingMethod::kJaeger, .adjusted_count = 1};
  if (type == "probabilistic" && param > 0 && param <= 1) {
    return {.method = SamplingMethod::kJaeger, .adjusted_count = 1 / param};
  }
  return kUnknown;
}

std::string_view SamplingMethodName(SamplingMethod method) {
  switch (method) {
    case SamplingMethod::kOtelThreshold:
      return "ot.th";
    case SamplingMethod::kOtelPValue:
      return "ot.p";
    case SamplingMethod::kJaeger:
      return "jaeger";
    case SamplingMethod::kUnknown:
      return "unknown";
    case SamplingMethod::kNone:
      break;
  }
  return "default";
}

}  // namespace exporter::spans
