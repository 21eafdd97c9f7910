#include "common/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace common {
namespace {

std::string Sample(size_t n) {
  std::mt19937 rng(3);
  std::string s;
  while (s.size() < n) s += "span service=frontend-" + std::to_string(rng() % 50) + " ok\n";
  s.resize(n);
  return s;
}

std::string Zlib(const std::string& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size())),
            Z_OK);
  out.resize(size);
  return out;
}

TEST(GzipTest, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{300'000}}) {
    const std::string text = Sample(n);
    const std::string zipped = Gzip(text);
    ASSERT_GE(zipped.size(), 18u);  // gzip header and trailer
    EXPECT_EQ(static_cast<unsigned char>(zipped[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(zipped[1]), 0x8b);
    std::string out = "stale";
    EXPECT_EQ(Gunzip(zipped, n, out), GunzipStatus::kOk) << n;  // exactly at the limit is fine
    EXPECT_EQ(out, text);
  }
  const std::string text = Sample(100'000);
  EXPECT_LT(Gzip(text, 9).size(), Gzip(text, 1).size() + 1);
}

TEST(GzipTest, ZlibWrapperAndConcatenatedMembers) {
  const std::string text = Sample(5000);
  std::string out;
  EXPECT_EQ(Gunzip(Zlib(text), 1 << 20, out), GunzipStatus::kOk);
  EXPECT_EQ(out, text);
  EXPECT_EQ(Gunzip(Gzip("first ") + Gzip("second"), 1 << 20, out), GunzipStatus::kOk);
  EXPECT_EQ(out, "first second");
}

TEST(GzipTest, CorruptInput) {
  const std::string zipped = Gzip(Sample(10'000));
  std::string out;
  EXPECT_EQ(Gunzip("", 1 << 20, out), GunzipStatus::kCorrupt);
  EXPECT_EQ(Gunzip("definitely not gzip", 1 << 20, out), GunzipStatus::kCorrupt);
  EXPECT_EQ(Gunzip(zipped.substr(0, zipped.size() / 2), 1 << 20, out), GunzipStatus::kCorrupt);
  EXPECT_EQ(Gunzip(zipped.substr(0, zipped.size() - 1), 1 << 20, out), GunzipStatus::kCorrupt);
  std::string flipped = zipped;
  flipped[flipped.size() - 6] ^= 0x55;  // inside the CRC32 trailer
  EXPECT_EQ(Gunzip(flipped, 1 << 20, out), GunzipStatus::kCorrupt);
  EXPECT_EQ(Gunzip(zipped + "trailing junk", 1 << 20, out), GunzipStatus::kCorrupt);
}

TEST(GzipTest, StopsAtLimit) {
  // 64 MiB of zeros compress to about 64 KiB: a small bomb.
  const std::string bomb = Gzip(std::string(64 << 20, '\0'), 9);
  ASSERT_LT(bomb.size(), 100'000u);
  std::string out;
  EXPECT_EQ(Gunzip(bomb, 1 << 20, out), GunzipStatus::kTooLarge);
  EXPECT_EQ(out.size(), size_t{1} << 20);
  EXPECT_EQ(Gunzip(Gzip("12345"), 4, out), GunzipStatus::kTooLarge);
  EXPECT_EQ(out, "1234");
  EXPECT_EQ(Gunzip(Gzip("12345"), 5, out), GunzipStatus::kOk);
}

}  // namespace
}  // namespace common
