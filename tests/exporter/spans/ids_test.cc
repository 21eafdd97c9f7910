#include "exporter/spans/ids.h"

#include <gtest/gtest.h>

#include <string>

namespace exporter::spans {
namespace {

TEST(ParseTraceId, Reads32HexDigitsInEitherCase) {
  const auto id = ParseTraceId("5B8EFFF798038103d269b633813fc60c");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->hi, 0x5b8efff798038103u);
  EXPECT_EQ(id->lo, 0xd269b633813fc60cu);
}

TEST(ParseTraceId, LeftPadsShortIdsAsJaegerDoes) {
  EXPECT_EQ(ParseTraceId("0000000000000001"), (TraceId{0, 1}));
  EXPECT_EQ(ParseTraceId("1"), (TraceId{0, 1}));
  EXPECT_EQ(ParseTraceId("2be38093ead7a083"), (TraceId{0, 0x2be38093ead7a083u}));
  // 17 to 31 digits: the extra leading digits go to the high half.
  EXPECT_EQ(ParseTraceId("a0000000000000002"), (TraceId{0xa, 2}));
}

TEST(ParseTraceId, ReadsBase64OfOldApiV3Gateways) {
  EXPECT_EQ(ParseTraceId("W47/95gDgQPSabYzgT/GDA=="),
            (TraceId{0x5b8efff798038103u, 0xd269b633813fc60cu}));
  EXPECT_EQ(ParseTraceId("W47_95gDgQPSabYzgT_GDA"),
            (TraceId{0x5b8efff798038103u, 0xd269b633813fc60cu}));
  EXPECT_EQ(ParseTraceId("AAAAAAAAAAE="), (TraceId{0, 1}));
}

TEST(ParseTraceId, RejectsUnreadableText) {
  EXPECT_FALSE(ParseTraceId(""));
  EXPECT_FALSE(ParseTraceId("000000000000000000000000000000001"));  // 33 digits
  EXPECT_FALSE(ParseTraceId("xyz!"));
  EXPECT_FALSE(ParseTraceId("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));  // base64 of 27 bytes
  EXPECT_FALSE(ParseTraceId("AAA="));                                  // base64 of 2 bytes
  EXPECT_FALSE(
      ParseTraceId(std::string("00000000\0"
                               "0000001",
                               16)));
}

TEST(ParseTraceId, ZeroParsesAndIsZero) {
  const auto id = ParseTraceId("00000000000000000000000000000000");
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->IsZero());
}

TEST(ParseSpanId, ReadsHexAndBase64) {
  EXPECT_EQ(ParseSpanId("EEE19B7EC3C1B174"), 0xeee19b7ec3c1b174u);
  EXPECT_EQ(ParseSpanId("2"), 2u);
  EXPECT_EQ(ParseSpanId("7uGbfsPBsXQ="), 0xeee19b7ec3c1b174u);
  EXPECT_EQ(ParseSpanId("-_-_______8="), 0xfbffbfffffffffffu);
  EXPECT_EQ(ParseSpanId("+/+///////8="), 0xfbffbfffffffffffu);
  EXPECT_FALSE(ParseSpanId(""));
  EXPECT_FALSE(ParseSpanId("00000000000000001"));         // 17 digits
  EXPECT_FALSE(ParseSpanId("W47/95gDgQPSabYzgT/GDA=="));  // 16 bytes
  EXPECT_FALSE(ParseSpanId("0x12"));
}

TEST(Ids, BytesRoundTrip) {
  const TraceId trace{0x0102030405060708u, 0x090a0b0c0d0e0f10u};
  const auto bytes = TraceIdToBytes(trace);
  EXPECT_EQ(std::string(bytes.data(), bytes.size()),
            "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10");
  EXPECT_EQ(TraceIdFromBytes({bytes.data(), bytes.size()}), trace);
  const auto span = SpanIdToBytes(0xfedcba9876543210u);
  EXPECT_EQ(SpanIdFromBytes({span.data(), span.size()}), 0xfedcba9876543210u);
  EXPECT_FALSE(TraceIdFromBytes(std::string(15, 'x')));
  EXPECT_FALSE(TraceIdFromBytes(std::string(17, 'x')));
  EXPECT_FALSE(SpanIdFromBytes(std::string(7, 'x')));
  EXPECT_FALSE(SpanIdFromBytes(""));
}

TEST(Ids, FormatsFullWidthLowercaseHex) {
  EXPECT_EQ(FormatTraceId(TraceId{0, 1}), "00000000000000000000000000000001");
  EXPECT_EQ(FormatTraceId(TraceId{0x5b8efff798038103u, 0xd269b633813fc60cu}),
            "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(FormatSpanId(0xeee19b7ec3c1b174u), "eee19b7ec3c1b174");
  EXPECT_EQ(FormatSpanId(2), "0000000000000002");
  EXPECT_EQ(ParseTraceId(FormatTraceId(TraceId{7, 9})), (TraceId{7, 9}));
}

}  // namespace
}  // namespace exporter::spans
