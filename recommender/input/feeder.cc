#include "recommender/input/feeder.h"

#include <cmath>
#include <map>
#include <set>
#include <string>

namespace recommender::input {
namespace {

void Sum(double& acc, double v) {
  if (std::isfinite(v)) acc = std::isnan(acc) ? v : acc + v;
}
void Max(double& acc, double v) {
  if (std::isfinite(v)) acc = std::isnan(acc) ? v : std::max(acc, v);
}
double Ratio(double num, double den) { return den > 0 ? num / den : kAbsent; }

struct Accumulator {
  double request_rate = kAbsent, sampled_requests = kAbsent, inflight = kAbsent, busy = kAbsent,
         queue_length = kAbsent;
  double p95 = kAbsent, p99 = kAbsent, tail_exclusive = kAbsent, uncongested = kAbsent;
  std::set<std::string> instances;
  // Per instance: span rates summed over the workload's services, and its pod's kernel rates.
  struct Instance {
    double requests = kAbsent, duration = kAbsent, exclusive = kAbsent;
    double runqueue_wait = kAbsent, timeslices = kAbsent, periods = kAbsent, throttled = kAbsent;
    double pressure = kAbsent, interference = kAbsent;
    bool served = false;  // seen in the span view
  };
  std::map<std::string, Instance> per_instance;
  // Kernel, summed over the workload's containers.
  double cpu_usage = kAbsent, cpu_usage_now = kAbsent;
  double runqueue_wait = kAbsent, timeslices = kAbsent, periods = kAbsent, throttled = kAbsent;
  double interference = kAbsent, recommended = kAbsent;
  std::map<std::string, double> pod_limit, pod_request;  // per pod, over its sized containers
  std::set<std::string> pods;
  double replicas = kAbsent, ready = kAbsent;
  Invalid invalid = Invalid::kNone;
};

double MaxOverPods(const std::map<std::string, double>& per_pod) {
  double m = kAbsent;
  for (const auto& [pod, v] : per_pod) Max(m, v);
  return m;
}

// The container sized for the workload; an empty setting takes every container but the pause
// container, which some runtimes report as "POD".
bool Sized(const WorkloadConfig& c, std::string_view container) {
  if (c.container.empty()) return container != "POD";
  return container == c.container;
}

}  // namespace

size_t Feeder::Apply(const Observations& obs, model::Model& model, common::TimePoint now,
                     size_t* invalid) {
  std::map<size_t, Accumulator> acc;
  for (const ServiceObservation& s : obs.services) {
    for (size_t w : model.ResolveService(s.k8s_namespace, s.service)) {
      Accumulator& a = acc[w];
      Refuse(a.invalid, s.invalid);
      Sum(a.request_rate, s.request_rate);
      Sum(a.sampled_requests, s.sampled_requests);
      Sum(a.inflight, s.inflight);
      Sum(a.busy, s.busy);
      Sum(a.queue_length, s.queue_length);
      Max(a.p95, s.p95_seconds);
      Max(a.p99, s.p99_seconds);
      Max(a.tail_exclusive, s.tail_exclusive_seconds);
      Max(a.uncongested, s.uncongested_seconds);
      a.instances.insert(s.instances.begin(), s.instances.end());
      for (const InstanceObservation& i : s.instance_rates) {
        Accumulator::Instance& x = a.per_instance[i.instance];
        x.served = true;
        Sum(x.requests, i.request_rate);
        Sum(x.duration, i.duration_rate);
        Sum(x.exclusive, i.exclusive_rate);
      }
    }
  }
  for (const ContainerObservation& c : obs.containers) {
    const std::optional<size_t> w = model.ResolvePod(c.k8s_namespace, c.pod);
    if (!w || !Sized(model.configs()[*w], c.container)) continue;
    Accumulator& a = acc[*w];
    Refuse(a.invalid, c.invalid);
    a.pods.insert(c.pod);
    Sum(a.cpu_usage, c.cpu_usage_cores);
    Sum(a.cpu_usage_now, c.cpu_usage_now_cores);
    Sum(a.runqueue_wait, c.runqueue_wait_rate);
    Sum(a.timeslices, c.timeslice_rate);
    Sum(a.periods, c.periods_rate);
    Sum(a.throttled, c.throttled_periods_rate);
    Max(a.interference, c.interference_ratio);
    Max(a.recommended, c.recommended_cpu_cores);
    Accumulator::Instance& x = a.per_instance[c.pod];
    Sum(x.runqueue_wait, c.runqueue_wait_rate);
    Sum(x.timeslices, c.timeslice_rate);
    Sum(x.periods, c.periods_rate);
    Sum(x.throttled, c.throttled_periods_rate);
    Sum(x.pressure, c.cpu_pressure_rate);
    Max(x.interference, c.interference_ratio);
    if (std::isfinite(c.cpu_limit_cores)) a.pod_limit[c.pod] += c.cpu_limit_cores;
    if (std::isfinite(c.cpu_request_cores)) a.pod_request[c.pod] += c.cpu_request_cores;
  }
  for (const DeploymentObservation& d : obs.deployments) {
    const std::optional<size_t> w = model.Find({d.k8s_namespace, d.deployment});
    if (!w) continue;
    Accumulator& a = acc[*w];
    Refuse(a.invalid, d.invalid);
    a.replicas = d.replicas;
    a.ready = d.ready_replicas;
  }

  size_t recorded = 0, refused = 0;
  for (const auto& [w, a] : acc) {
    if (a.invalid != Invalid::kNone) {
      model.MarkInvalid(w, InvalidName(a.invalid), now);
      ++refused;
      continue;
    }
    model::WorkloadSample x;
    x.at = now;
    x.request_rate = a.request_rate;
    x.sampled_requests = a.sampled_requests;
    x.inflight = a.inflight;
    x.busy = a.busy;
    x.queue_length = a.queue_length;
    x.p95_latency_seconds = a.p95;
    x.p99_latency_seconds = a.p99;
    x.tail_exclusive_seconds = a.tail_exclusive;
    x.uncongested_seconds = a.uncongested;
    x.cpu_usage_cores = a.cpu_usage;
    x.runqueue_wait_per_timeslice_seconds = Ratio(a.runqueue_wait, a.timeslices);
    x.throttled_ratio = Ratio(a.throttled, a.periods);
    x.interference_ratio = a.interference;
    x.node_recommended_cpu_cores = a.recommended;
    x.cpu_limit_cores = MaxOverPods(a.pod_limit);
    x.cpu_request_cores = MaxOverPods(a.pod_request);
    // Without kube-state-metrics, the pods seen are the best count of current replicas.
    const double pods_seen =
        static_cast<double>(!a.pods.empty() ? a.pods.size() : a.instances.size());
    x.current_replicas =
        std::isfinite(a.replicas) ? a.replicas : (pods_seen > 0 ? pods_seen : kAbsent);
    x.ready_replicas = a.ready;
    if (!a.pods.empty()) {
      x.cpu_usage_per_pod_now = a.cpu_usage_now / static_cast<double>(a.pods.size());
    }
    // Instances are pods by name (the exporter's instance label is k8s.pod.name when spans
    // carry it); a pod without spans in the window serves no load and is left out.
    for (const auto& [name, i] : a.per_instance) {
      if (!i.served) continue;
      x.instances.push_back(
          {.instance = name,
           .request_rate = i.requests,
           .mean_latency_seconds = Ratio(i.duration, i.requests),
           .mean_exclusive_seconds = Ratio(i.exclusive, i.requests),
           .runqueue_wait_per_timeslice_seconds = Ratio(i.runqueue_wait, i.timeslices),
           .cpu_pressure_ratio = i.pressure,
           .throttled_ratio = Ratio(i.throttled, i.periods),
           .interference_ratio = i.interference});
    }
    model.Record(w, x);
    ++recorded;
  }
  if (invalid != nullptr) *invalid = refused;
  return recorded;
}

FeedReport Feeder::LoadInto(model::Model& model, common::TimePoint now) {
  FetchResult fetched = source_->Fetch(now);
  FeedReport report;
  report.errors = std::move(fetched.errors);
  report.malformed_lines = fetched.malformed_lines;
  report.services = fetched.observations.services.size();
  report.containers = fetched.observations.containers.size();
  report.deployments = fetched.observations.deployments.size();
  report.invalid_values = fetched.invalid_values;
  report.workloads_updated = Apply(fetched.observations, model, now, &report.workloads_invalid);
  return report;
}

}  // namespace recommender::input
