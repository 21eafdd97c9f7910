#include "recommender/actuate/kube_client.h"

#include <gtest/gtest.h>

namespace recommender::actuate {
namespace {

using std::chrono::seconds;

// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
const common::TimePoint kExample = common::TimePoint{seconds{784111777}};
const common::Duration kCap = seconds{30};

TEST(ParseRetryAfter, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("1", kExample, kCap), seconds{1});
  EXPECT_EQ(ParseRetryAfter("0", kExample, kCap), seconds{0});
  EXPECT_EQ(ParseRetryAfter(" 12\t", kExample, kCap), seconds{12});
  EXPECT_EQ(ParseRetryAfter("120", kExample, kCap), kCap);
  // Too large for any integer: still a delay, capped.
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999999", kExample, kCap), kCap);
}

TEST(ParseRetryAfter, ImfFixdateAgainstNow) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", kExample, kCap), seconds{10});
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT",
                            kExample + std::chrono::milliseconds{250}, kCap),
            std::chrono::milliseconds{9750});
  // Past or now: retry at once.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExample, kCap), seconds{0});
  EXPECT_EQ(ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", kExample, kCap), seconds{0});
  // Far ahead, even past what a nanosecond clock holds: the cap.
  EXPECT_EQ(ParseRetryAfter("Mon, 07 Nov 1994 08:49:37 GMT", kExample, kCap), kCap);
  EXPECT_EQ(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", kExample, kCap), kCap);
  // A leap day and a leap second.
  EXPECT_EQ(ParseRetryAfter("Thu, 29 Feb 2024 00:00:00 GMT",
                            common::TimePoint{seconds{1709164800 - 5}}, kCap),
            seconds{5});
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:60 GMT", kExample, kCap), seconds{23});
}

TEST(ParseRetryAfter, RejectsMalformedValues) {
  for (const char* bad : {"", "  ", "-1", "1.5", "+3", "1 2", "soon",
                          "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850 form
                          "Sun Nov  6 08:49:37 1994",        // asctime form
                          "Sun, 06 Nov 1994 08:49:37 UTC",   // not GMT
                          "Sun, 6 Nov 1994 08:49:37 GMT",    // day not two digits
                          "Mon, 06 Nov 1994 08:49:37 GMT",   // wrong weekday
                          "Tue, 29 Feb 2023 08:49:37 GMT",   // no such day
                          "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nox 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT "
                          "x"}) {
    EXPECT_EQ(ParseRetryAfter(bad, kExample, kCap), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace recommender::actuate
