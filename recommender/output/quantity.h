#pragma once

#include <string>

namespace recommender::output {

// `value` as a Kubernetes quantity at milli precision, the precision the HPA reads:
// "3", "1500m", "-250m"; a non-zero value that would round to 0m in micro or nano units
// ("50u", "7n"). `value` must be finite.
std::string FormatQuantity(double value);

}  // namespace recommender::output
