#include "common/text_serializer.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/promtool.h"

namespace common {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One sample line of the text format, parsed back.
struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted
  double value = 0;
  int64_t timestamp_ms = 0;
};

struct Parsed {
  std::vector<Sample> samples;
  std::vector<std::string> types;                          // "name type"
  std::vector<std::pair<std::string, std::string>> helps;  // name, unescaped text
};

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

// A strict little parser for the lines our tests produce; any surprise fails the test.
Parsed Parse(std::string_view text) {
  Parsed parsed;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    EXPECT_NE(eol, std::string_view::npos) << "last line lacks a newline";
    if (eol == std::string_view::npos) break;
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.starts_with("# TYPE ")) {
      parsed.types.emplace_back(line.substr(7));
      continue;
    }
    if (line.starts_with("# HELP ")) {
      line.remove_prefix(7);
      const size_t space = line.find(' ');
      parsed.helps.emplace_back(std::string(line.substr(0, space)),
                                Unescape(line.substr(space + 1)));
      continue;
    }
    Sample sample;
    size_t i = line.find_first_of("{ ");
    sample.name = std::string(line.substr(0, i));
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        const size_t eq = line.find('=', i);
        std::string name(line.substr(i, eq - i));
        EXPECT_EQ(line[eq + 1], '"') << line;
        std::string raw;
        size_t j = eq + 2;
        for (; line[j] != '"'; ++j) {
          raw += line[j];
          if (line[j] == '\\') raw += line[++j];
        }
        sample.labels.emplace_back(std::move(name), Unescape(raw));
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    EXPECT_EQ(line[i], ' ') << line;
    const std::string rest(line.substr(i + 1));
    char* end = nullptr;
    sample.value = std::strtod(rest.c_str(), &end);
    EXPECT_NE(end, rest.c_str()) << line;
    if (*end == ' ') sample.timestamp_ms = std::strtoll(end + 1, &end, 10);
    EXPECT_EQ(*end, '\0') << line;
    std::sort(sample.labels.begin(), sample.labels.end());
    parsed.samples.push_back(std::move(sample));
  }
  return parsed;
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric WithLabels(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

std::vector<MetricFamily> VariedFamilies() {
  std::vector<MetricFamily> families;

  MetricFamily counter = Family("ql_spans_total", "Spans received.", MetricType::Counter);
  const double counter_values[] = {0,     1,      100000,   1e15,      123456789012345678.0,
                                   0.1,   0.3,    1e-5,     0.1 + 0.2, 2.5e-310,
                                   1e300, 4.2e21, 12345.678};
  int n = 0;
  for (double v : counter_values) {
    ClientMetric m = WithLabels({{"namespace", "hotel"},
                                 {"service", "svc-" + std::to_string(n)},
                                 {"pod", "frontend-7d9f8c-abcde"}});
    m.counter.value = v;
    if (n++ % 4 == 0) m.timestamp_ms = 1'700'000'000'123;
    counter.metric.push_back(m);
  }
  families.push_back(counter);

  MetricFamily gauge = Family("ql_queue_length", "Requests in flight.", MetricType::Gauge);
  for (double v : {kNaN, kInf, -kInf, -0.0, -3.75, 5e-324, 1.7976931348623157e308}) {
    ClientMetric m;
    m.gauge.value = v;
    gauge.metric.push_back(m);
  }
  ClientMetric escaped = WithLabels({{"path", R"(C:\dir\"quoted"\)"},
                                     {"multi", "line one\nline two"},
                                     {"utf8", "größe→ünits"},
                                     {"empty", ""}});
  escaped.gauge.value = 1;
  gauge.metric.push_back(escaped);
  families.push_back(gauge);

  MetricFamily histogram = Family("ql_latency_seconds", "Latency.", MetricType::Histogram);
  for (int i = 0; i < 3; ++i) {
    ClientMetric m = WithLabels({{"service", "s" + std::to_string(i)}, {"quote", "a\"b"}});
    uint64_t cumulative = 0;
    for (double bound : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0}) {
      cumulative += static_cast<uint64_t>(i + 1);
      m.histogram.bucket.push_back({cumulative, bound});
    }
    if (i == 2) m.histogram.bucket.push_back({cumulative + 5, kInf});
    m.histogram.sample_count = cumulative + 5;
    m.histogram.sample_sum = 12.345 * (i + 1);
    histogram.metric.push_back(m);
  }
  ClientMetric no_buckets;
  no_buckets.histogram.sample_count = 4;
  no_buckets.histogram.sample_sum = 0.5;
  histogram.metric.push_back(no_buckets);
  families.push_back(histogram);

  MetricFamily summary = Family("ql_wait_seconds", "Queue wait.", MetricType::Summary);
  ClientMetric s = WithLabels({{"service", "cart"}});
  s.summary.sample_count = 1000;
  s.summary.sample_sum = 42.125;
  s.summary.quantile = {{0.5, 0.012}, {0.9, 0.3}, {0.99, kNaN}};
  summary.metric.push_back(s);
  summary.metric.push_back(ClientMetric{});
  families.push_back(summary);

  MetricFamily untyped = Family("ql_build_info", "Build information.", MetricType::Untyped);
  ClientMetric u = WithLabels({{"version", "0.1.0"}, {"revision", "abc123"}});
  u.untyped.value = 1;
  untyped.metric.push_back(u);
  families.push_back(untyped);

  families.push_back(Family("ql_nothing_yet_total", "No series yet.", MetricType::Counter));
  return families;
}

bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  // prometheus-cpp rounds to 16 significant digits; we do not.
  return std::abs(a - b) <= 1e-15 * std::max(std::abs(a), std::abs(b));
}

void SortSamples(std::vector<Sample>& samples) {
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) {
    return std::tie(a.name, a.labels) < std::tie(b.name, b.labels);
  });
}

TEST(TextSerializerTest, SameSamplesAsPrometheusCpp) {
  const std::vector<MetricFamily> families = VariedFamilies();
  std::string ours;
  AppendText(families, ours);
  const std::string theirs = prometheus::TextSerializer().Serialize(families);

  Parsed a = Parse(ours);
  Parsed b = Parse(theirs);
  EXPECT_EQ(a.types, b.types);
  ASSERT_EQ(a.samples.size(), b.samples.size());
  // Same lines in the same order...
  for (size_t i = 0; i < a.samples.size(); ++i) {
    EXPECT_EQ(a.samples[i].name, b.samples[i].name) << i;
  }
  // ...and the same (name, labels, value, timestamp) content.
  SortSamples(a.samples);
  SortSamples(b.samples);
  for (size_t i = 0; i < a.samples.size(); ++i) {
    const Sample& x = a.samples[i];
    const Sample& y = b.samples[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.labels, y.labels) << x.name;
    EXPECT_TRUE(SameValue(x.value, y.value)) << x.name << ": " << x.value << " vs " << y.value;
    EXPECT_EQ(x.timestamp_ms, y.timestamp_ms) << x.name;
  }
}

TEST(TextSerializerTest, ValuesRoundTripExactly) {
  const std::vector<MetricFamily> families = VariedFamilies();
  std::string text;
  AppendText(families, text);
  const Parsed parsed = Parse(text);
  std::vector<double> written;
  for (const ClientMetric& m : families[0].metric) written.push_back(m.counter.value);
  ASSERT_GE(parsed.samples.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(parsed.samples[i].value, written[i]) << i;
  }
}

TEST(TextSerializerTest, ExactText) {
  std::vector<MetricFamily> families;
  MetricFamily c = Family("ql_a_total", "Line one\nback\\slash", MetricType::Counter);
  ClientMetric m = WithLabels({{"x", "q\"b\\n\nl"}});
  m.counter.value = 100000;
  c.metric.push_back(m);
  families.push_back(c);
  MetricFamily h = Family("ql_h_seconds", "", MetricType::Histogram);
  ClientMetric hm;
  hm.histogram.sample_count = 3;
  hm.histogram.sample_sum = 0.1 + 0.2;
  hm.histogram.bucket = {{1, 0.25}, {2, 1}};
  hm.timestamp_ms = -5;
  h.metric.push_back(hm);
  families.push_back(h);
  MetricFamily g = Family("ql_g", "", MetricType::Gauge);
  for (double v : {kNaN, -kInf, 1e-5}) {
    ClientMetric gm;
    gm.gauge.value = v;
    g.metric.push_back(gm);
  }
  families.push_back(g);
  MetricFamily s = Family("ql_s", "", MetricType::Summary);
  ClientMetric sm = WithLabels({{"k", "v"}});
  sm.summary.sample_count = 2;
  sm.summary.sample_sum = 1.5;
  sm.summary.quantile = {{0.99, 1.25}};
  s.metric.push_back(sm);
  families.push_back(s);
  families.push_back(Family("ql_u", "", MetricType::Untyped));

  std::string out = "previous\n";
  AppendText(families, out);
  EXPECT_EQ(out, R"(previous
# HELP ql_a_total Line one\nback\\slash
# TYPE ql_a_total counter
ql_a_total{x="q\"b\\n\nl"} 100000
# TYPE ql_h_seconds histogram
ql_h_seconds_count 3 -5
ql_h_seconds_sum 0.30000000000000004 -5
ql_h_seconds_bucket{le="0.25"} 1 -5
ql_h_seconds_bucket{le="1"} 2 -5
ql_h_seconds_bucket{le="+Inf"} 3 -5
# TYPE ql_g gauge
ql_g NaN
ql_g -Inf
ql_g 1e-05
# TYPE ql_s summary
ql_s_count{k="v"} 2
ql_s_sum{k="v"} 1.5
ql_s{k="v",quantile="0.99"} 1.25
# TYPE ql_u untyped
)");
}

