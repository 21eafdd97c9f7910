#include "recommender/input/prometheus_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "common/text_serializer.h"
#include "exporter/exposition/state_collectable.h"
#include "exporter/loop.h"
#include "exporter/sources/replay.h"
#include "exporter/sources/source_metrics.h"
#include "prometheus/registry.h"

namespace recommender::input {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// What the exporter serves at /metrics after replaying the three-trace fixture, rendered the way
// its /metrics handler renders it: the registry's families, then the state snapshot's.
std::string ExporterMetricsText() {
  common::SystemClock clock;
  prometheus::Registry registry;
  exporter::sources::SourceMetrics source_metrics(registry);
  exporter::ExporterLoop loop({}, {}, clock);
  const auto replayed = exporter::sources::ReplayFile(
      QL_SOURCE_DIR "/tests/fixtures/replay/jaeger_v1_three_traces.json", 1 << 20, loop,
      source_metrics);
  EXPECT_TRUE(replayed.ok) << replayed.error;
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  for (auto& f : exporter::exposition::StateFamilies(*loop.Snapshot(false))) {
    families.push_back(std::move(f));
  }
  std::string text;
  common::AppendText(families, text);
  return text;
}

double Value(const ParsedText& p, std::string_view name, const Labels& want) {
  for (const TextSample& s : p.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) match = match && LabelValue(s.labels, k) == v;
    if (match) return s.value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

TEST(PrometheusTextTest, ParsesRealExporterOutputWithoutErrors) {
  const std::string text = ExporterMetricsText();
  const ParsedText p = ParsePrometheusText(text);
  EXPECT_EQ(p.malformed_lines, 0u) << (p.errors.empty() ? "" : p.errors.front());
  EXPECT_FALSE(p.truncated);

  EXPECT_EQ(Value(p, "queuelens_requests_total",
                  {{"namespace", "shop"}, {"service", "cart"}, {"operation", "Get"}}),
            3);
  EXPECT_DOUBLE_EQ(Value(p, "queuelens_exclusive_duration_seconds_sum",
                         {{"service", "gateway"}, {"operation", "GET /cart"}}),
                   0.024);
  EXPECT_EQ(
      Value(p, "queuelens_request_duration_seconds_bucket", {{"service", "cart"}, {"le", "0.025"}}),
      3);
  EXPECT_EQ(
      Value(p, "queuelens_request_duration_seconds_bucket", {{"service", "cart"}, {"le", "+Inf"}}),
      3);
  EXPECT_EQ(Value(p, "queuelens_instance_requests_total", {{"instance", "cart-0"}}), 2);
  EXPECT_EQ(
      Value(p, "queuelens_service_latency_seconds", {{"service", "gateway"}, {"quantile", "0.99"}}),
      0.02);

  // Every sample is attributed to a family with the type the exporter declared.
  std::map<std::string, MetricType> types;
  for (const TextSample& s : p.samples) {
    const TextFamily* f = p.FamilyOf(s);
    ASSERT_NE(f, nullptr) << s.name;
    types[f->name] = f->type;
  }
  EXPECT_EQ(types.at("queuelens_request_duration_seconds"), MetricType::kHistogram);
  EXPECT_EQ(types.at("queuelens_service_latency_seconds"), MetricType::kSummary);
  EXPECT_EQ(types.at("queuelens_requests_total"), MetricType::kCounter);
  EXPECT_EQ(types.at("queuelens_queue_length"), MetricType::kGauge);
  for (const TextFamily& f : p.families) EXPECT_FALSE(f.help.empty()) << f.name;
}

TEST(PrometheusTextTest, ReadsHelpTypeLabelsEscapesAndTimestamps) {
  const ParsedText p = ParsePrometheusText(
      "# A plain comment\n"
      "# HELP http_requests_total The total \\\\ number\\nof requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{ method = \"get\" , path=\"C:\\\\dir\\\\\" , q=\"say \\\"hi\\\"\\n\" , "
      "} 3\n"
      "\n"
      "   metric_without_timestamp_and_labels 12.47\r\n"
      "rpc{a=\"b\"}7\n"
      "\tnegative\t-1e3\n");
  EXPECT_EQ(p.malformed_lines, 0u) << p.errors.front();
  ASSERT_EQ(p.samples.size(), 5u);
  EXPECT_EQ(p.families.front().help, "The total \\ number\nof requests.");
  EXPECT_EQ(p.samples[0].timestamp_ms, 1395066363000);
  EXPECT_THAT(p.samples[0].labels, ElementsAre(Pair("method", "post"), Pair("code", "200")));
  EXPECT_THAT(p.samples[1].labels, ElementsAre(Pair("method", "get"), Pair("path", "C:\\dir\\"),
                                               Pair("q", "say \"hi\"\n")));
  EXPECT_FALSE(p.samples[1].timestamp_ms);
  EXPECT_EQ(p.samples[2].value, 12.47);
  EXPECT_EQ(p.samples[3].value, 7);
  EXPECT_EQ(p.samples[4].value, -1000);
}

TEST(PrometheusTextTest, StreamHandsOutEachSamplesSeriesAsWritten) {
  const std::string text =
      "  a{x=\"1\", y=\"q\\\"\"} 4\n"
      "b 2 17\r\n"
      "c{} 3\n";
  std::vector<std::string> series;
  StreamPrometheusText(text, {}, [&](const SampleView& v) { series.emplace_back(v.series); });
  EXPECT_THAT(series, ElementsAre("a{x=\"1\", y=\"q\\\"\"}", "b", "c{}"));
}

TEST(PrometheusTextTest, StreamHandsOutTheSamplesParseKeeps) {
  // Several escaped values on one line: each view must still read right when the sample is handed
  // out, after the later values were unescaped too.
  const std::string text =
      "# TYPE x counter\n"
      "x{a=\"1\\\\2\",b=\"plain\",c=\"q\\\"\\n\",d=\"\\\\\"} 4 17\n"
      "bad{a=\"\\q\"} 1\n"
      "y 2\n"
      "z{only=\"one\"} 3\n";
  ParseLimits limits;
  limits.max_samples = 2;
  std::vector<TextSample> streamed;
  const ParsedText p = StreamPrometheusText(text, limits, [&](const SampleView& v) {
    TextSample& s = streamed.emplace_back();
    s.name = v.name;
    for (const LabelView& l : v.labels) s.labels.emplace_back(l.name, l.value);
    s.value = v.value;
    s.timestamp_ms = v.timestamp_ms;
    EXPECT_EQ(LabelValue(v.labels, "b"), v.name == "x" ? "plain" : "");
  });
  EXPECT_TRUE(p.samples.empty());
  EXPECT_TRUE(p.truncated);  // z is the third sample
  EXPECT_EQ(p.malformed_lines, 1u);
  ASSERT_EQ(p.families.size(), 1u);
  ASSERT_EQ(streamed.size(), 2u);
  EXPECT_THAT(streamed[0].labels, ElementsAre(Pair("a", "1\\2"), Pair("b", "plain"),
                                              Pair("c", "q\"\n"), Pair("d", "\\")));
  EXPECT_EQ(streamed[0].timestamp_ms, 17);
  EXPECT_EQ(streamed[1].name, "y");

  const ParsedText kept = ParsePrometheusText(text, limits);
  ASSERT_EQ(kept.samples.size(), streamed.size());
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(kept.samples[i].name, streamed[i].name);
    EXPECT_EQ(kept.samples[i].labels, streamed[i].labels);
    EXPECT_EQ(kept.samples[i].value, streamed[i].value);
  }
  EXPECT_EQ(kept.errors, p.errors);
}

TEST(PrometheusTextTest, ReadsSpecialValuesAndHistograms) {
  const ParsedText p = ParsePrometheusText(
      "# TYPE latency histogram\n"
      "latency_bucket{le=\"0.1\"} 2\n"
      "latency_bucket{le=\"+Inf\"} 3\n"
      "latency_sum 0.7\n"
      "latency_count 3\n"
      "a NaN\nb +Inf\nc -Inf\nd Inf\ne nan\nf 1e999\ng 1e-999\nh +5\n");
  EXPECT_EQ(p.malformed_lines, 0u) << p.errors.front();
  ASSERT_EQ(p.samples.size(), 12u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_NE(p.FamilyOf(p.samples[i]), nullptr);
    EXPECT_EQ(p.FamilyOf(p.samples[i])->name, "latency");
  }
  EXPECT_EQ(p.FamilyOf(p.samples[4]), nullptr);
  EXPECT_TRUE(std::isnan(p.samples[4].value));
  EXPECT_EQ(p.samples[5].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(p.samples[6].value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(p.samples[7].value, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(p.samples[8].value));
  EXPECT_EQ(p.samples[9].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(p.samples[10].value, 0);
  EXPECT_EQ(p.samples[11].value, 5);
}

TEST(PrometheusTextTest, SkipsEachMalformedLineAndKeepsTheRest) {
  const ParsedText p = ParsePrometheusText(
      "good 1\n"
      "{no_name=\"x\"} 1\n"          // no metric name
      "9starts_with_digit 1\n"       // invalid name
      "no_value\n"                   // value missing
      "bad_value abc\n"              // value not a number
      "bad_ts 1 12.5\n"              // fractional timestamp
      "trailing 1 2 3\n"             // text after the timestamp
      "x{a=\"1\",a=\"2\"} 1\n"       // duplicate label
      "x{a=\"unterminated} 1\n"      // unterminated value
      "x{a=\"bad \\q escape\"} 1\n"  // unknown escape
      "x{a=b} 1\n"                   // unquoted value
      "x{1a=\"b\"} 1\n"              // invalid label name
      "x{a=\"b\" c=\"d\"} 1\n"       // missing comma
      "# TYPE good sometimes\n"      // unknown type
      "# TYPE good gauge\n"
      "# TYPE good counter\n"  // second TYPE
      "also_good{le=\"0.5\"} 2\n");
  EXPECT_EQ(p.malformed_lines, 14u);
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].name, "good");
  EXPECT_EQ(p.samples[1].name, "also_good");
  ASSERT_EQ(p.errors.size(), 14u);
  EXPECT_THAT(p.errors[0], HasSubstr("line 2: invalid metric name"));
  EXPECT_THAT(p.errors[3], HasSubstr("line 5: invalid sample value"));
  EXPECT_THAT(p.errors[6], HasSubstr("duplicate label name"));
  EXPECT_THAT(p.errors[7], HasSubstr("unterminated label value"));
  EXPECT_THAT(p.errors[8], HasSubstr("invalid escape"));
  EXPECT_THAT(p.errors[13], HasSubstr("line 16: second TYPE line for good"));
}

TEST(PrometheusTextTest, CapsBoundHostileInput) {
  ParseLimits limits;
  limits.max_samples = 3;
  limits.max_line_bytes = 100;
  limits.max_labels = 2;
  limits.max_errors = 1;
  std::string text = "a 1\n" + std::string(200, 'x') + " 1\n" + "b{a=\"1\",b=\"2\",c=\"3\"} 1\n";
  for (int i = 0; i < 1000; ++i) text += "c" + std::to_string(i) + " 1\n";
  const ParsedText p = ParsePrometheusText(text, limits);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.samples.size(), 3u);
  EXPECT_EQ(p.malformed_lines, 2u);
  ASSERT_EQ(p.errors.size(), 1u);  // only the first is kept
  EXPECT_THAT(p.errors[0], HasSubstr("line 2: line longer than the limit"));
}

TEST(PrometheusTextTest, BinaryGarbageNeverCrashes) {
  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 1 << 16; ++i) {
    x = x * 1664525 + 1013904223;  // a fixed LCG: the same bytes on every run
    garbage.push_back(static_cast<char>(x >> 24));
  }
  const ParsedText p = ParsePrometheusText(garbage);
  EXPECT_GT(p.malformed_lines, 0u);
  EXPECT_TRUE(ParsePrometheusText("").samples.empty());
  EXPECT_TRUE(ParsePrometheusText("\n\n#\n# HELP\n").samples.empty());
}

TEST(PrometheusTextTest, ParseFloatValueFollowsPrometheus) {
  EXPECT_EQ(ParseFloatValue("1.5e3"), 1500);
  EXPECT_EQ(ParseFloatValue("-0.25"), -0.25);
  EXPECT_EQ(ParseFloatValue("+Inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseFloatValue("-inf"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*ParseFloatValue("NaN")));
  EXPECT_FALSE(ParseFloatValue(""));
  EXPECT_FALSE(ParseFloatValue("+"));
  EXPECT_FALSE(ParseFloatValue("--1"));
  EXPECT_FALSE(ParseFloatValue("1,5"));
  EXPECT_FALSE(ParseFloatValue("0x"));
}

}  // namespace
}  // namespace recommender::input
