#include "common/html.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "common/version.h"

namespace common {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(HtmlTest, RowsEscapeTheirCells) {
  std::string out;
  AppendHtmlRow(out, {"name", "a<b"}, /*header=*/true);
  AppendHtmlRow(out, {"x\"y", "1 & 2"});
  EXPECT_EQ(out,
            "<tr><th>name</th><th>a&lt;b</th></tr>\n"
            "<tr><td>x&quot;y</td><td>1 &amp; 2</td></tr>\n");
}

TEST(HtmlTest, NumbersHaveThreeSignificantDigitsAndADashWithoutData) {
  EXPECT_EQ(HtmlNumber(0.125), "0.125");
  EXPECT_EQ(HtmlNumber(1234.5), "1.23e+03");
  EXPECT_EQ(HtmlNumber(std::numeric_limits<double>::quiet_NaN()), "–");
  EXPECT_EQ(HtmlMilliseconds(0.0125), "12.5 ms");
  EXPECT_EQ(HtmlMilliseconds(std::numeric_limits<double>::infinity()), "–");
}

TEST(HtmlTest, StatusPageHeadLinksEachPathAndShowsTheVersion) {
  std::string out;
  AppendStatusPageHead(out, "queuelens test", ".x{color:red}", {"/metrics", "/healthz"});
  EXPECT_THAT(out, StartsWith("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                              "<title>queuelens test</title><style>"));
  EXPECT_THAT(out, HasSubstr(".x{color:red}</style></head><body>\n<h1>queuelens test</h1>\n"));
  EXPECT_THAT(out, HasSubstr(std::string("<p>version ") + kVersion +
                             " · <a href=\"/metrics\">/metrics</a> · "
                             "<a href=\"/healthz\">/healthz</a></p>\n"));
}

}  // namespace
}  // namespace common
