#include "recommender/output/recommender_metrics.h"

#include <chrono>
#include <cmath>
#include <string>

#include "recommender/output/gauge_family.h"
#include "recommender/output/metric_names.h"

namespace recommender::output {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double UnixSeconds(common::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Buckets for loop steps: a pass over hundreds of workloads takes milliseconds; a fetch over the
// network up to the input timeout.
const prometheus::Histogram::BucketBoundaries& StepBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

}  // namespace

std::vector<MetricFamily> SnapshotFamilies(const Snapshot& snap) {
  const size_t n = snap.workloads.size();
  MetricFamily replicas = GaugeFamily(kRecommendedReplicas, n);
  MetricFamily cpu = GaugeFamily(kRecommendedCpu, n);
  MetricFamily proposal_replicas = GaugeFamily(kProposalReplicas, n * 4);
  MetricFamily proposal_cpu = GaugeFamily(kProposalCpu, n * 4);
  MetricFamily terms = GaugeFamily(kPolicyTerm, n * 16);
  MetricFamily stale = GaugeFamily(kStale, n);
  MetricFamily age = GaugeFamily(kInputAge, n);
  size_t discovered = 0;
  for (const WorkloadView& w : snap.workloads) {
    const std::string& ns = w.config.key.k8s_namespace;
    const std::string& name = w.config.key.workload;
    const combine::Recommendation& r = w.recommendation;
    if (r.replicas) AddGauge(replicas, {{"namespace", ns}, {"workload", name}}, *r.replicas);
    if (r.cpu_cores) {
      AddGauge(cpu, {{"namespace", ns}, {"workload", name}, {"container", w.config.container}},
               *r.cpu_cores);
    }
    for (const policies::Proposal& p : w.proposals) {
      const std::vector<ClientMetric::Label> labels = {
          {"namespace", ns}, {"workload", name}, {"policy", p.policy}};
      if (p.replicas) AddGauge(proposal_replicas, labels, *p.replicas);
      if (p.cpu_cores) AddGauge(proposal_cpu, labels, *p.cpu_cores);
      for (const auto& [term, value] : p.terms) {
        if (std::isnan(value)) continue;  // a term the formula did not reach this pass
        AddGauge(terms,
                 {{"namespace", ns}, {"workload", name}, {"policy", p.policy}, {"term", term}},
                 value);
      }
    }
    AddGauge(stale, {{"namespace", ns}, {"workload", name}}, r.stale ? 1 : 0);
    if (w.signals.observed_at != common::TimePoint{}) {
      AddGauge(age, {{"namespace", ns}, {"workload", name}},
               common::ToSeconds(snap.computed_at - w.signals.observed_at));
    }
    discovered += w.discovered ? 1 : 0;
  }

  MetricFamily target = GaugeFamily(kThrottleTarget, 2);
  if (snap.tower.has_choice) {
    AddGauge(target, {{"group", "high_cpu"}}, snap.tower.high_cpu_target);
    AddGauge(target, {{"group", "other"}}, snap.tower.other_target);
  }
  MetricFamily workloads = GaugeFamily(kWorkloads, 2);
  AddGauge(workloads, {{"origin", "configured"}}, static_cast<double>(n - discovered));
  AddGauge(workloads, {{"origin", "discovered"}}, static_cast<double>(discovered));
  MetricFamily last_pass = GaugeFamily(kLastPass, 1);
  if (snap.computed_at != common::TimePoint{})
    AddGauge(last_pass, {}, UnixSeconds(snap.computed_at));

  std::vector<MetricFamily> out;
  out.reserve(10);
  for (MetricFamily* f : {&replicas, &cpu, &proposal_replicas, &proposal_cpu, &terms, &stale, &age,
                          &target, &workloads, &last_pass}) {
    out.push_back(std::move(*f));
  }
  return out;
}

LoopMetrics::LoopMetrics(prometheus::Registry& registry)
    : steps_(prometheus::BuildHistogram()
                 .Name(std::string(kLoopStep.name))
                 .Help(std::string(kLoopStep.help))
                 .Register(registry)),
      input_errors_(prometheus::BuildCounter()
                        .Name(std::string(kInputErrors.name))
                        .Help(std::string(kInputErrors.help))
                        .Register(registry)),
      malformed_(prometheus::BuildCounter()
                     .Name(std::string(kMalformedLines.name))
                     .Help(std::string(kMalformedLines.help))
                     .Register(registry)
                     .Add({})),
      invalid_values_(prometheus::BuildCounter()
                          .Name(std::string(kInvalidValues.name))
                          .Help(std::string(kInvalidValues.help))
                          .Register(registry)),
      checkpoint_errors_(prometheus::BuildCounter()
                             .Name(std::string(kCheckpointErrors.name))
                             .Help(std::string(kCheckpointErrors.help))
                             .Register(registry)) {
  // Present from the start, so a rate() over them works before the first failure.
  for (const char* step : {"feed", "model", "evaluate", "combine", "publish"}) {
    steps_.Add({{"step", step}}, StepBuckets());
  }
  for (const char* op : {"save", "restore"}) checkpoint_errors_.Add({{"operation", op}});
  for (size_t r = 1; r < static_cast<size_t>(input::Invalid::kTargetFailed); ++r) {
    invalid_values_.Add(
        {{"reason", std::string(input::InvalidName(static_cast<input::Invalid>(r)))}});
  }
}

void LoopMetrics::StepDuration(std::string_view step, double seconds) {
  steps_.Add({{"step", std::string(step)}}, StepBuckets()).Observe(seconds);
}

void LoopMetrics::InputError(std::string_view input, std::string_view reason) {
  input_errors_.Add({{"input", std::string(input)}, {"reason", std::string(reason)}}).Increment();
}

void LoopMetrics::MalformedLines(size_t lines) { malformed_.Increment(static_cast<double>(lines)); }

void LoopMetrics::InvalidValues(input::Invalid reason, size_t values) {
  invalid_values_.Add({{"reason", std::string(input::InvalidName(reason))}})
      .Increment(static_cast<double>(values));
}

void LoopMetrics::CheckpointError(std::string_view operation) {
  checkpoint_errors_.Add({{"operation", std::string(operation)}}).Increment();
}

}  // namespace recommender::output
