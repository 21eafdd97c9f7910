#include "control/stats.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace control {

double Summary::PopulationStdev() const {
  return count == 0 ? 0 : std::sqrt(m2 / static_cast<double>(count));
}

double Summary::SampleStdev() const {
  return count < 2 ? 0 : std::sqrt(m2 / static_cast<double>(count - 1));
}

Summary Summarize(std::span<const double> values) {
  // Two passes without a division per value: several times faster than Welford on the
  // five-minute windows, and exact enough for usage in cores.
  Summary s;
  double sum = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    ++s.count;
    sum += v;
    s.max = std::max(s.max, v);
  }
  if (s.count == 0) return s;
  s.mean = sum / static_cast<double>(s.count);
  for (double v : values) {
    if (std::isfinite(v)) s.m2 += (v - s.mean) * (v - s.mean);
  }
  return s;
}

double Median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto mid = static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[static_cast<size_t>(mid)];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

std::span<const double> RecentSamples(const std::vector<double>& history, common::Duration interval,
                                      common::Duration window) {
  size_t n = history.size();
  if (interval > common::Duration::zero()) {
    const auto wanted = static_cast<size_t>(
        std::max<int64_t>(1, (window.count() + interval.count() - 1) / interval.count()));
    n = std::min(wanted, n);
  }
  return std::span<const double>(history).subspan(history.size() - n);
}

std::string FormatNumber(double value) {
  char buf[32];
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general, 6);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

}  // namespace control
