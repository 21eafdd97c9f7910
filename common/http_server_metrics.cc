#include "common/http_server_metrics.h"

#include "common/metric_names.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace common {
namespace {

prometheus::MetricFamily Family(const HttpMetricName& name, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::string(name.name);
  family.help = std::string(name.help);
  family.type = type;
  return family;
}

void AddSample(prometheus::MetricFamily& family,
               std::vector<prometheus::ClientMetric::Label> labels, uint64_t value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = static_cast<double>(value);
  } else {
    metric.gauge.value = static_cast<double>(value);
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace

void HttpServerCollectable::Add(std::string listener, const HttpServer* server) {
  std::lock_guard lock(mu_);
  servers_.emplace_back(std::move(listener), server);
}

std::vector<prometheus::MetricFamily> HttpServerCollectable::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out = {
      Family(kHttpConnections, MetricType::Gauge),
      Family(kHttpConnectionsAccepted, MetricType::Counter),
      Family(kHttpConnectionsRefused, MetricType::Counter),
      Family(kHttpRequests, MetricType::Counter),
      Family(kHttpRejected, MetricType::Counter),
      Family(kHttpTimeouts, MetricType::Counter),
      Family(kHttpTlsHandshakeFailures, MetricType::Counter),
      Family(kHttpBodyBytes, MetricType::Gauge)};
  std::lock_guard lock(mu_);
  for (const auto& [listener, server] : servers_) {
    const HttpServer::Stats s = server->stats();
    const prometheus::ClientMetric::Label l{"listener", listener};
    AddSample(out[0], {l}, s.connections_open);
    AddSample(out[1], {l}, s.connections_accepted);
    AddSample(out[2], {l}, s.connections_refused);
    AddSample(out[3], {l}, s.requests);
    AddSample(out[4], {l}, s.bad_requests);
    for (const auto& [phase, value] :
         {std::pair{"header", s.header_timeouts}, std::pair{"body", s.body_timeouts},
          std::pair{"write", s.write_timeouts}, std::pair{"idle", s.idle_closes}}) {
      AddSample(out[5], {l, {"phase", phase}}, value);
    }
    AddSample(out[6], {l}, s.tls_handshake_failures);
    AddSample(out[7], {l}, s.body_bytes_buffered);
  }
  return out;
}

}  // namespace common
