#include "recommender/input/scrape_source.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>
#include <unordered_map>

#include "recommender/input/histogram.h"
#include "recommender/input/queries.h"

namespace recommender::input {

void CounterTracker::BeginRound(common::TimePoint now) {
  now_ = now;
  for (auto& [key, a] : aggregates_) a.observed = false;
}

bool CounterTracker::Observe(std::string_view raw_key, double value) {
  auto it = raw_.find(raw_key);
  if (it == raw_.end()) return false;
  Raw& r = it->second;
  r.aggregate->observed = true;
  // A non-finite value or the same series twice in one round changes nothing.
  if (!std::isfinite(value) || r.seen == now_) return true;
  r.aggregate->total += value >= r.last ? value - r.last : value;
  r.last = value;
  r.seen = now_;
  return true;
}

void CounterTracker::Track(std::string_view raw_key, std::string_view aggregate_key, double value) {
  if (!std::isfinite(value)) return;
  auto a = aggregates_.find(aggregate_key);
  if (a == aggregates_.end()) {
    a = aggregates_.emplace(std::string(aggregate_key), Aggregate{}).first;
  }
  a->second.observed = true;
  raw_.emplace(std::string(raw_key), Raw{value, now_, &a->second});
}

void CounterTracker::EndRound() {
  const common::TimePoint horizon = now_ - window_;
  // Raw series first: each one's aggregate got a point whenever the series was seen, so an
  // aggregate that is dropped below has no raw series left pointing at it.
  std::erase_if(raw_, [&](const auto& kv) { return kv.second.seen < horizon; });
  for (auto it = aggregates_.begin(); it != aggregates_.end();) {
    Aggregate& a = it->second;
    if (a.observed) a.points.push_back({now_, a.total});
    while (!a.points.empty() && a.points.front().t < horizon) a.points.pop_front();
    it = a.points.empty() ? aggregates_.erase(it) : std::next(it);
  }
}

const CounterTracker::Aggregate* CounterTracker::Find(std::string_view key) const {
  auto it = aggregates_.find(key);
  return it == aggregates_.end() || it->second.points.size() < 2 ? nullptr : &it->second;
}

std::optional<double> CounterTracker::Increase(std::string_view key) const {
  const Aggregate* a = Find(key);
  if (a == nullptr) return std::nullopt;
  return a->points.back().total - a->points.front().total;
}

std::optional<double> CounterTracker::Rate(std::string_view key) const {
  const Aggregate* a = Find(key);
  if (a == nullptr) return std::nullopt;
  const Point& first = a->points.front();
  const Point& last = a->points.back();
  return (last.total - first.total) / common::ToSeconds(last.t - first.t);
}

std::optional<double> CounterTracker::LastRate(std::string_view key) const {
  const Aggregate* a = Find(key);
  if (a == nullptr) return std::nullopt;
  const Point& first = a->points[a->points.size() - 2];
  const Point& last = a->points.back();
  return (last.total - first.total) / common::ToSeconds(last.t - first.t);
}

namespace {

namespace q = queries;
constexpr char kSep = '\x1f';

// Joins key parts into `out`, reusing its capacity: no allocation per sample once warm.
const std::string& Key(std::string& out, std::initializer_list<std::string_view> parts) {
  out.clear();
  for (std::string_view p : parts) {
    out.append(p);
    out.push_back(kSep);
  }
  return out;
}

double Or(std::optional<double> v) { return v ? *v : kAbsent; }

// max() that treats an absent value as nothing.
void Max(double& acc, double v) {
  if (std::isfinite(v)) acc = std::isnan(acc) ? v : std::max(acc, v);
}
void Sum(double& acc, double v) {
  if (std::isfinite(v)) acc = std::isnan(acc) ? v : acc + v;
}

bool Named(const TextSample& s, std::string_view base, std::string_view suffix = {}) {
  const std::string_view n = s.name;
  return n.size() == base.size() + suffix.size() && n.starts_with(base) && n.ends_with(suffix);
}

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;

// What one round saw, grouped the way queries.h groups it.
class Round {
 public:
  Round(CounterTracker& counters, common::TimePoint now) : counters_(counters), now_(now) {}

