// Prometheus text exposition as the recommender's scrape source reads an exporter's /metrics.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "recommender/input/prometheus_text.h"
#include "recommender/input/scrape_source.h"
#include "tests/fuzz/fuzz_check.h"

namespace input = recommender::input;

namespace {

std::string_view TypeName(input::MetricType type) {
  switch (type) {
    case input::MetricType::kCounter:
      return "counter";
    case input::MetricType::kGauge:
      return "gauge";
    case input::MetricType::kHistogram:
      return "histogram";
    case input::MetricType::kSummary:
      return "summary";
    case input::MetricType::kUntyped:
      break;
  }
  return "untyped";
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The parsed text written back in the exposition format.
std::string Write(const input::ParsedText& parsed) {
  std::string out;
  for (const input::TextFamily& f : parsed.families) {
    out += "# TYPE " + f.name + " " + std::string(TypeName(f.type)) + "\n";
    if (f.help.empty()) continue;
    out += "# HELP " + f.name + " ";
    for (const char c : f.help) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    // A final '\r' of the help survives only if the line ending strips another one.
    out += f.help.back() == '\r' ? "\r\n" : "\n";
  }
  for (const input::TextSample& s : parsed.samples) {
    out += s.name;
    if (!s.labels.empty()) {
      out += '{';
      for (const auto& [name, value] : s.labels) {
        out += name + "=\"";
        for (const char c : value) {
          if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
          } else if (c == '\n') {
            out += "\\n";
          } else {
            out += c;
          }
        }
        out += "\",";
      }
      out.back() = '}';
    }
    out += ' ' + FormatValue(s.value);
    if (s.timestamp_ms) out += ' ' + std::to_string(*s.timestamp_ms);
    out += '\n';
  }
  return out;
}

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool SameSample(const input::TextSample& a, const input::TextSample& b) {
  return a.name == b.name && a.labels == b.labels && SameValue(a.value, b.value) &&
         a.timestamp_ms == b.timestamp_ms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const input::ParseLimits limits = input::ScrapeOptions{}.limits;
  const input::ParsedText parsed = input::ParsePrometheusText(text, limits);

  QL_FUZZ_CHECK(parsed.samples.size() <= limits.max_samples);
  QL_FUZZ_CHECK(parsed.errors.size() <= limits.max_errors);
  QL_FUZZ_CHECK(parsed.errors.size() <= parsed.malformed_lines);
  QL_FUZZ_CHECK(parsed.family_index.size() == parsed.families.size());
  for (size_t i = 0; i < parsed.families.size(); ++i) {
    QL_FUZZ_CHECK(parsed.family_index.at(parsed.families[i].name) == i);
  }
  for (const input::TextSample& s : parsed.samples) {
    QL_FUZZ_CHECK(!s.name.empty());
    QL_FUZZ_CHECK(s.labels.size() <= limits.max_labels);
    if (const input::TextFamily* f = parsed.FamilyOf(s)) QL_FUZZ_CHECK(s.name.starts_with(f->name));
  }

  // What was read, written back, reads the same and nothing else.
  input::ParseLimits roomy = limits;
  roomy.max_line_bytes = SIZE_MAX;
  const input::ParsedText again = input::ParsePrometheusText(Write(parsed), roomy);
  QL_FUZZ_CHECK(again.malformed_lines == 0);
  QL_FUZZ_CHECK(again.samples.size() == parsed.samples.size());
  for (size_t i = 0; i < again.samples.size(); ++i) {
    QL_FUZZ_CHECK(SameSample(again.samples[i], parsed.samples[i]));
  }
  QL_FUZZ_CHECK(again.families.size() == parsed.families.size());
  for (size_t i = 0; i < again.families.size(); ++i) {
    const input::TextFamily& a = again.families[i];
    const input::TextFamily& b = parsed.families[i];
    QL_FUZZ_CHECK(a.name == b.name && a.type == b.type && a.help == b.help);
  }

  // A sample cap stops the parse after a prefix of the same samples.
  input::ParseLimits tight = limits;
  tight.max_samples = 2;
  const input::ParsedText capped = input::ParsePrometheusText(text, tight);
  QL_FUZZ_CHECK(capped.samples.size() <= 2);
  QL_FUZZ_CHECK(capped.truncated || parsed.samples.size() <= 2);
  for (size_t i = 0; i < capped.samples.size(); ++i) {
    QL_FUZZ_CHECK(SameSample(capped.samples[i], parsed.samples[i]));
  }

  // The scrape source turns two scrapes of the text into observations (rates, aggregates).
  const std::string body(text);
  input::ScrapeSource source(
      {"http://exporter:9464/metrics"},
      [&body](const std::string&) {
        return common::HttpResult{.status = 200, .body = body, .error = {}};
      },
      input::ScrapeOptions{});
  const common::TimePoint t0{std::chrono::seconds{1'800'000'000}};
  (void)source.Fetch(t0);
  (void)source.Fetch(t0 + std::chrono::seconds{15});
  return 0;
}