// Non-integral values are written exactly as std::to_chars' shortest form, whichever path
// formats them; whole numbers as plain integers.
TEST(TextSerializerTest, NumbersAreShortestRoundTrip) {
  std::mt19937_64 rng(11);
  std::vector<double> values = {0.1,       0.2 + 0.1, 1e-3,    0.0009999, 4194303.999999999,
                                4194304.5, 1e-10,     123.456, 5e-324,    -0.5,
                                -2.75e-3,  1e22,      1e21,    0.1 * 3,   2.5e15};
  for (int i = 0; i < 20'000; ++i) {
    const double digits = static_cast<double>(rng() % 100'000'000);
    values.push_back(digits / std::pow(10.0, static_cast<double>(rng() % 12)));  // short decimals
    values.push_back(std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 80)));
  }
  MetricFamily f = Family("ql_x", "", MetricType::Gauge);
  for (double v : values) {
    ClientMetric m;
    m.gauge.value = v;
    f.metric.push_back(m);
  }
  std::string text;
  AppendText({f}, text);
  std::string_view rest = text;
  rest.remove_prefix(rest.find('\n') + 1);  // the TYPE line
  for (double v : values) {
    const size_t eol = rest.find('\n');
    const std::string_view token = rest.substr(5, eol - 5);  // after "ql_x "
    rest.remove_prefix(eol + 1);
    char expected[64];
    const bool whole = std::abs(v) < 0x1p53 && v == std::trunc(v);
    const char* end = whole ? std::to_chars(expected, expected + 64, static_cast<int64_t>(v)).ptr
                            : std::to_chars(expected, expected + 64, v).ptr;
    ASSERT_EQ(token, std::string_view(expected, static_cast<size_t>(end - expected))) << v;
  }
}

// Special characters at every position around the 8-byte blocks of the fast path.
TEST(TextSerializerTest, EscapingRoundTripsAnyLabelValue) {
  std::mt19937 rng(5);
  const std::string alphabet = "ab\\\"\nz ";
  MetricFamily f = Family("ql_x", "", MetricType::Gauge);
  for (int i = 0; i < 500; ++i) {
    std::string value(rng() % 40, 'a');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    f.metric.push_back(WithLabels({{"v", value}}));
  }
  std::string text;
  AppendText({f}, text);
  const Parsed parsed = Parse(text);
  ASSERT_EQ(parsed.samples.size(), f.metric.size());
  for (size_t i = 0; i < f.metric.size(); ++i) {
    EXPECT_EQ(parsed.samples[i].labels[0].second, f.metric[i].label[0].value);
  }
}

TEST(TextSerializerTest, ReusedBufferAndLargeOutput) {
  MetricFamily f = Family("ql_big_total", "Many series.", MetricType::Counter);
  for (int i = 0; i < 20'000; ++i) {
    ClientMetric m = WithLabels({{"id", std::to_string(i)}});
    m.counter.value = i;
    f.metric.push_back(m);
  }
  std::string out;
  AppendText({f}, out);
  const std::string first = out;
  out.clear();
  AppendText({f}, out);
  EXPECT_EQ(out, first);
  EXPECT_EQ(out, prometheus::TextSerializer().Serialize({f}));  // integers print identically
}

TEST(TextSerializerTest, PromtoolAcceptsOutput) {
  std::vector<MetricFamily> families = VariedFamilies();
  std::string text;
  AppendText(families, text);
  const auto r = tests::PromtoolCheckMetrics(text, "serializer");
  ASSERT_TRUE(r) << "promtool is not on PATH (Debian package prometheus)";
  EXPECT_EQ(r->exit_code, 0) << r->output << "\n--- input ---\n" << text;
  EXPECT_EQ(r->output, "");
}

}  // namespace
}  // namespace common