  void Add(size_t target, const TextSample& s) {
    const std::string_view ns = LabelValue(s.labels, "namespace");
    if (s.name.starts_with("queuelens_container_")) return Container(target, s, ns);
    if (s.name.starts_with("kube_")) return Kube(s, ns);
    if (!s.name.starts_with("queuelens_")) return;
    const std::string_view svc = LabelValue(s.labels, "service");
    if (svc.empty()) return;
    if (Named(s, q::kRequests)) {
      Service(ns, svc).requests = true;
      Count(target, s, {"r", ns, svc});
    } else if (Named(s, q::kDuration, "_sum")) {
      Count(target, s, {"ds", ns, svc});
    } else if (Named(s, q::kExclusive, "_sum")) {
      Count(target, s, {"es", ns, svc});
    } else if (Named(s, q::kDuration, "_bucket")) {
      Bucket(target, s, "db", ns, svc, Service(ns, svc).duration_le);
    } else if (Named(s, q::kExclusive, "_bucket")) {
      Bucket(target, s, "eb", ns, svc, Service(ns, svc).exclusive_le);
    } else if (Named(s, q::kQueueLength)) {
      Sum(Service(ns, svc).queue_length, s.value);
    } else if (Named(s, q::kUncongested)) {
      Max(Service(ns, svc).uncongested, s.value);
    } else if (Named(s, q::kInstanceRequests)) {
      const std::string_view instance = LabelValue(s.labels, "instance");
      ServiceAcc& acc = Service(ns, svc);
      if (std::find(acc.instances.begin(), acc.instances.end(), instance) == acc.instances.end()) {
        acc.instances.emplace_back(instance);
      }
      Count(target, s, {"i", ns, svc, instance});
    }
  }

  void Finish(common::TimePoint now, Observations& out) {
    for (auto& [id, acc] : services_) {
      if (!acc.requests) continue;  // gauges alone do not say the service is being observed
      const std::string& ns = acc.k8s_namespace;
      const std::string& svc = acc.service;
      ServiceObservation& o = out.services.emplace_back();
      o.k8s_namespace = ns;
      o.service = svc;
      o.at = now;
      o.request_rate = Or(counters_.Rate(Key(key_, {"r", ns, svc})));
      o.inflight = Or(counters_.Rate(Key(key_, {"ds", ns, svc})));
      o.busy = Or(counters_.Rate(Key(key_, {"es", ns, svc})));
      o.queue_length = acc.queue_length;
      o.uncongested_seconds = acc.uncongested;
      o.p95_seconds = Quantile(0.95, "db", ns, svc, acc.duration_le);
      o.p99_seconds = Quantile(0.99, "db", ns, svc, acc.duration_le);
      o.tail_exclusive_seconds = Quantile(0.9, "eb", ns, svc, acc.exclusive_le);
      for (const std::string& instance : acc.instances) {
        if (Or(counters_.Rate(Key(key_, {"i", ns, svc, instance}))) > 0) {
          o.instances.push_back(instance);
        }
      }
    }
    for (auto& [id, acc] : containers_) {
      ContainerObservation& o = out.containers.emplace_back();
      o.k8s_namespace = acc.k8s_namespace;
      o.pod = acc.pod;
      o.container = acc.container;
      o.at = now;
      const auto rate = [&](std::string_view kind) {
        return Or(counters_.Rate(Key(key_, {kind, o.k8s_namespace, o.pod, o.container})));
      };
      o.cpu_usage_cores = rate("cu");
      o.cpu_usage_now_cores =
          Or(counters_.LastRate(Key(key_, {"cu", o.k8s_namespace, o.pod, o.container})));
      o.runqueue_wait_rate = rate("rw");
      o.timeslice_rate = rate("ts");
      o.periods_rate = rate("cp");
      o.throttled_periods_rate = rate("ct");
      o.cpu_limit_cores = std::isnan(acc.cgroup_limit) ? acc.spec_limit : acc.cgroup_limit;
      o.cpu_request_cores = acc.spec_request;
      o.interference_ratio = acc.interference;
      o.recommended_cpu_cores = acc.recommended;
    }
    for (const auto& [id, d] : deployments_) out.deployments.push_back(d);
    // Hash order is arbitrary; callers and logs get a stable one.
    const auto by_name = [](const auto& a, const auto& b) {
      return std::tie(a.k8s_namespace, a.service) < std::tie(b.k8s_namespace, b.service);
    };
    std::sort(out.services.begin(), out.services.end(), by_name);
    std::sort(out.containers.begin(), out.containers.end(), [](const auto& a, const auto& b) {
      return std::tie(a.k8s_namespace, a.pod, a.container) <
             std::tie(b.k8s_namespace, b.pod, b.container);
    });
    std::sort(out.deployments.begin(), out.deployments.end(), [](const auto& a, const auto& b) {
      return std::tie(a.k8s_namespace, a.deployment) < std::tie(b.k8s_namespace, b.deployment);
    });
  }

