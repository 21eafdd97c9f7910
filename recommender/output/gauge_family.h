#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "recommender/output/metric_names.h"

// Builders for the gauge families rendered from a published snapshot at scrape time.
namespace recommender::output {

inline prometheus::MetricFamily GaugeFamily(const MetricName& name, size_t reserve) {
  prometheus::MetricFamily f;
  f.name = name.name;
  f.help = name.help;
  f.type = prometheus::MetricType::Gauge;
  f.metric.reserve(reserve);
  return f;
}

inline void AddGauge(prometheus::MetricFamily& f,
                     std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric& m = f.metric.emplace_back();
  m.label = std::move(labels);
  m.gauge.value = value;
}

}  // namespace recommender::output
