#include "exporter/exposition/state_collectable.h"

#include <cmath>
#include <string>

#include "exporter/exposition/families.h"
#include "exporter/exposition/metric_names.h"
#include "exporter/state/interference.h"

namespace exporter::exposition {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// prometheus-cpp holds histogram and summary counts as integers: the adjusted counts are rounded
// to the nearest one (cumulative, so the error never exceeds 0.5 nor grows with time).
uint64_t RoundCount(double count) { return static_cast<uint64_t>(std::llround(count)); }

void SetHistogram(ClientMetric& m, const std::vector<double>& bounds,
                  const std::vector<double>& cumulative, double sum) {
  m.histogram.sample_count = cumulative.empty() ? 0 : RoundCount(cumulative.back());
  m.histogram.sample_sum = sum;
  m.histogram.bucket.reserve(cumulative.size());
  for (size_t i = 0; i < cumulative.size(); ++i) {
    m.histogram.bucket.push_back(
        {RoundCount(cumulative[i]),
         i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity()});
  }
}

void SetSummary(ClientMetric& m, const state::StateSnapshot::Quantiles& q, double count,
                double sum) {
  m.summary.sample_count = RoundCount(count);
  m.summary.sample_sum = sum;
  m.summary.quantile = {{0.5, q.p50}, {0.95, q.p95}, {0.99, q.p99}};
}

void AddFamilyGauges(MetricFamily& f, const state::StateSnapshot::Stats& st,
                     double (*value)(const state::StateSnapshot::Family&)) {
  const std::pair<const char*, const state::StateSnapshot::Family*> families[] = {
      {"operation", &st.operations},
      {"service", &st.services},
      {"instance", &st.instances},
      {"edge", &st.edges}};
  for (const auto& [label, fam] : families) {
    ClientMetric& m = Add(f, {{"family", label}});
    m.counter.value = m.gauge.value = value(*fam);
  }
}

}  // namespace

