#include "exporter/state/interner.h"

#include <gtest/gtest.h>

#include <string>

namespace exporter::state {
namespace {

TEST(StringInternerTest, EqualStringsShareAnIdAndItsReferences) {
  StringInterner strings;
  const uint32_t a = strings.Intern("checkout");
  EXPECT_EQ(strings.Intern("checkout"), a);
  EXPECT_EQ(strings.Refs(a), 2u);
  EXPECT_EQ(strings.Get(a), "checkout");
  EXPECT_EQ(strings.Intern(""), 0u);
  EXPECT_EQ(strings.size(), 2u);  // the empty string and "checkout"
  EXPECT_EQ(strings.bytes(), 8u);
}

TEST(StringInternerTest, TheLastReleaseFreesTheStringAndItsIdIsReused) {
  StringInterner strings;
  const uint32_t a = strings.Intern("a-long-operation-name-that-does-not-fit-inline");
  strings.Ref(a);
  strings.Release(a);
  EXPECT_EQ(strings.size(), 2u);
  strings.Release(a);
  EXPECT_EQ(strings.size(), 1u);
  EXPECT_EQ(strings.bytes(), 0u);
  const uint32_t b = strings.Intern("b");
  EXPECT_EQ(b, a);
  EXPECT_EQ(strings.Get(b), "b");
  // The empty string is never counted or freed.
  strings.Release(0);
  strings.Ref(0);
  EXPECT_EQ(strings.Intern(""), 0u);
}

TEST(StringInternerTest, CompactReturnsTheSlotsOfABurst) {
  StringInterner strings;
  const uint32_t keep = strings.Intern("keep");
  std::vector<uint32_t> burst;
  for (int i = 0; i < 100'000; ++i) burst.push_back(strings.Intern("op-" + std::to_string(i)));
  EXPECT_EQ(strings.slots(), 100'002u);
  for (uint32_t id : burst) strings.Release(id);
  EXPECT_EQ(strings.size(), 2u);
  strings.Compact();
  EXPECT_EQ(strings.slots(), 2u);
  EXPECT_EQ(strings.Get(keep), "keep");

  // With a hole below the tail, new strings fill the hole first, so the tail can empty again.
  const uint32_t low = strings.Intern("low");
  const uint32_t high = strings.Intern("high");
  strings.Release(low);
  strings.Compact();
  EXPECT_EQ(strings.Intern("again"), low);
  strings.Release(high);
  strings.Compact();
  EXPECT_EQ(strings.slots(), 3u);  // empty, keep, again; the slot of high is gone
  EXPECT_EQ(strings.Intern("next"), 3u);
}

}  // namespace
}  // namespace exporter::state
