#pragma once

#include <string_view>

#include "common/clock.h"
#include "recommender/input/observations.h"

namespace recommender::input {

// Where observations come from: Prometheus' HTTP API or direct scrapes of exporters. A Source
// never throws from Fetch; what failed is in FetchResult::errors and the rest is still returned.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view Name() const = 0;
  virtual FetchResult Fetch(common::TimePoint now) = 0;
};

}  // namespace recommender::input
