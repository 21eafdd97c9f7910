#include "exporter/spans/validate.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace exporter::spans {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";
constexpr int64_t kSecond = 1'000'000'000;

struct Sanitized {
  std::string value;
  LabelFixes fixes = 0;
  bool copied = false;  // the answer was built in scratch rather than viewing the input
};

Sanitized Sanitize(std::string_view in, size_t max_bytes = 256) {
  std::string scratch;
  Sanitized s;
  const std::string_view out = SanitizeLabel(in, max_bytes, scratch, s.fixes);
  s.value = std::string(out);
  s.copied = !out.empty() && out.data() != in.data();
  return s;
}

TEST(SanitizeLabelTest, PlainValuesAreReturnedAsTheyAre) {
  const std::string_view in = "checkout GET /api/v1/carts/{id} \xC3\xA9t\xC3\xA9 \xF0\x9F\x9B\x92";
  const Sanitized s = Sanitize(in);
  EXPECT_EQ(s.value, in);
  EXPECT_EQ(s.fixes, 0);
  EXPECT_FALSE(s.copied);
  EXPECT_EQ(Sanitize("").value, "");
}

TEST(SanitizeLabelTest, CutsAtTheLastWholeCodePointThatFits) {
  // "ab" + U+20AC (3 bytes) + U+1F6D2 (4 bytes): 9 bytes.
  const std::string in = "ab\xE2\x82\xAC\xF0\x9F\x9B\x92";
  EXPECT_EQ(Sanitize(in, 9).value, in);
  EXPECT_EQ(Sanitize(in, 9).fixes, 0);
  for (size_t max : {5u, 6u, 7u, 8u}) {
    const Sanitized s = Sanitize(in, max);
    EXPECT_EQ(s.value, "ab\xE2\x82\xAC") << max;
    EXPECT_EQ(s.fixes, Bit(LabelFix::kTruncated)) << max;
    EXPECT_FALSE(s.copied) << "a cut alone needs no copy";
  }
  for (size_t max : {2u, 3u, 4u}) EXPECT_EQ(Sanitize(in, max).value, "ab") << max;
  EXPECT_EQ(Sanitize(in, 1).value, "a");
  EXPECT_EQ(Sanitize("\xE2\x82\xAC", 2).value, "");
}

TEST(SanitizeLabelTest, ControlCharactersBecomeTheReplacementCharacter) {
  using namespace std::string_literals;
  const struct {
    std::string in, out;
  } cases[] = {
      {"a\0b"s, "a"s + std::string(kFffd) + "b"},
      {"\0"s, std::string(kFffd)},
      {"tab\there", "tab" + std::string(kFffd) + "here"},
      {"line\r\n", "line" + std::string(kFffd) + std::string(kFffd)},
      {"del\x7F", "del" + std::string(kFffd)},
      {"esc\x1B[31m", "esc" + std::string(kFffd) + "[31m"},
      {"c1\xC2\x85", "c1" + std::string(kFffd)},  // U+0085 NEXT LINE
      {"c1\xC2\x9F!", "c1" + std::string(kFffd) + "!"},
  };
  for (const auto& c : cases) {
    const Sanitized s = Sanitize(c.in);
    EXPECT_EQ(s.value, c.out) << c.in;
    EXPECT_EQ(s.fixes, Bit(LabelFix::kControlCharacter)) << c.in;
    EXPECT_TRUE(s.copied);
  }
  // U+00A0 and U+00A9 are not controls.
  EXPECT_EQ(Sanitize("\xC2\xA0\xC2\xA9").fixes, 0);
}

