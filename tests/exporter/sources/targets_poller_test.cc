#include "exporter/sources/targets_poller.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/exporter/sources/test_util.h"

namespace exporter::sources {
namespace {

const std::map<std::string, std::string> kRecommender = {{"source", "recommender"}};

constexpr char kGood[] = R"({"targets":[{"namespace":"shop","workload":"cart","container":"cart",)"
                         R"("throttleTarget":0.06}]})";

TEST(ParseThrottleTargetsTest, BadAnswersAreRejectedWhole) {
  for (const std::string_view bad :
       {std::string_view("not json"), std::string_view(R"({"targets":{}})"),
        std::string_view(R"({"chosen":true})"),
        std::string_view(R"({"targets":[{"namespace":"a","workload":"b","container":"c",
                             "throttleTarget":"0.1"}]})"),
        std::string_view(R"({"targets":[{"namespace":"a","workload":"b","container":"c",
                             "throttleTarget":0.1},{"namespace":"a","workload":"b",
                             "throttleTarget":0.1}]})"),
        std::string_view(R"({"targets":[{"namespace":"a","workload":"b","container":"c",
                             "throttleTarget":1.5}]})"),
        std::string_view(R"({"targets":[{"namespace":"a","workload":"b","container":"c",
                             "throttleTarget":0.1}]}trailing)")}) {
    std::string error;
    EXPECT_FALSE(ParseThrottleTargets(bad, &error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  const std::optional<state::ThrottleTargets> none =
      ParseThrottleTargets(R"({"targets":[]})", &error);
  ASSERT_TRUE(none.has_value()) << error;
  EXPECT_TRUE(none->entries.empty());
}

TEST(TargetsPollerTest, GoodAnswersReplaceTheTargetsAndBadOnesKeepThem) {
  prometheus::Registry registry;
  SourceMetrics metrics(registry);
  common::HttpResult next{.status = 200, .body = kGood, .error = ""};
  std::string asked;
  TargetsPoller poller(
      {.url = "http://recommender:8471/", .interval = std::chrono::seconds{15}},
      [&](const std::string& url) {
        asked = url;
        return next;
      },
      metrics);
  EXPECT_EQ(poller.Current(), nullptr);

  TargetsPoller::PollResult r = poller.PollOnce();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(asked, "http://recommender:8471/api/v1/targets");
  ASSERT_NE(poller.Current(), nullptr);
  EXPECT_DOUBLE_EQ(poller.Current()->For("shop", "cart-6b7f9c8d4-x2b4q", "cart", 0), 0.06);
  EXPECT_EQ(MetricValue(registry, "queuelens_source_up", kRecommender), 1);

  // Malformed: counted, the targets already held stay.
  next = {.status = 200, .body = R"({"targets":[{"namespace":"shop"}]})", .error = ""};
  r = poller.PollOnce();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("targets[0]"), std::string::npos) << r.error;
  EXPECT_DOUBLE_EQ(poller.Current()->For("shop", "cart-6b7f9c8d4-x2b4q", "cart", 0), 0.06);
  EXPECT_EQ(CounterValue(registry, "queuelens_source_failures_total",
                         {{"source", "recommender"}, {"reason", "malformed"}}),
            1);

  // Unreachable, then an HTTP error: the source is down, the targets still held.
  next = {.status = 0, .body = "", .error = "Connection refused"};
  r = poller.PollOnce();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Connection refused"), std::string::npos);
  EXPECT_EQ(MetricValue(registry, "queuelens_source_up", kRecommender), 0);
  next = {.status = 503, .body = "", .error = ""};
  EXPECT_NE(poller.PollOnce().error.find("HTTP 503"), std::string::npos);
  EXPECT_EQ(CounterValue(registry, "queuelens_source_failures_total",
                         {{"source", "recommender"}, {"reason", "fetch_error"}}),
            2);
  EXPECT_DOUBLE_EQ(poller.Current()->For("shop", "cart-6b7f9c8d4-x2b4q", "cart", 0), 0.06);
}

}  // namespace
}  // namespace exporter::sources
