#pragma once

#include <cstdint>
#include <string_view>

namespace exporter::spans {

// Where a span's adjusted count (the number of requests it stands for, 1/p under head sampling
// at probability p) came from.
enum class SamplingMethod : uint8_t {
  kNone = 0,       // the span says nothing: the trace's root count or the configured default
  kOtelThreshold,  // tracestate ot=th:<hex> (OTEP 235)
  kOtelPValue,     // tracestate ot=p:<n> (OTEP 168)
  kJaeger,         // Jaeger sampler.type=probabilistic with sampler.param
  kUnknown,        // sampled with no fixed probability (rate limiting) or a malformed value
};

// The sampling a span declares. adjusted_count > 0 only for the known methods.
struct Sampling {
  SamplingMethod method = SamplingMethod::kNone;
  double adjusted_count = 0;
  bool known() const { return adjusted_count > 0; }
};

// 2^56: OTEP 235 thresholds are 56-bit.
inline constexpr double kThresholdRange = 72057594037927936.0;

// The OTEP 235 threshold value after "th:": 1 to 14 hex digits, right-padded with zeros to 14
// (a 56-bit rejection threshold T); p = 1 - T / 2^56. Anything else is kUnknown.
Sampling ParseThreshold(std::string_view hex);

// The OTEP 168 p-value after "p:": a decimal 0..62 giving p = 2^-n; 63 (never sampled) and
// anything else is kUnknown.
Sampling ParsePValue(std::string_view digits);

// A W3C tracestate header value ("ot=th:c;rv:...,vendor=x"): the `ot` list member's `th` sub-key,
// else its `p` sub-key. List members are separated by commas with optional spaces and tabs
// around them; sub-keys of `ot` by semicolons. The first `ot` member counts (W3C forbids
// duplicates). kNone when there is no `ot` member or it carries neither sub-key.
Sampling ParseTraceState(std::string_view tracestate);

// A Jaeger root span's sampler.type and sampler.param tag values: "probabilistic" with a
// probability in (0, 1] is known; other sampler types (ratelimiting, lowerbound) and bad params
// are kUnknown; "const" sampled everything (count 1). kNone when the type is empty.
Sampling ParseJaegerSampler(std::string_view type, double param);

// "ot.th", "ot.p", "jaeger", "default", "unknown": the status page's name of a method.
std::string_view SamplingMethodName(SamplingMethod method);

}  // namespace exporter::spans
