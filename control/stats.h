#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"

// Small numeric helpers shared by the Captain and the recommender's policies.
namespace control {

// Count, mean, max and spread of the finite values of a series.
struct Summary {
  size_t count = 0;
  double mean = 0;
  double max = -std::numeric_limits<double>::infinity();
  double m2 = 0;  // Σ (x − mean)²

  double PopulationStdev() const;  // 0 when empty
  double SampleStdev() const;      // 0 with fewer than 2 values
};
Summary Summarize(std::span<const double> values);

double Median(std::vector<double> values);  // NaN when empty

// The newest samples of `history` (oldest first, one per `interval`) that cover `window`:
// ceil(window / interval) of them, at least one; all when the interval is unknown.
std::span<const double> RecentSamples(const std::vector<double>& history, common::Duration interval,
                                      common::Duration window);

// Six significant digits for reasons: "0.04", "12", "nan".
std::string FormatNumber(double value);

}  // namespace control
