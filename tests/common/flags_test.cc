#include "common/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace common {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Every kind of flag with a non-trivial default.
struct Config {
  std::string url = "http://jaeger:16686";
  std::vector<std::string> services = {"frontend"};
  int64_t replicas = 3;
  double target = 0.05;
  bool gzip = true;
  bool verbose = false;
  Duration interval = seconds{15};
  size_t max_body = 4 << 20;
};

class FlagsTest : public testing::Test {
 protected:
  FlagsTest() : flags_("queuelens-exporter", "Derives queueing signals from traces.") {
    flags_.String("jaeger.url", &config_.url, "Jaeger query API base URL.");
    flags_.StringList("service", &config_.services, "Service to track.");
    flags_.Int("replicas", &config_.replicas, "Replica count.");
    flags_.Double("target", &config_.target, "Target throttling ratio.");
    flags_.Bool("gzip", &config_.gzip, "Compress | large responses.");
    flags_.Bool("verbose", &config_.verbose, "Log more.");
    flags_.Duration("interval", &config_.interval, "Poll interval.");
    flags_.Bytes("max-body", &config_.max_body, "Largest accepted body.");
  }

  FlagSet::Outcome Run(std::vector<const char*> args) {
    args.insert(args.begin(), "queuelens-exporter");
    return flags_.Parse(static_cast<int>(args.size()), args.data(), &error_);
  }

  Config config_;
  FlagSet flags_;
  std::string error_;
};

TEST_F(FlagsTest, DefaultsStayWithoutFlags) {
  EXPECT_EQ(Run({}), FlagSet::Outcome::kOk);
  EXPECT_EQ(config_.url, "http://jaeger:16686");
  EXPECT_EQ(config_.services, std::vector<std::string>{"frontend"});
  EXPECT_EQ(config_.interval, seconds{15});
}

TEST_F(FlagsTest, ParsesEveryKindInBothSpellings) {
  EXPECT_EQ(Run({"--jaeger.url=http://localhost:16686", "--replicas", "-7", "--target=0.125",
                 "--no-gzip", "--verbose", "--interval", "1m30s", "--max-body=64KiB", "--service",
                 "cart", "--service=search", "input.json"}),
            FlagSet::Outcome::kOk)
      << error_;
  EXPECT_EQ(config_.url, "http://localhost:16686");
  EXPECT_EQ(config_.replicas, -7);
  EXPECT_EQ(config_.target, 0.125);
  EXPECT_FALSE(config_.gzip);
  EXPECT_TRUE(config_.verbose);
  EXPECT_EQ(config_.interval, seconds{90});
  EXPECT_EQ(config_.max_body, 64u << 10);
  // The first use replaces the default list; later ones append.
  EXPECT_EQ(config_.services, (std::vector<std::string>{"cart", "search"}));
  EXPECT_EQ(flags_.positional(), std::vector<std::string>{"input.json"});
}

TEST_F(FlagsTest, BooleanValues) {
  EXPECT_EQ(Run({"--gzip=false", "--verbose=true"}), FlagSet::Outcome::kOk);
  EXPECT_FALSE(config_.gzip);
  EXPECT_TRUE(config_.verbose);
  EXPECT_EQ(Run({"--gzip=1", "--verbose=0"}), FlagSet::Outcome::kOk);
  EXPECT_TRUE(config_.gzip);
  EXPECT_FALSE(config_.verbose);
  // A boolean never swallows the next argument.
  EXPECT_EQ(Run({"--verbose", "false"}), FlagSet::Outcome::kOk);
  EXPECT_TRUE(config_.verbose);
  EXPECT_EQ(flags_.positional(), std::vector<std::string>{"false"});
}

TEST_F(FlagsTest, DoubleDashEndsFlags) {
  EXPECT_EQ(Run({"a", "--", "--verbose", "-x"}), FlagSet::Outcome::kOk);
  EXPECT_FALSE(config_.verbose);
  EXPECT_EQ(flags_.positional(), (std::vector<std::string>{"a", "--verbose", "-x"}));
}

TEST_F(FlagsTest, ParseOrExitCodeTellsMainWhatToReturn) {
  auto code = [this](std::vector<const char*> args) {
    args.insert(args.begin(), "queuelens-exporter");
    return flags_.ParseOrExitCode(static_cast<int>(args.size()), args.data());
  };
  EXPECT_EQ(code({"--replicas=4"}), std::nullopt);
  EXPECT_EQ(config_.replicas, 4);
  testing::internal::CaptureStdout();
  EXPECT_EQ(code({"--help"}), 0);
  EXPECT_THAT(testing::internal::GetCapturedStdout(), testing::HasSubstr("--jaeger.url"));
  testing::internal::CaptureStderr();
  EXPECT_EQ(code({"--nope"}), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "queuelens-exporter: unknown flag --nope\n(see --help)\n");
}

TEST_F(FlagsTest, ErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--nope=1"}, "unknown flag --nope"},
      {{"--no-replicas"}, "unknown flag --no-replicas"},
      {{"-v"}, "unknown flag -v"},
      {{"--replicas"}, "missing value for --replicas"},
      {{"--replicas=3x"}, "invalid value \"3x\" for --replicas: expected an integer"},
      {{"--replicas="}, "invalid value \"\" for --replicas"},
      {{"--target=abc"}, "invalid value \"abc\" for --target"},
      {{"--target=nan"}, "invalid value \"nan\" for --target"},
      {{"--gzip=maybe"}, "invalid value \"maybe\" for --gzip: expected true or false"},
      {{"--no-gzip=true"}, "flag --no-gzip takes no value"},
      {{"--interval=5"}, "invalid value \"5\" for --interval: expected a duration"},
      {{"--max-body=4XB"}, "invalid value \"4XB\" for --max-body: expected a size"},
  };
  for (const auto& [args, message] : cases) {
    error_.clear();
    EXPECT_EQ(Run(args), FlagSet::Outcome::kError) << args[0];
    EXPECT_NE(error_.find(message), std::string::npos) << error_ << " / want: " << message;
  }
}