TEST(SanitizeLabelTest, BytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  const std::string r(kFffd);
  const struct {
    std::string in, out;
  } cases[] = {
      {"a\xFF"
       "b",
       "a" + r + "b"},
      {"\xC0\xAF", r + r},                           // overlong '/'
      {"\xED\xA0\x80", r + r + r},                   // surrogate U+D800
      {"\xF4\x90\x80\x80", r + r + r + r},           // above U+10FFFF
      {"cut\xE2\x82", "cut" + r + r},                // sequence cut short
      {"\x80x", r + "x"},                            // stray continuation byte
      {"ok\xE2\x82\xAC\xF8", "ok\xE2\x82\xAC" + r},  // 5-byte lead
  };
  for (const auto& c : cases) {
    const Sanitized s = Sanitize(c.in);
    EXPECT_EQ(s.value, c.out) << c.in;
    EXPECT_EQ(s.fixes, Bit(LabelFix::kInvalidUtf8)) << c.in;
  }
  const Sanitized both = Sanitize(std::string("\xFF\0", 2));
  EXPECT_EQ(both.value, r + r);
  EXPECT_EQ(both.fixes, Bit(LabelFix::kInvalidUtf8) | Bit(LabelFix::kControlCharacter));
}

TEST(SanitizeLabelTest, AReplacementThatDoesNotFitIsCut) {
  using namespace std::string_literals;
  const Sanitized s = Sanitize("abc\0def"s, 5);
  EXPECT_EQ(s.value, "abc");
  EXPECT_EQ(s.fixes, Bit(LabelFix::kTruncated));
  const Sanitized fits = Sanitize("ab\0def"s, 5);
  EXPECT_EQ(fits.value, "ab" + std::string(kFffd));
  EXPECT_EQ(fits.fixes, Bit(LabelFix::kControlCharacter) | Bit(LabelFix::kTruncated));
}

TEST(SanitizeLabelTest, AHugeValueIsCutToAViewOfItsStart) {
  // 50 MB, with a control character beyond the limit: cut away, so not counted.
  std::string huge(50u << 20, 'x');
  huge[40u << 20] = '\0';
  std::string scratch;
  LabelFixes fixes = 0;
  const std::string_view out = SanitizeLabel(huge, 256, scratch, fixes);
  EXPECT_EQ(out.size(), 256u);
  EXPECT_EQ(out.data(), huge.data());
  EXPECT_EQ(fixes, Bit(LabelFix::kTruncated));
  EXPECT_TRUE(scratch.empty());
}

// A batch of spans of one resource whose label values share the arena, as the parsers make them.
class ValidateSpansTest : public ::testing::Test {
 protected:
  Span& AddSpan(int64_t start, int64_t end, std::string_view operation = "GET /") {
    Span& s = batch_.Add();
    s.trace_id = {.hi = 1, .lo = ++next_id_};
    s.span_id = next_id_;
    s.start_unix_nano = start;
    s.end_unix_nano = end;
    s.service = service_;
    s.operation = batch_.Store(operation);
    s.instance = batch_.Store("pod-0");
    s.k8s_namespace = batch_.Store("shop");
    return s;
  }
  std::vector<uint64_t> KeptIds() const {
    std::vector<uint64_t> ids;
    for (const Span& s : batch_.spans()) ids.push_back(s.span_id);
    return ids;
  }

  const int64_t now_ = 1'787'392'800 * kSecond;
  const SpanLimits limits_{
      .max_label_bytes = 16, .max_duration_nano = 60 * kSecond, .max_age_nano = 600 * kSecond};
  SpanBatch batch_;
  std::string_view service_ = batch_.Store("checkout");
  uint64_t next_id_ = 0;
};

TEST_F(ValidateSpansTest, DropsImplausibleSpansWithTheirReason) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  AddSpan(now_ - kSecond, now_);                          // 1: fine
  AddSpan(now_, now_ - 1);                                // 2: ends before it starts
  AddSpan(now_ - 61 * kSecond, now_);                     // 3: 61 s
  AddSpan(now_ - 60 * kSecond, now_);                     // 4: exactly the limit: kept
  AddSpan(now_ - 601 * kSecond, now_ - 600 * kSecond);    // 5: started 601 s ago
  AddSpan(now_ - 600 * kSecond, now_ - 599 * kSecond);    // 6: exactly max age: kept
  AddSpan(1, kMax);                                       // 7: 1 ns to INT64_MAX
  AddSpan(200'000'000 * kSecond, now_);                   // 8: 1976 until now
  AddSpan(std::numeric_limits<int64_t>::min(), 0);        // 9: no overflow on the difference
  AddSpan(now_ + 3600 * kSecond, now_ + 3601 * kSecond);  // 10: clock ahead: not too old
  AddSpan(now_, now_);                                    // 11: zero duration

  const ValidationCounts c = ValidateSpans(batch_, limits_, now_);

  EXPECT_EQ(KeptIds(), (std::vector<uint64_t>{1, 4, 6, 10, 11}));
  EXPECT_EQ(c.Dropped(SpanDrop::kEndBeforeStart), 1u);
  EXPECT_EQ(c.Dropped(SpanDrop::kDurationTooLong), 4u);
  EXPECT_EQ(c.Dropped(SpanDrop::kStartTooOld), 1u);
  EXPECT_EQ(c.TotalDropped(), 6u);
}