std::vector<MetricFamily> StateFamilies(const state::StateSnapshot& snap) {
  const size_t ops = snap.operations.size();
  MetricFamily requests = Family(kRequests, MetricType::Counter, ops);
  MetricFamily errors = Family(kRequestErrors, MetricType::Counter, ops);
  MetricFamily duration = Family(kRequestDuration, MetricType::Histogram, ops);
  MetricFamily exclusive = Family(kExclusiveDuration, MetricType::Histogram, ops);
  for (const auto& o : snap.operations) {
    std::vector<ClientMetric::Label> labels = {
        {"namespace", o.k8s_namespace}, {"service", o.service}, {"operation", o.operation}};
    Add(requests, labels).counter.value = o.requests;
    Add(errors, labels).counter.value = o.errors;
    SetHistogram(Add(duration, labels), snap.bucket_bounds, o.duration_buckets, o.duration_sum);
    SetHistogram(Add(exclusive, std::move(labels)), snap.bucket_bounds, o.exclusive_buckets,
                 o.exclusive_sum);
  }

  const size_t svcs = snap.services.size();
  MetricFamily inflight = Family(kInflight, MetricType::Gauge, svcs);
  MetricFamily queue = Family(kQueueLength, MetricType::Gauge, svcs);
  MetricFamily uncongested = Family(kUncongested, MetricType::Gauge, svcs);
  MetricFamily latency = Family(kServiceLatency, MetricType::Summary, svcs);
  MetricFamily excl_latency = Family(kServiceExclusiveLatency, MetricType::Summary, svcs);
  MetricFamily sampled = Family(kRequestsSampled, MetricType::Counter, svcs);
  MetricFamily probability = Family(kSamplingProbability, MetricType::Gauge, svcs);
  MetricFamily unknown = Family(kSamplingUnknown, MetricType::Counter, svcs);
  for (const auto& s : snap.services) {
    std::vector<ClientMetric::Label> labels = {{"namespace", s.k8s_namespace},
                                               {"service", s.service}};
    Add(sampled, labels).counter.value = static_cast<double>(s.requests_sampled);
    Add(unknown, labels).counter.value = static_cast<double>(s.sampling_unknown);
    if (std::isfinite(s.sampling_probability)) {
      Add(probability, labels).gauge.value = s.sampling_probability;
    }
    Add(inflight, labels).gauge.value = s.inflight;
    Add(queue, labels).gauge.value = s.queue_length;
    if (std::isfinite(s.uncongested)) Add(uncongested, labels).gauge.value = s.uncongested;
    SetSummary(Add(latency, labels), s.window_duration, s.requests, s.duration_sum);
    SetSummary(Add(excl_latency, std::move(labels)), s.window_exclusive, s.requests,
               s.exclusive_sum);
  }

  const size_t insts = snap.instances.size();
  MetricFamily inst_requests = Family(kInstanceRequests, MetricType::Counter, insts);
  MetricFamily inst_duration = Family(kInstanceDuration, MetricType::Counter, insts);
  MetricFamily inst_exclusive = Family(kInstanceExclusive, MetricType::Counter, insts);
  MetricFamily inst_mean = Family(kInstanceExclusiveMean, MetricType::Gauge, insts);
  for (const auto& i : snap.instances) {
    std::vector<ClientMetric::Label> labels = {
        {"namespace", i.k8s_namespace}, {"service", i.service}, {"instance", i.instance}};
    Add(inst_requests, labels).counter.value = i.requests;
    Add(inst_duration, labels).counter.value = i.duration_sum;
    Add(inst_exclusive, labels).counter.value = i.exclusive_sum;
    if (std::isfinite(i.window_mean_exclusive)) {
      Add(inst_mean, std::move(labels)).gauge.value = i.window_mean_exclusive;
    }
  }

  const std::vector<state::InstanceImbalance> imbalances = state::ComputeInstanceImbalance(snap);
  MetricFamily imbalance = Family(kServiceImbalance, MetricType::Gauge, imbalances.size());
  for (const auto& b : imbalances) {
    Add(imbalance, {{"namespace", b.k8s_namespace}, {"service", b.service}}).gauge.value = b.ratio;
  }

  MetricFamily calls = Family(kCalls, MetricType::Counter, snap.edges.size());
  for (const auto& e : snap.edges) {
    Add(calls, {{"client", e.client}, {"server", e.server}}).counter.value = e.calls;
  }

  const auto& st = snap.stats;
  MetricFamily traces_buffered = Family(kTracesBuffered, MetricType::Gauge, 1);
  Add(traces_buffered, {}).gauge.value = static_cast<double>(st.buffered_traces);
  MetricFamily spans_buffered = Family(kSpansBuffered, MetricType::Gauge, 1);
  Add(spans_buffered, {}).gauge.value = static_cast<double>(st.buffered_spans);
  MetricFamily finished = Family(kTracesFinished, MetricType::Counter, 1);
  Add(finished, {}).counter.value = static_cast<double>(st.traces_finished);
  MetricFamily evicted = Family(kTracesEvicted, MetricType::Counter, 1);
  Add(evicted, {}).counter.value = static_cast<double>(st.traces_evicted);
  MetricFamily dropped = Family(kTraceSpansDropped, MetricType::Counter, 1);
  Add(dropped, {}).counter.value = static_cast<double>(st.spans_dropped_trace_cap);
  MetricFamily series = Family(kSeries, MetricType::Gauge, 4);
  AddFamilyGauges(series, st, [](const state::StateSnapshot::Family& f) {
    return static_cast<double>(f.series);
  });
  MetricFamily overflow = Family(kSeriesOverflow, MetricType::Counter, 4);
  AddFamilyGauges(overflow, st, [](const state::StateSnapshot::Family& f) {
    return static_cast<double>(f.overflowed);
  });
  MetricFamily expired = Family(kSeriesExpired, MetricType::Counter, 1);
  Add(expired, {}).counter.value = static_cast<double>(st.series_expired);
  MetricFamily interned = Family(kInternedLabels, MetricType::Gauge, 1);
  Add(interned, {}).gauge.value = static_cast<double>(st.interned_strings);
  MetricFamily interned_bytes = Family(kInternedLabelBytes, MetricType::Gauge, 1);
  Add(interned_bytes, {}).gauge.value = static_cast<double>(st.interned_bytes);

  std::vector<MetricFamily> out;
  out.reserve(27);
  for (MetricFamily* f :
       {&requests,  &sampled,      &probability,   &unknown,         &errors,
        &duration,  &exclusive,    &inflight,      &queue,           &uncongested,
        &latency,   &excl_latency, &inst_requests, &inst_duration,   &inst_exclusive,
        &inst_mean, &imbalance,    &calls,         &traces_buffered, &spans_buffered,
        &finished,  &evicted,      &dropped,       &series,          &overflow,
        &expired,   &interned,     &interned_bytes}) {
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace exporter::exposition