TEST_F(FlagsTest, HelpShowsFlagsAndDefaults) {
  EXPECT_EQ(Run({"--replicas=9", "--help"}), FlagSet::Outcome::kHelp);
  EXPECT_EQ(Run({"-h"}), FlagSet::Outcome::kHelp);
  const std::string usage = flags_.Usage();
  EXPECT_NE(usage.find("Usage: queuelens-exporter [flags]"), std::string::npos);
  EXPECT_NE(usage.find("Derives queueing signals from traces."), std::string::npos);
  for (const char* expected :
       {"--jaeger.url <string>\n      Jaeger query API base URL. (default \"http://jaeger:16686\")",
        "--service <string> (repeatable)\n      Service to track. (default frontend)",
        "--replicas <int>\n      Replica count. (default 3)",  // the default, not the parsed 9
        "--target <number>\n      Target throttling ratio. (default 0.05)",
        "--[no-]gzip\n      Compress | large responses. (default true)",
        "--interval <duration>\n      Poll interval. (default 15s)",
        "--max-body <bytes>\n      Largest accepted body. (default 4MiB)", "--help"}) {
    EXPECT_NE(usage.find(expected), std::string::npos) << expected << "\n" << usage;
  }
}

TEST_F(FlagsTest, MarkdownTable) {
  const std::string table = flags_.MarkdownTable();
  EXPECT_TRUE(table.starts_with("| Flag | Default | Description |\n|---|---|---|\n")) << table;
  EXPECT_NE(table.find("| `--interval` | `15s` | Poll interval. |\n"), std::string::npos);
  EXPECT_NE(table.find("| `--gzip` | `true` | Compress \\| large responses. |\n"),
            std::string::npos)
      << table;
}

TEST(FlagSetTest, RegistrationErrorsThrow) {
  FlagSet flags("p", "s");
  std::string a;
  flags.String("name", &a, "");
  EXPECT_THROW(flags.String("name", &a, ""), std::invalid_argument);
  EXPECT_THROW(flags.String("Upper", &a, ""), std::invalid_argument);
  EXPECT_THROW(flags.String("help", &a, ""), std::invalid_argument);
  EXPECT_THROW(flags.String("no-thing", &a, ""), std::invalid_argument);
  EXPECT_THROW(flags.String("", &a, ""), std::invalid_argument);
}

TEST(ParseDurationTest, Forms) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds{250});
  EXPECT_EQ(ParseDuration("5s"), seconds{5});
  EXPECT_EQ(ParseDuration("5m"), minutes{5});
  EXPECT_EQ(ParseDuration("1h"), hours{1});
  EXPECT_EQ(ParseDuration("1m30s"), seconds{90});
  EXPECT_EQ(ParseDuration("1h2m3s4ms5us6ns"), hours{1} + minutes{2} + seconds{3} + milliseconds{4} +
                                                  microseconds{5} + nanoseconds{6});
  EXPECT_EQ(ParseDuration("1.5s"), milliseconds{1500});
  EXPECT_EQ(ParseDuration("0.1s"), milliseconds{100});
  EXPECT_EQ(ParseDuration("2.25h"), minutes{135});
  EXPECT_EQ(ParseDuration("10\u00b5s"), microseconds{10});
  EXPECT_EQ(ParseDuration("0"), Duration::zero());
  for (const char* bad :
       {"", "5", "s", "-5s", "+5s", "5 s", "5sec", "1.s", ".5s", "5d", "99999999999h"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(ParseDurationTest, FormatRoundTrips) {
  EXPECT_EQ(FormatDuration(Duration::zero()), "0s");
  EXPECT_EQ(FormatDuration(seconds{90}), "1m30s");
  EXPECT_EQ(FormatDuration(hours{1}), "1h");
  EXPECT_EQ(FormatDuration(milliseconds{250}), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds{1500}), "1.5s");
  EXPECT_EQ(FormatDuration(microseconds{3}), "3us");
  EXPECT_EQ(FormatDuration(nanoseconds{7}), "7ns");
  EXPECT_EQ(FormatDuration(hours{1} + milliseconds{5}), "1h0.005s");
  for (Duration d : {Duration{1}, Duration{999'999'999}, Duration{1'000'000'001},
                     Duration{3'723'004'005'006}, Duration{hours{24 * 365}}}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
}

TEST(ParseBytesTest, Forms) {
  EXPECT_EQ(ParseBytes("512"), 512u);
  EXPECT_EQ(ParseBytes("512B"), 512u);
  EXPECT_EQ(ParseBytes("64KiB"), 64u << 10);
  EXPECT_EQ(ParseBytes("4MiB"), 4u << 20);
  EXPECT_EQ(ParseBytes("1GiB"), size_t{1} << 30);
  EXPECT_EQ(ParseBytes("1MB"), 1'000'000u);
  EXPECT_EQ(ParseBytes("1.5KiB"), 1536u);
  for (const char* bad : {"", "KiB", "4 MiB", "4mb", "-1", "1.5.5MB", "99999999999999999999"}) {
    EXPECT_EQ(ParseBytes(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(FormatBytes(4u << 20), "4MiB");
  EXPECT_EQ(FormatBytes(1536), "1536");
  EXPECT_EQ(FormatBytes(0), "0");
  EXPECT_EQ(FormatBytes(1'000'000), "1000000");
}

}  // namespace
}  // namespace common
