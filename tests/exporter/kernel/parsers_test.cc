#include "exporter/kernel/parsers.h"

#include <gtest/gtest.h>

#include <string>

namespace exporter::kernel {
namespace {

using namespace std::string_view_literals;

TEST(ParseTaskSchedstatTest, ReadsRunWaitAndTimeslices) {
  const auto s = ParseTaskSchedstat("1200000000 150000000 9000\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->run_ns, 1'200'000'000u);
  EXPECT_EQ(s->wait_ns, 150'000'000u);
  EXPECT_EQ(s->timeslices, 9000u);
}

TEST(ParseTaskSchedstatTest, RejectsTruncatedAndMalformedLines) {
  EXPECT_FALSE(ParseTaskSchedstat(""));
  EXPECT_FALSE(ParseTaskSchedstat("5000 60"));
  EXPECT_FALSE(ParseTaskSchedstat("5000 -60 3"));
  EXPECT_FALSE(ParseTaskSchedstat("5000 60 3 4"));
  EXPECT_FALSE(ParseTaskSchedstat("5000 6x0 3"));
}

TEST(ParseTaskSchedstatTest, AcceptsTheZerosOfAKernelWithoutSchedInfo) {
  const auto s = ParseTaskSchedstat("0 0 0\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->wait_ns, 0u);
}

constexpr std::string_view kSchedstat15 =
    "version 15\n"
    "timestamp 15819019232\n"
    "cpu0 498494191 0 3533438552 2553969831 3853684107 2465731542 2045936778163039 "
    "343796328169361 4767485306\n"
    "domain0 00000000,00000003 212499247 210112015 1861015 1860405436 536440 369895 32599 "
    "210079416 25368550 24241256 384652 927363878 807233 6366 1647 24239609 2122447 1886868 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "cpu1 518377256 0 4155211005 2778589869 10466382 2867629 1904686152592476 "
    "364107263788241 5145567945\n";

TEST(ParseNodeSchedstatTest, SumsFieldsSevenToNineOverCpusAndSkipsDomains) {
  const auto s = ParseNodeSchedstat(kSchedstat15);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cpus, 2);
  EXPECT_EQ(s->run_ns, 2045936778163039u + 1904686152592476u);
  EXPECT_EQ(s->wait_ns, 343796328169361u + 364107263788241u);
  EXPECT_EQ(s->timeslices, 4767485306u + 5145567945u);
}

TEST(ParseNodeSchedstatTest, AcceptsVersionsFifteenToSeventeenOnly) {
  std::string v17(kSchedstat15);
  v17.replace(8, 2, "17");
  EXPECT_TRUE(ParseNodeSchedstat(v17));
  std::string v9(kSchedstat15);
  v9.replace(8, 2, "9 ");
  EXPECT_FALSE(ParseNodeSchedstat(v9));
  EXPECT_FALSE(ParseNodeSchedstat("cpu0 1 2 3 4 5 6 7 8 9\n"));  // no version line
}

TEST(ParseNodeSchedstatTest, RejectsAShortCpuLine) {
  EXPECT_FALSE(ParseNodeSchedstat("version 15\ncpu0 1 2 3 4 5 6 7 8\n"));
}

TEST(ParsePressureTest, ConvertsTotalsFromMicroseconds) {
  const auto p = ParsePressure(
      "some avg10=1.50 avg60=0.80 avg300=0.20 total=19000\n"
      "full avg10=0.40 avg60=0.10 avg300=0.02 total=5000\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->some_ns, 19'000'000u);
  ASSERT_TRUE(p->full_ns);
  EXPECT_EQ(*p->full_ns, 5'000'000u);
}

TEST(ParsePressureTest, FullIsOptionalForOldKernels) {
  const auto p = ParsePressure("some avg10=0.50 avg60=0.25 avg300=0.10 total=2500000\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->some_ns, 2'500'000'000u);
  EXPECT_FALSE(p->full_ns);
}

TEST(ParsePressureTest, RejectsTruncatedAndForeignText) {
  EXPECT_FALSE(ParsePressure(""));
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60="));
  EXPECT_FALSE(ParsePressure("some avg10=0.00 total=abc\n"));
  EXPECT_FALSE(ParsePressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"));  // no some
  EXPECT_FALSE(ParsePressure("some total=1\nbogus line\n"));
  // Microseconds whose nanoseconds do not fit 64 bits.
  EXPECT_FALSE(ParsePressure("some total=18446744073709552\n"));
  EXPECT_TRUE(ParsePressure("some total=18446744073709551\n"));
}

TEST(ParseCpuStatTest, V2ConvertsMicrosecondsAndKeepsAbsentKeysEmpty) {
  const auto full = ParseCpuStatV2(
      "usage_usec 2000000\nuser_usec 1333333\nsystem_usec 666667\nnr_periods 880\n"
      "nr_throttled 30\nthrottled_usec 1500000\nnr_bursts 0\nburst_usec 0\n");
  ASSERT_TRUE(full);
  EXPECT_EQ(*full->usage_ns, 2'000'000'000u);
  EXPECT_EQ(*full->periods, 880u);
  EXPECT_EQ(*full->throttled_periods, 30u);
  EXPECT_EQ(*full->throttled_ns, 1'500'000'000u);

  // Without the cpu controller v2 prints only the usage keys.
  const auto usage_only = ParseCpuStatV2("usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
  ASSERT_TRUE(usage_only);
  EXPECT_EQ(*usage_only->usage_ns, 5000u);
  EXPECT_FALSE(usage_only->periods);
  EXPECT_FALSE(usage_only->throttled_ns);
}

TEST(ParseCpuStatTest, V2RejectsMalformedValuesAndMissingUsage) {
  EXPECT_FALSE(ParseCpuStatV2("usage_usec 12x\nnr_periods 5\n"));
  EXPECT_FALSE(ParseCpuStatV2("nr_periods 5\n"));
  EXPECT_FALSE(ParseCpuStatV2("usage_usec 1\nnr_thrott"));  // truncated last line
  // Microseconds whose nanoseconds do not fit 64 bits.
  EXPECT_FALSE(ParseCpuStatV2("usage_usec 18446744073709552\n"));
  EXPECT_FALSE(ParseCpuStatV2("usage_usec 1\nthrottled_usec 18446744073709552\n"));
}

TEST(ParseCpuStatTest, V1ReadsNanosecondThrottledTime) {
  const auto s = ParseCpuStatV1(
      "nr_periods 1000\nnr_throttled 40\nthrottled_time 2000000000\n"
      "nr_bursts 0\nburst_time 0\n");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->usage_ns);  // v1 has it in cpuacct.usage
  EXPECT_EQ(*s->periods, 1000u);
  EXPECT_EQ(*s->throttled_periods, 40u);
  EXPECT_EQ(*s->throttled_ns, 2'000'000'000u);
  EXPECT_FALSE(ParseCpuStatV1("nr_throttled 1\n"));
}

TEST(ParseCpuacctUsageTest, ReadsNanoseconds) {
  EXPECT_EQ(ParseCpuacctUsage("1580474928988\n"), 1580474928988u);
  EXPECT_FALSE(ParseCpuacctUsage("\n"));
  EXPECT_FALSE(ParseCpuacctUsage("15804749 28988\n"));
}

TEST(ParseCpuMaxTest, LimitedAndUnlimited) {
  const auto limited = ParseCpuMax("50000 100000\n");
  ASSERT_TRUE(limited);
  EXPECT_DOUBLE_EQ(*LimitCores(*limited), 0.5);
  const auto unlimited = ParseCpuMax("max 100000\n");
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(LimitCores(*unlimited));
  EXPECT_FALSE(ParseCpuMax("lots 100000\n"));
  EXPECT_FALSE(ParseCpuMax("max\n"));
  EXPECT_FALSE(ParseCpuMax("50000 0\n"));
}

TEST(ParseCfsTest, QuotaOfMinusOneIsUnlimited) {
  EXPECT_EQ(ParseSingleInt("-1\n"), -1);
  EXPECT_EQ(ParseSingleInt("150000\n"), 150000);
  EXPECT_FALSE(ParseSingleInt("\n"));
  EXPECT_FALSE(LimitCores({.quota_us = -1, .period_us = 100000}));
  EXPECT_DOUBLE_EQ(*LimitCores({.quota_us = 150000, .period_us = 100000}), 1.5);
}

TEST(ParseIdListTest, SkipsAndCountsMalformedLines) {
  std::vector<int32_t> ids = {99};
  EXPECT_EQ(ParseIdList("901\nnot-a-tid\n902\n\n-4\n903", ids), 2u);
  EXPECT_EQ(ids, (std::vector<int32_t>{901, 902, 903}));
  EXPECT_EQ(ParseIdList("", ids), 0u);
  EXPECT_TRUE(ids.empty());
}

TEST(FindEnvTest, FindsExactKeysInNulSeparatedText) {
  const std::string_view env = "PATH=/usr/bin\0HOSTNAME_X=no\0HOSTNAME=cart-0\0HOME=/\0"sv;
  EXPECT_EQ(FindEnv(env, "HOSTNAME"), "cart-0");
  EXPECT_EQ(FindEnv(env, "HOME"), "/");
  EXPECT_FALSE(FindEnv(env, "HOST"));
  EXPECT_FALSE(FindEnv("", "HOSTNAME"));
}

TEST(ParseCpuListTest, CountsRangesAndSingles) {
  EXPECT_EQ(ParseCpuList("0-1\n"), 2);
  EXPECT_EQ(ParseCpuList("0\n"), 1);
  EXPECT_EQ(ParseCpuList("0-3,8,10-11\n"), 7);
  EXPECT_FALSE(ParseCpuList("\n"));
  EXPECT_FALSE(ParseCpuList("3-1"));
  EXPECT_FALSE(ParseCpuList("a-b"));
  // More CPUs than an int counts is not a CPU list.
  EXPECT_FALSE(ParseCpuList("0-2147483647"));
  EXPECT_FALSE(ParseCpuList("0-2147483646,0"));
  EXPECT_EQ(ParseCpuList("1-2147483647"), 2147483647);
}

TEST(ParseMountinfoTest, ReadsTypeOptionsAndEscapedPaths) {
  const auto mounts = ParseMountinfo(
      "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
      "28 27 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:5 - cgroup cgroup rw,cpu,cpuacct\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "garbage\n"
      "1 2 3:4 / /x rw no-separator-here\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].root, "/mnt1");
  EXPECT_EQ(mounts[0].mount_point, "/mnt 2");
  EXPECT_EQ(mounts[0].fs_type, "ext3");
  EXPECT_EQ(mounts[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts[1].super_options, "rw,cpu,cpuacct");
  EXPECT_EQ(mounts[2].fs_type, "cgroup2");
}

}  // namespace
}  // namespace exporter::kernel
