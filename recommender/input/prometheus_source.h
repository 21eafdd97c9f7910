#pragma once

#include "recommender/input/prometheus_client.h"
#include "recommender/input/source.h"

namespace recommender::input {

// Reads everything queries.h lists through Prometheus' HTTP API, one instant query each.
// kube-state-metrics series are optional: an empty answer is not an error. When Prometheus
// cannot be reached the round stops at the first query instead of waiting out every timeout.
// Answers are checked before use: a rate that is NaN, ±Inf, negative or above `max_rate`, or a
// gauge that is NaN or ±Inf, marks its observation invalid (a NaN quantile is only absent).
class PrometheusSource final : public Source {
 public:
  PrometheusSource(PrometheusClient client, common::Duration window,
                   double max_rate = kDefaultMaxCounterRate)
      : client_(std::move(client)), window_(window), max_rate_(max_rate) {}

  std::string_view Name() const override { return "prometheus"; }
  FetchResult Fetch(common::TimePoint now) override;

 private:
  PrometheusClient client_;
  common::Duration window_;
  double max_rate_;
};

}  // namespace recommender::input