 private:
  struct ServiceAcc {
    std::string k8s_namespace, service;
    bool requests = false;
    double queue_length = kAbsent;
    double uncongested = kAbsent;
    std::set<std::string, std::less<>> duration_le, exclusive_le;
    std::vector<std::string> instances;
  };
  struct ContainerAcc {
    std::string k8s_namespace, pod, container;
    double cgroup_limit = kAbsent, spec_limit = kAbsent, spec_request = kAbsent;
    double interference = kAbsent, recommended = kAbsent;
  };

  ServiceAcc& Service(std::string_view ns, std::string_view svc) {
    auto it = services_.find(Key(key_, {ns, svc}));
    if (it == services_.end()) {
      it = services_.emplace(key_, ServiceAcc{}).first;
      it->second.k8s_namespace = ns;
      it->second.service = svc;
    }
    return it->second;
  }
  ContainerAcc& ContainerAt(std::string_view ns, std::string_view pod, std::string_view c) {
    auto it = containers_.find(Key(key_, {ns, pod, c}));
    if (it == containers_.end()) {
      it = containers_.emplace(key_, ContainerAcc{}).first;
      it->second.k8s_namespace = ns;
      it->second.pod = pod;
      it->second.container = c;
    }
    return it->second;
  }

  // The raw series is identified by target, name and labels; its aggregate by `parts`, which
  // is only spelled out the first time the series is seen.
  void Count(size_t target, const TextSample& s, std::initializer_list<std::string_view> parts) {
    raw_.clear();
    raw_.append(std::to_string(target)).push_back(kSep);
    raw_.append(s.name);
    for (const auto& [n, v] : s.labels) {
      raw_.push_back(kSep);
      raw_.append(n).push_back('=');
      raw_.append(v);
    }
    if (!counters_.Observe(raw_, s.value)) counters_.Track(raw_, Key(key_, parts), s.value);
  }

  void Bucket(size_t target, const TextSample& s, std::string_view kind, std::string_view ns,
              std::string_view svc, std::set<std::string, std::less<>>& les) {
    const std::string_view le = LabelValue(s.labels, "le");
    if (!ParseFloatValue(le)) return;
    if (!les.contains(le)) les.emplace(le);
    Count(target, s, {kind, ns, svc, le});
  }

  double Quantile(double quantile, std::string_view kind, std::string_view ns, std::string_view svc,
                  const std::set<std::string, std::less<>>& les) {
    std::vector<HistogramBucket> buckets;
    buckets.reserve(les.size());
    for (const std::string& le : les) {
      const std::optional<double> increase = counters_.Increase(Key(key_, {kind, ns, svc, le}));
      if (!increase) return kAbsent;
      buckets.push_back({*ParseFloatValue(le), *increase});
    }
    return HistogramQuantile(quantile, std::move(buckets));
  }

