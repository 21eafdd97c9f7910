#pragma once

#include <string>
#include <string_view>

#include "exporter/spans/validate.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace exporter::sources {

// The self-metrics every span source reports, kept in the process's prometheus::Registry
// (thread-safe counters: sources run on their own threads).
class SourceMetrics {
 public:
  explicit SourceMetrics(prometheus::Registry& registry);

  void Received(std::string_view source, size_t spans);
  void Dropped(std::string_view source, std::string_view reason, size_t spans);
  void Failed(std::string_view source, std::string_view reason);
  // The outcome of ExporterLoop::Validate: dropped spans and repaired label values.
  void Validated(std::string_view source, const spans::ValidationCounts& counts);
  void SetUp(std::string_view source, bool up);

 private:
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& labels_sanitized_;
  prometheus::Family<prometheus::Gauge>& up_;
};

}  // namespace exporter::sources
