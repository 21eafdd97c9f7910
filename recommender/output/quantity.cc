#include "recommender/output/quantity.h"

#include <algorithm>
#include <cmath>

namespace recommender::output {

std::string FormatQuantity(double value) {
  // Past ±9e18 milli-units int64 arithmetic would overflow; no metric here comes close.
  constexpr double kMaxMilli = 9e18;
  const double milli = std::clamp(std::round(value * 1000), -kMaxMilli, kMaxMilli);
  if (milli != 0 || value == 0) {
    const auto m = static_cast<long long>(milli);
    return m % 1000 == 0 ? std::to_string(m / 1000) : std::to_string(m) + "m";
  }
  const long long nano = std::llround(value * 1e9);
  if (nano == 0) return "0";
  return nano % 1000 == 0 ? std::to_string(nano / 1000) + "u" : std::to_string(nano) + "n";
}

}  // namespace recommender::output