  void Container(size_t target, const TextSample& s, std::string_view ns) {
    const std::string_view pod = LabelValue(s.labels, "pod");
    const std::string_view container = LabelValue(s.labels, "container");
    if (pod.empty()) return;
    const auto count = [&](std::string_view kind) {
      ContainerAt(ns, pod, container);
      Count(target, s, {kind, ns, pod, container});
    };
    if (Named(s, q::kCpuUsage)) {
      count("cu");
    } else if (Named(s, q::kRunqueueWait)) {
      count("rw");
    } else if (Named(s, q::kTimeslices)) {
      count("ts");
    } else if (Named(s, q::kCpuPeriods)) {
      count("cp");
    } else if (Named(s, q::kCpuThrottledPeriods)) {
      count("ct");
    } else if (Named(s, q::kCpuLimit)) {
      Max(ContainerAt(ns, pod, container).cgroup_limit, s.value);
    } else if (Named(s, q::kInterference)) {
      Max(ContainerAt(ns, pod, container).interference, s.value);
    } else if (Named(s, q::kRecommendedCpu)) {
      Max(ContainerAt(ns, pod, container).recommended, s.value);
    }
  }

  void Kube(const TextSample& s, std::string_view ns) {
    if (Named(s, q::kKsmReplicas) || Named(s, q::kKsmReadyReplicas)) {
      const std::string_view deployment = LabelValue(s.labels, "deployment");
      if (deployment.empty()) return;
      auto it = deployments_.find(Key(key_, {ns, deployment}));
      if (it == deployments_.end()) {
        it = deployments_.emplace(key_, DeploymentObservation{}).first;
        it->second.k8s_namespace = ns;
        it->second.deployment = deployment;
        it->second.at = now_;
      }
      Max(Named(s, q::kKsmReplicas) ? it->second.replicas : it->second.ready_replicas, s.value);
      return;
    }
    const bool request = Named(s, q::kKsmRequests);
    if (!request && !Named(s, q::kKsmLimits)) return;
    if (LabelValue(s.labels, "resource") != "cpu") return;
    const std::string_view pod = LabelValue(s.labels, "pod");
    if (pod.empty()) return;
    ContainerAcc& c = ContainerAt(ns, pod, LabelValue(s.labels, "container"));
    Sum(request ? c.spec_request : c.spec_limit, s.value);
  }

  CounterTracker& counters_;
  common::TimePoint now_;
  std::string raw_, key_;  // reused key buffers
  Map<ServiceAcc> services_;
  Map<ContainerAcc> containers_;
  Map<DeploymentObservation> deployments_;
};

}  // namespace

ScrapeSource::ScrapeSource(std::vector<std::string> urls, common::HttpGet get,
                           ScrapeOptions options)
    : urls_(std::move(urls)), get_(std::move(get)), options_(options), counters_(options.window) {}

FetchResult ScrapeSource::Fetch(common::TimePoint now) {
  FetchResult result;
  counters_.BeginRound(now);
  Round round(counters_, now);
  for (size_t i = 0; i < urls_.size(); ++i) {
    const common::HttpResult http = get_(urls_[i]);
    if (!http.ok()) {
      result.errors.push_back(
          {urls_[i], "fetch",
           http.error.empty() ? "HTTP " + std::to_string(http.status) : http.error});
      continue;
    }
    const ParsedText text = ParsePrometheusText(http.body, options_.limits);
    if (text.malformed_lines > 0 || text.truncated) {
      result.malformed_lines += text.malformed_lines;
      std::string message = std::to_string(text.malformed_lines) + " malformed line(s)";
      if (!text.errors.empty()) message += ", first: " + text.errors.front();
      if (text.truncated) message += "; stopped at the sample limit";
      result.errors.push_back({urls_[i], "parse", std::move(message)});
    }
    for (const TextSample& s : text.samples) round.Add(i, s);
  }
  counters_.EndRound();
  round.Finish(now, result.observations);
  return result;
}

}  // namespace recommender::input
