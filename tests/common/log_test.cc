#include "common/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace common {
namespace {

std::string CaptureLog(const std::function<void()>& log) {
  testing::internal::CaptureStderr();
  log();
  spdlog::default_logger()->flush();
  return testing::internal::GetCapturedStderr();
}

TEST(LogTest, RejectsUnknownLevelAndFormat) {
  EXPECT_THROW(InitLogging("verbose", "text"), std::invalid_argument);
  EXPECT_THROW(InitLogging("info", "xml"), std::invalid_argument);
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    EXPECT_NO_THROW(InitLogging(level, "text")) << level;
  }
}

TEST(LogTest, FlagsAreCheckedWithTheOtherProblems) {
  std::string level = "info", format = "text";
  FlagSet flags("prog", "");
  RegisterLogFlags(flags, &level, &format);
  const char* argv[] = {"prog", "--log.level=debug", "--log.format=json"};
  std::string error;
  ASSERT_EQ(flags.Parse(3, argv, &error), FlagSet::Outcome::kOk) << error;
  EXPECT_EQ(level, "debug");
  EXPECT_EQ(format, "json");

  std::vector<std::string> problems = {"earlier"};
  CheckLogFlags(level, format, problems);
  EXPECT_EQ(problems.size(), 1u);
  CheckLogFlags("verbose", "xml", problems);
  EXPECT_THAT(problems,
              ::testing::ElementsAre("earlier", "--log.format must be text or json",
                                     "--log.level must be trace, debug, info, warn or error"));
}

TEST(LogTest, TextLinesAreFilteredByLevel) {
  InitLogging("warn", "text");
  const std::string out = CaptureLog([] {
    spdlog::info("hidden");
    spdlog::warn("poll of {} failed", "jaeger");
  });
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning poll of jaeger failed\n$)")))
      << out;
}

TEST(LogTest, JsonEscapesTheMessage) {
  InitLogging("debug", "json");
  const std::string out = CaptureLog([] { spdlog::debug("bad \"span\"\n\tat {}\x01", "C:\\x"); });
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"debug",)"
                      R"("msg":"bad \\"span\\"\\n\\tat C:\\\\x\\u0001"\}\n$)")))
      << out;
  InitLogging("info", "text");
}

}  // namespace
}  // namespace common
