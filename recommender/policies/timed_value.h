#pragma once

#include "common/clock.h"

namespace recommender::policies {

// One value of a time-windowed history (stabilisation windows, scale events).
struct TimedValue {
  common::TimePoint t{};
  double value = 0;
};

}  // namespace recommender::policies