TEST_F(ValidateSpansTest, WithoutAReceiveTimeOldSpansAreKept) {
  AddSpan(1'000 * kSecond, 1'001 * kSecond);  // 1970, one second: a recording
  AddSpan(1'000 * kSecond, 1'000 * kSecond - 1);
  const ValidationCounts c = ValidateSpans(batch_, limits_, std::nullopt);
  EXPECT_EQ(KeptIds(), (std::vector<uint64_t>{1}));
  EXPECT_EQ(c.Dropped(SpanDrop::kStartTooOld), 0u);
  EXPECT_EQ(c.Dropped(SpanDrop::kEndBeforeStart), 1u);
}

TEST_F(ValidateSpansTest, RepairsLabelsAndCountsEachSpan) {
  using namespace std::string_literals;
  service_ = batch_.Store("checkout-service-with-a-long-name");  // 33 bytes, shared by all spans
  AddSpan(now_ - kSecond, now_, "GET\0/"s);
  AddSpan(now_ - kSecond, now_, "GET /");
  Span& hostile = AddSpan(now_ - kSecond, now_, "x");
  hostile.k8s_namespace = batch_.Store("ns\xFF");
  AddSpan(now_, now_ - 1, "dropped\0"s);  // dropped spans are not counted as repaired

  const ValidationCounts c = ValidateSpans(batch_, limits_, now_);

  ASSERT_EQ(batch_.size(), 3u);
  for (const Span& s : batch_.spans()) EXPECT_EQ(s.service, "checkout-service");
  EXPECT_EQ(batch_.spans()[0].operation, "GET" + std::string(kFffd) + "/");
  EXPECT_EQ(batch_.spans()[1].operation, "GET /");
  EXPECT_EQ(batch_.spans()[2].k8s_namespace, "ns" + std::string(kFffd));
  EXPECT_EQ(batch_.spans()[2].instance, "pod-0");
  EXPECT_EQ(c.Fixed(SpanLabel::kService, LabelFix::kTruncated), 3u);
  EXPECT_EQ(c.Fixed(SpanLabel::kOperation, LabelFix::kControlCharacter), 1u);
  EXPECT_EQ(c.Fixed(SpanLabel::kNamespace, LabelFix::kInvalidUtf8), 1u);
  EXPECT_EQ(c.Fixed(SpanLabel::kInstance, LabelFix::kTruncated), 0u);
  EXPECT_EQ(c.Fixed(SpanLabel::kOperation, LabelFix::kTruncated), 0u);
}

TEST(SpanValidationNamesTest, NamesAreDistinct) {
  EXPECT_EQ(Name(SpanLabel::kService), "service");
  EXPECT_EQ(Name(SpanLabel::kOperation), "operation");
  EXPECT_EQ(Name(SpanLabel::kInstance), "instance");
  EXPECT_EQ(Name(SpanLabel::kNamespace), "namespace");
  EXPECT_EQ(Name(LabelFix::kTruncated), "truncated");
  EXPECT_EQ(Name(LabelFix::kControlCharacter), "control_character");
  EXPECT_EQ(Name(LabelFix::kInvalidUtf8), "invalid_utf8");
  EXPECT_EQ(Name(SpanDrop::kEndBeforeStart), "end_before_start");
  EXPECT_EQ(Name(SpanDrop::kDurationTooLong), "duration_too_long");
  EXPECT_EQ(Name(SpanDrop::kStartTooOld), "start_too_old");
}

}  // namespace
}  // namespace exporter::spans
