#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/http_server.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace common {

// The self-metrics of a binary's HTTP listeners (common/metric_names.h), read from each
// server's counters at collection time. Add the servers as they start; they must outlive it.
class HttpServerCollectable : public prometheus::Collectable {
 public:
  void Add(std::string listener, const HttpServer* server);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, const HttpServer*>> servers_;  // guarded by mu_
};

}  // namespace common
