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
      labels_sanitized_(
          Build(prometheus::BuildCounter(), exposition::kSpanLabelsSanitized, registry)),
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

void SourceMetrics::Validated(std::string_view source, const spans::ValidationCounts& counts) {
  for (size_t d = 0; d < spans::kSpanDrops; ++d) {
    Dropped(source, spans::Name(static_cast<spans::SpanDrop>(d)), counts.dropped[d]);
  }
  for (size_t l = 0; l < spans::kSpanLabels; ++l) {
    for (size_t f = 0; f < spans::kLabelFixes; ++f) {
      if (counts.fixed[l][f] == 0) continue;
      labels_sanitized_
          .Add({{"source", std::string(source)},
                {"label", std::string(spans::Name(static_cast<spans::SpanLabel>(l)))},
                {"reason", std::string(spans::Name(static_cast<spans::LabelFix>(f)))}})
          .Increment(static_cast<double>(counts.fixed[l][f]));
    }
  }
}

void SourceMetrics::SetUp(std::string_view source, bool up) {
  up_.Add({{"source", std::string(source)}}).Set(up ? 1 : 0);
}

}  // namespace exporter::sources
