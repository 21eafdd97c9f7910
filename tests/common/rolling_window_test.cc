#include "common/rolling_window.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/clock.h"

namespace common {
namespace {

using std::chrono::seconds;

struct Tally {
  int64_t sum = 0;
  int resets = 0;
  void Reset() {
    sum = 0;
    ++resets;
  }
};

int64_t WindowSum(const RollingWindow<Tally>& w, TimePoint now) {
  int64_t total = 0;
  w.ForEach(now, [&](const Tally& t) { total += t.sum; });
  return total;
}

int TotalResets(const RollingWindow<Tally>& w, TimePoint now) {
  int resets = 0;
  // At the newest sub-window's time, ForEach visits every slot.
  w.ForEach(now, [&](const Tally& t) { resets += t.resets; });
  return resets;
}

// Sub-windows are aligned to multiples of 15 s; start exactly on a boundary.
const TimePoint kStart{seconds{1'700'000'010}};

TEST(RollingWindowTest, SameSubWindowAccumulates) {
  RollingWindow<Tally> w(seconds{60}, 4);
  w.At(kStart).sum += 1;
  w.At(kStart + seconds{14}).sum += 2;
  EXPECT_EQ(&w.At(kStart), &w.At(kStart + seconds{14}));
  EXPECT_EQ(WindowSum(w, kStart + seconds{14}), 3);
  EXPECT_EQ(w.window(), seconds{60});
  EXPECT_EQ(w.bucket_width(), seconds{15});
}

TEST(RollingWindowTest, RotatesOutOldSubWindows) {
  RollingWindow<Tally> w(seconds{60}, 4);
  for (int i = 0; i < 4; ++i) w.At(kStart + seconds{15 * i}).sum += 1 << i;
  EXPECT_EQ(WindowSum(w, kStart + seconds{59}), 1 + 2 + 4 + 8);
  // Entering the fifth sub-window drops the first one.
  w.At(kStart + seconds{60}).sum += 16;
  EXPECT_EQ(WindowSum(w, kStart + seconds{60}), 2 + 4 + 8 + 16);
  w.At(kStart + seconds{75}).sum += 32;
  EXPECT_EQ(WindowSum(w, kStart + seconds{75}), 4 + 8 + 16 + 32);
}

TEST(RollingWindowTest, ForEachSkipsExpiredWithoutRotating) {
  RollingWindow<Tally> w(seconds{60}, 4);
  for (int i = 0; i < 4; ++i) w.At(kStart + seconds{15 * i}).sum += 1 << i;
  EXPECT_EQ(WindowSum(w, kStart + seconds{75}), 4 + 8);
  EXPECT_EQ(WindowSum(w, kStart + seconds{90}), 8);
  EXPECT_EQ(WindowSum(w, kStart + seconds{105}), 0);
  // Nothing was reset by reading: an earlier reader still sees everything.
  EXPECT_EQ(WindowSum(w, kStart + seconds{50}), 15);
}

TEST(RollingWindowTest, BigJumpResetsEachSlotOnce) {
  RollingWindow<Tally> w(seconds{60}, 4);
  for (int i = 0; i < 4; ++i) w.At(kStart + seconds{15 * i}).sum += 1;
  const int before = TotalResets(w, kStart + seconds{45});
  const TimePoint later = kStart + seconds{15} * 1'000'000;
  w.At(later).sum += 5;
  EXPECT_EQ(TotalResets(w, later), before + 4);
  EXPECT_EQ(WindowSum(w, later), 5);
}

TEST(RollingWindowTest, BackwardTimeUsesCurrentSubWindow) {
  RollingWindow<Tally> w(seconds{60}, 4);
  w.At(kStart + seconds{30}).sum += 1;
  Tally& current = w.At(kStart + seconds{30});
  EXPECT_EQ(&w.At(kStart), &current);
  EXPECT_EQ(&w.At(kStart - seconds{3600}), &current);
  w.At(kStart - seconds{3600}).sum += 1;
  EXPECT_EQ(WindowSum(w, kStart + seconds{30}), 2);
  EXPECT_EQ(WindowSum(w, kStart), 2);
  // Going forward again still rotates normally.
  w.At(kStart + seconds{45}).sum += 4;
  EXPECT_EQ(WindowSum(w, kStart + seconds{45}), 6);
  EXPECT_EQ(WindowSum(w, kStart + seconds{90}), 4);
}

TEST(RollingWindowTest, CoveredIsTimeSpannedByLiveSubWindows) {
  RollingWindow<Tally> w(seconds{60}, 4);
  EXPECT_EQ(w.Covered(kStart), Duration::zero());
  w.At(kStart + seconds{5});
  EXPECT_EQ(w.Covered(kStart + seconds{5}), Duration::zero());
  EXPECT_EQ(w.Covered(kStart + seconds{25}), seconds{20});
  // Once warm: three full sub-windows plus the elapsed part of the current one.
  EXPECT_EQ(w.Covered(kStart + seconds{300}), seconds{45});
  EXPECT_EQ(w.Covered(kStart + seconds{310}), seconds{55});
  EXPECT_EQ(w.Covered(kStart + seconds{314}), seconds{59});
  // A reader behind the writer gets the full older sub-windows, and never a negative span.
  w.At(kStart + seconds{100});
  EXPECT_EQ(w.Covered(kStart + seconds{50}), seconds{45});
  EXPECT_EQ(w.Covered(kStart + seconds{20}), seconds{15});
  EXPECT_EQ(w.Covered(kStart), Duration::zero());
}

TEST(RollingWindowTest, TimesBeforeTheEpochRotateToo) {
  RollingWindow<Tally> w(seconds{60}, 4);
  const TimePoint t{seconds{-7}};
  w.At(t).sum += 1;
  w.At(t + seconds{15}).sum += 2;
  EXPECT_EQ(WindowSum(w, t + seconds{15}), 3);
  EXPECT_EQ(WindowSum(w, t + seconds{60}), 2);
}

TEST(RollingWindowTest, UsesPrototypeForEveryBucket) {
  struct Seeded {
    int value = 0;
    void Reset() { value = 0; }
  };
  RollingWindow<Seeded> w(seconds{60}, 4, Seeded{7});
  EXPECT_EQ(w.At(kStart).value, 7);
  EXPECT_EQ(w.At(kStart + seconds{15}).value, 0);  // reset on rotation
}

}  // namespace
}  // namespace common
