#include "recommender/output/label_selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace recommender::output {
namespace {

using ::testing::HasSubstr;
using Op = LabelRequirement::Op;

LabelSelector MustParse(std::string_view text) {
  std::string error;
  std::optional<LabelSelector> s = ParseLabelSelector(text, &error);
  EXPECT_TRUE(s.has_value()) << text << ": " << error;
  return s.value_or(LabelSelector{});
}

std::string ParseError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseLabelSelector(text, &error).has_value()) << text;
  return error;
}

TEST(LabelSelectorTest, ParsesEveryOperator) {
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("  ").empty());
  const LabelSelector s = MustParse(
      "workload=cart, a==b,c != d,env in (prod, staging),tier notin (cache),present,!absent,"
      "scaledobject.keda.sh/name=frontend,empty=");
  ASSERT_EQ(s.size(), 9u);
  const auto expect = [&](size_t i, const std::string& key, Op op,
                          std::vector<std::string> values) {
    EXPECT_EQ(s[i].key, key) << i;
    EXPECT_EQ(s[i].op, op) << i;
    EXPECT_EQ(s[i].values, values) << i;
  };
  expect(0, "workload", Op::kEquals, {"cart"});
  expect(1, "a", Op::kEquals, {"b"});
  expect(2, "c", Op::kNotEquals, {"d"});
  expect(3, "env", Op::kIn, {"prod", "staging"});
  expect(4, "tier", Op::kNotIn, {"cache"});
  expect(5, "present", Op::kExists, {});
  expect(6, "absent", Op::kDoesNotExist, {});
  expect(7, "scaledobject.keda.sh/name", Op::kEquals, {"frontend"});
  expect(8, "empty", Op::kEquals, {""});
}

TEST(LabelSelectorTest, RejectsWhatKubernetesRejects) {
  EXPECT_THAT(ParseError("a=b,"), HasSubstr("at character 5: expected a label key, found the end"));
  EXPECT_THAT(ParseError(",a"), HasSubstr("expected a label key"));
  EXPECT_THAT(ParseError("a=b=c"), HasSubstr("expected ',' or the end"));
  EXPECT_THAT(ParseError("a in ()"), HasSubstr("must not be empty"));
  EXPECT_THAT(ParseError("a in b"), HasSubstr("expected '('"));
  EXPECT_THAT(ParseError("a in (b c)"), HasSubstr("expected ',' or ')'"));
  EXPECT_THAT(ParseError("a in (b"), HasSubstr("found the end"));
  EXPECT_THAT(ParseError("a b"), HasSubstr("expected =, ==, !=, in, notin"));
  EXPECT_THAT(ParseError("a>1"), HasSubstr("< and > are not supported"));
  EXPECT_THAT(ParseError("!a=b"), HasSubstr("expected ',' or the end"));
  EXPECT_THAT(ParseError("-a=b"), HasSubstr("invalid label key"));
  EXPECT_THAT(ParseError("Upper.Case/a=b"), HasSubstr("invalid label key"));
  EXPECT_THAT(ParseError("a/b/c=d"), HasSubstr("invalid label key"));
  EXPECT_THAT(ParseError(std::string(64, 'k') + "=v"), HasSubstr("invalid label key"));
  EXPECT_THAT(ParseError("a=-v"), HasSubstr("invalid label value"));
  EXPECT_THAT(ParseError("a=" + std::string(64, 'v')), HasSubstr("invalid label value"));
  EXPECT_THAT(ParseError("a=(b)"), HasSubstr("expected a label value"));
}

TEST(LabelSelectorTest, MatchesLikeKubernetes) {
  const Labels labels = {{"namespace", "shop"}, {"workload", "cart"}, {"service", "cart"}};
  const auto matches = [&](std::string_view text) { return Matches(MustParse(text), labels); };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("workload=cart"));
  EXPECT_TRUE(matches("workload==cart,namespace=shop"));
  EXPECT_FALSE(matches("workload=cart,namespace=hotel"));
  EXPECT_TRUE(matches("workload!=search"));
  EXPECT_FALSE(matches("workload!=cart"));
  EXPECT_TRUE(matches("missing!=x"));  // an absent label is not equal to anything
  EXPECT_TRUE(matches("workload in (search, cart)"));
  EXPECT_FALSE(matches("workload notin (search, cart)"));
  EXPECT_TRUE(matches("missing notin (x)"));
  EXPECT_FALSE(matches("missing in (x)"));
  EXPECT_TRUE(matches("service"));
  EXPECT_FALSE(matches("!service"));
  EXPECT_TRUE(matches("!missing"));
  EXPECT_FALSE(matches("missing"));
  EXPECT_FALSE(matches("missing="));  // equality needs the label, even with an empty value
}

}  // namespace
}  // namespace recommender::output
