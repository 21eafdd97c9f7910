#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "prometheus/registry.h"

namespace exporter::sources {

// The sum of the samples of family `name` whose labels include all of `labels`; NaN when no
// sample matches (a counter never incremented has no sample).
inline double MetricValue(const prometheus::Registry& registry, std::string_view name,
                          const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  bool found = false;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& l : metric.label) {
        const auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched != labels.size()) continue;
      found = true;
      sum +=
          family.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
    }
  }
  return found ? sum : std::numeric_limits<double>::quiet_NaN();
}

// Counters that were never incremented have no sample; read them as 0.
inline double CounterValue(const prometheus::Registry& registry, std::string_view name,
                           const std::map<std::string, std::string>& labels = {}) {
  const double v = MetricValue(registry, name, labels);
  return std::isnan(v) ? 0 : v;
}

}  // namespace exporter::sources
