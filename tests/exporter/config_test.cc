#include "exporter/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() : flags_("queuelens-exporter", "test") { config_.Register(flags_); }

  common::FlagSet::Outcome Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "queuelens-exporter");
    return flags_.Parse(static_cast<int>(args.size()), args.data(), &error_);
  }

  ExporterConfig config_;
  common::FlagSet flags_;
  std::string error_;
};

TEST_F(ConfigTest, Defaults) {
  ASSERT_EQ(Parse({}), common::FlagSet::Outcome::kOk) << error_;
  EXPECT_EQ(config_.web_listen_address, ":8470");
  EXPECT_EQ(config_.otlp_listen_address, ":4318");
  EXPECT_EQ(config_.series_max, 10'000);
  EXPECT_EQ(config_.series_idle_timeout, minutes{5});
  EXPECT_EQ(config_.jaeger_url, "");  // no poller unless asked for
  EXPECT_EQ(config_.jaeger_api, "auto");
  EXPECT_EQ(config_.jaeger_interval, seconds{15});
  EXPECT_EQ(config_.window, seconds{60});
  EXPECT_EQ(config_.trace_wait, seconds{5});
  EXPECT_THAT(config_.replay_files, IsEmpty());
  EXPECT_THAT(config_.Validate(), IsEmpty());

  const state::StateOptions state = config_.ToStateOptions();
  EXPECT_EQ(state.max_series, 10'000u);
  EXPECT_EQ(state.series_idle, minutes{5});
  EXPECT_EQ(state.bucket_bounds, state::StateOptions{}.bucket_bounds);
  EXPECT_EQ(config_.ToOtlpOptions().max_body_bytes, size_t{16} << 20);
  EXPECT_EQ(config_.ToLoopOptions().max_queued_spans, 1'000'000u);
}

TEST_F(ConfigTest, FlagsReachTheOptions) {
  ASSERT_EQ(Parse({"--web.listen-address=127.0.0.1:9000",
                   "--otlp.listen-address=",
                   "--jaeger.url",
                   "http://jaeger:16686",
                   "--jaeger.api=v1",
                   "--jaeger.interval=30s",
                   "--jaeger.overlap=1m",
                   "--jaeger.lookback=10m",
                   "--jaeger.search-limit=50",
                   "--series.max=500",
                   "--series.idle-timeout=10m",
                   "--histogram.buckets=0.01,0.1",
                   "--histogram.buckets=1",
                   "--replay.file=a.json",
                   "--replay.file",
                   "b.pb",
                   "--otlp.max-body-bytes=4MiB",
                   "--window.length=2m",
                   "--trace.wait=250ms",
                   "--log.format=json"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(), IsEmpty());
  EXPECT_EQ(config_.web_listen_address, "127.0.0.1:9000");
  EXPECT_EQ(config_.otlp_listen_address, "");
  EXPECT_THAT(config_.replay_files, ElementsAre("a.json", "b.pb"));

  const state::StateOptions state = config_.ToStateOptions();
  EXPECT_EQ(state.max_series, 500u);
  EXPECT_EQ(state.series_idle, minutes{10});
  EXPECT_EQ(state.window, minutes{2});
  EXPECT_EQ(state.traces.wait, milliseconds{250});
  EXPECT_EQ(state.bucket_bounds, (std::vector<double>{0.01, 0.1, 1}));
  EXPECT_EQ(config_.ToOtlpOptions().max_body_bytes, size_t{4} << 20);

  const sources::JaegerPollerOptions jaeger = config_.ToJaegerOptions();
  EXPECT_EQ(jaeger.url, "http://jaeger:16686");
  EXPECT_EQ(jaeger.api, sources::JaegerApi::kV1);
  EXPECT_EQ(jaeger.interval, seconds{30});
  EXPECT_EQ(jaeger.overlap, minutes{1});
  EXPECT_EQ(jaeger.first_lookback, minutes{10});
  EXPECT_EQ(jaeger.search_limit, 50u);
}

TEST_F(ConfigTest, SpanLimitsReachTheLoopAndAreChecked) {
  ASSERT_EQ(Parse({"--span.max-label-bytes=1KiB", "--span.max-duration=10m", "--span.max-age=30m"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(), IsEmpty());
  const spans::SpanLimits limits = config_.ToLoopOptions().span_limits;
  EXPECT_EQ(limits.max_label_bytes, 1024u);
  EXPECT_EQ(limits.max_duration_nano, std::chrono::nanoseconds{minutes{10}}.count());
  EXPECT_EQ(limits.max_age_nano, std::chrono::nanoseconds{minutes{30}}.count());

  ASSERT_EQ(Parse({"--span.max-label-bytes=3", "--span.max-duration=0", "--span.max-age=1h"}),
            common::FlagSet::Outcome::kOk);
  EXPECT_THAT(config_.Validate(), UnorderedElementsAreArray({
                                      "--span.max-label-bytes must be at least 4",
                                      "--span.max-duration must be a positive duration",
                                  }));
  ASSERT_EQ(Parse({"--span.max-label-bytes=256", "--span.max-duration=2h", "--span.max-age=1h"}),
            common::FlagSet::Outcome::kOk);
  EXPECT_THAT(config_.Validate(),
              ElementsAre("--span.max-age must not be shorter than --span.max-duration"));
}

TEST_F(ConfigTest, ParseErrorsNameTheFlag) {
  EXPECT_EQ(Parse({"--series.max=lots"}), common::FlagSet::Outcome::kError);
  EXPECT_THAT(error_, HasSubstr("series.max"));
  EXPECT_EQ(Parse({"--jaeger.interval=15"}), common::FlagSet::Outcome::kError);
  EXPECT_THAT(error_, HasSubstr("jaeger.interval"));
  EXPECT_EQ(Parse({"--no-such-flag=1"}), common::FlagSet::Outcome::kError);
  EXPECT_THAT(error_, HasSubstr("no-such-flag"));
}

TEST_F(ConfigTest, ValidateListsEveryProblemAtOnce) {
  ASSERT_EQ(Parse({"--web.listen-address=", "--web.threads=0", "--series.max=0",
                   "--series.idle-timeout=0", "--window.length=0", "--window.buckets=-1",
                   "--jaeger.url=jaeger:16686", "--jaeger.api=v2", "--jaeger.interval=0",
                   "--jaeger.timeout=0", "--jaeger.search-limit=0",
                   "--queue.uncongested-quantile=1", "--sketch.relative-accuracy=0.5",
                   "--histogram.buckets=0.1,x,-1", "--trace.max-traces=0", "--log.format=xml"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(), UnorderedElementsAreArray({
                                      "--web.listen-address must not be empty",
                                      "--web.threads must be positive",
                                      "--series.max must be positive",
                                      "--series.idle-timeout must be a positive duration",
                                      "--window.length must be a positive duration",
                                      "--window.buckets must be positive",
                                      "--jaeger.url must start with http:// or https://",
                                      "--jaeger.api must be auto, v3 or v1",
                                      "--jaeger.interval must be a positive duration",
                                      "--jaeger.timeout must be a positive duration",
                                      "--jaeger.search-limit must be positive",
                                      "--queue.uncongested-quantile must be in (0, 1)",
                                      "--sketch.relative-accuracy must be in (0, 0.2]",
                                      "--histogram.buckets: \"x\" is not a positive number",
                                      "--histogram.buckets: \"-1\" is not a positive number",
                                      "--trace.max-traces must be positive",
                                      "--log.format must be text or json",
                                  }));
}

// Settings that parse but would leave the exporter broken at run time.
TEST_F(ConfigTest, ValidateCatchesSettingsThatFailLater) {
  ASSERT_EQ(Parse({"--log.level=verbose", "--histogram.buckets=0.1,inf,0.1",
                   "--jaeger.max-backoff=0", "--jaeger.lookback=5s", "--jaeger.settle=5s"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(
      config_.Validate(),
      UnorderedElementsAreArray({
          // InitLogging would throw after every other problem was reported.
          "--log.level must be trace, debug, info, warn or error",
          // +Inf is always the last bucket; a second one, or a repeated bound, makes duplicate
          // series that Prometheus rejects.
          "--histogram.buckets: \"inf\" is not a positive number",
          "--histogram.buckets: \"0.1\" is given twice",
          // A failing Jaeger would be polled with no pause at all.
          "--jaeger.max-backoff must not be shorter than --jaeger.interval",
          // The first poll's window would be empty: Jaeger rejects start >= end.
          "--jaeger.lookback must be longer than --jaeger.settle",
      }));
}

// --captain.apply writes nothing unless the kubelet's pod list can opt pods in.
TEST_F(ConfigTest, CaptainApplyIsOffByDefaultAndNeedsTheKubelet) {
  ASSERT_EQ(Parse({}), common::FlagSet::Outcome::kOk) << error_;
  EXPECT_FALSE(config_.captain_apply);
  EXPECT_FALSE(config_.ToCollectorOptions(100).kubelet_every_discovery);
  ASSERT_EQ(Parse({"--kernel.enabled", "--captain.apply", "--captain.min-cpu=0.001"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(),
              UnorderedElementsAreArray({
                  "--captain.min-cpu must be at least 0.01 (the smallest CFS quota)",
                  "--captain.apply needs --kubelet.url: only the kubelet's pod list opts pods in",
              }));
  ASSERT_EQ(Parse({"--kernel.enabled", "--captain.apply", "--captain.min-cpu=0.25",
                   "--kubelet.url=http://127.0.0.1:10255/pods"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(), IsEmpty());
  EXPECT_TRUE(config_.ToCollectorOptions(100).kubelet_every_discovery);
  const auto run = config_.ToCaptainsRun(nullptr);
  ASSERT_TRUE(run && run->apply);
  EXPECT_EQ(run->apply->min_cores, 0.25);
}

TEST_F(ConfigTest, SamplingDefaultsFileAndPerServiceFlags) {
  const std::string file = testing::TempDir() + "/sampling.yaml";
  {
    std::ofstream out(file);
    out << "services:\n  cart: 0.05\n  search: 0.5\n";
  }
  const std::string file_flag = "--sampling.file=" + file;
  ASSERT_EQ(Parse({"--sampling.default-probability=0.1", file_flag.c_str(),
                   "--sampling.service-probability=search=0.25", "--sampling.unknown=use-default"}),
            common::FlagSet::Outcome::kOk)
      << error_;
  EXPECT_THAT(config_.Validate(), IsEmpty());
  const state::StateOptions o = config_.ToStateOptions();
  EXPECT_EQ(o.sampling.default_probability, 0.1);
  EXPECT_EQ(o.sampling.service_probability.at("cart"), 0.05);
  EXPECT_EQ(o.sampling.service_probability.at("search"), 0.25);  // the flag wins
  EXPECT_TRUE(o.sampling.unknown_use_default);
  EXPECT_FALSE(ExporterConfig{}.ToStateOptions().sampling.unknown_use_default);
}

TEST_F(ConfigTest, SamplingProblems) {
  ASSERT_EQ(Parse({"--sampling.default-probability=0", "--sampling.service-probability=cart",
                   "--sampling.service-probability=x=1.5", "--sampling.unknown=drop",
                   "--sampling.file=/nonexistent/sampling.yaml"}),
            common::FlagSet::Outcome::kOk);
  const std::vector<std::string> problems = config_.Validate();
  EXPECT_THAT(problems, Contains(HasSubstr("--sampling.default-probability must be in (0, 1]")));
  EXPECT_THAT(problems, Contains(HasSubstr("\"cart\" is not service=p")));
  EXPECT_THAT(problems, Contains(HasSubstr("\"x=1.5\" is not service=p")));
  EXPECT_THAT(problems, Contains(HasSubstr("--sampling.unknown must be")));
  EXPECT_THAT(problems, Contains(HasSubstr("cannot read /nonexistent/sampling.yaml")));
}

TEST(ParseSamplingFileTest, Problems) {
  std::unordered_map<std::string, double> out;
  EXPECT_THAT(ParseSamplingFile("", out), IsEmpty());
  EXPECT_THAT(ParseSamplingFile("services: {a: 0.5, b: 2, c: x}\nother: 1\n", out),
              UnorderedElementsAreArray({"services.b: probability must be in (0, 1]",
                                         "services.c: probability must be in (0, 1]",
                                         "unknown key other"}));
  EXPECT_EQ(out.at("a"), 0.5);
  EXPECT_EQ(out.count("b"), 0u);
  EXPECT_THAT(ParseSamplingFile("[1, 2]", out), ElementsAre(HasSubstr("expected a mapping")));
  EXPECT_THAT(ParseSamplingFile("services: [", out), ElementsAre(HasSubstr("not YAML")));
}

}  // namespace
}  // namespace exporter
