#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "exporter/exposition/metric_names.h"
#include "prometheus/metric_family.h"

namespace exporter::exposition {

// Small builders the snapshot collectables share: a family with its HELP from metric_names.h, and
// one sample appended with its labels.
inline prometheus::MetricFamily Family(const MetricName& name, prometheus::MetricType type,
                                       size_t reserve) {
  prometheus::MetricFamily f;
  f.name = name.name;
  f.help = name.help;
  f.type = type;
  f.metric.reserve(reserve);
  return f;
}

inline prometheus::ClientMetric& Add(prometheus::MetricFamily& f,
                                     std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric& m = f.metric.emplace_back();
  m.label = std::move(labels);
  return m;
}

// Appends a counter or gauge sample (by the family's type) when `value` is present.
template <typename T>
void AddIf(prometheus::MetricFamily& f, const std::vector<prometheus::ClientMetric::Label>& labels,
           const std::optional<T>& value) {
  if (!value) return;
  prometheus::ClientMetric& m = Add(f, labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = static_cast<double>(*value);
  } else {
    m.gauge.value = static_cast<double>(*value);
  }
}

}  // namespace exporter::exposition
