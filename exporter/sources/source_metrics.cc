#include "exporter/sources/source_metrics.h"

#include "exporter/exposition/metric_names.h"

namespace exporter::sources {
namespace {

template <typename Builder>
auto& Build(Builder builder, const exposition::MetricName& name, prometheus::Registry& registry) {
  return builder.Name(std::string(name.name)).Help(std::string(name.help)).Register(registry);
}

}  // namespace

SourceMetrics::SourceMetrics(prometheus::Registry& registry)
    : received_(Build(prometheus::BuildCounter(), exposition::kSpansReceived, registry)),
      dropped_(Build(prometheus::BuildCounter(), exposition::kSpansDropped, registry)),
      failures_(Build(prometheus::BuildCounter(), exposition::kSourceFailures, registry)),
      up_(Build(prometheus::BuildGauge(), exposition::kSourceUp, registry)) {}

void SourceMetrics::Received(std::string_view source, size_t spans) {
  received_.Add({{"source", std::string(source)}}).Increment(static_cast<double>(spans));
}

void SourceMetrics::Dropped(std::string_view source, std::string_view reason, size_t spans) {
  if (spans == 0) return;
  dropped_.Add({{"source", std::string(source)}, {"reason", std::string(reason)}})
      .Increment(static_cast<double>(spans));
}

void SourceMetrics::Failed(std::string_view source, std::string_view reason) {
  failures_.Add({{"source", std::string(source)}, {"reason", std::string(reason)}}).Increment();
}

void SourceMetrics::SetUp(std::string_view source, bool up) {
  up_.Add({{"source", std::string(source)}}).Set(up ? 1 : 0);
}

}  // namespace exporter::sources
