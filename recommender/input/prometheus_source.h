#pragma once

#include "recommender/input/prometheus_client.h"
#include "recommender/input/source.h"

namespace recommender::input {

// Reads everything queries.h lists through Prometheus' HTTP API, one instant query each.
// kube-state-metrics series are optional: an empty answer is not an error. When Prometheus
// cannot be reached the round stops at the first query instead of waiting out every timeout.
class PrometheusSource final : public Source {
 public:
  PrometheusSource(PrometheusClient client, common::Duration window)
      : client_(std::move(client)), window_(window) {}

  std::string_view Name() const override { return "prometheus"; }
  FetchResult Fetch(common::TimePoint now) override;

 private:
  PrometheusClient client_;
  common::Duration window_;
};

}  // namespace recommender::input
