#include "recommender/input/scrape_source.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "recommender/input/histogram.h"
#include "recommender/input/queries.h"

namespace recommender::input {

void CounterTracker::BeginRound(common::TimePoint now) {
  now_ = now;
  for (auto& [key, a] : aggregates_) a.observed = a.refused = false;
}

bool CounterTracker::Plausible(double rise, common::TimePoint since) const {
  return rise <= max_rate_ * common::ToSeconds(now_ - since);
}

CounterTracker::Raw* CounterTracker::Find(std::string_view raw_key) {
  auto it = raw_.find(KeyView(raw_key));
  return it == raw_.end() ? nullptr : &it->second;
}

std::optional<Invalid> CounterTracker::Observe(std::string_view raw_key, double value) {
  Raw* r = Find(raw_key);
  if (r == nullptr) return std::nullopt;
  return Observe(*r, value);
}

Invalid CounterTracker::Observe(Raw& r, double value) {
  r.aggregate->observed = true;
  if (r.seen == now_) return Invalid::kNone;  // the same series twice in one round
  if (const Invalid bad = CheckCounterValue(value); bad != Invalid::kNone) {
    r.aggregate->refused = true;
    return bad;
  }
  const double rise = value >= r.last ? value - r.last : value;  // a drop is a reset
  if (Plausible(rise, r.seen)) {
    r.aggregate->rise += rise;
  } else if (!std::isnan(r.refused) && value >= r.refused &&
             Plausible(value - r.refused, r.refused_at)) {
    r.aggregate->rise += value - r.refused;  // the jump stayed: count only what followed it
  } else {
    r.refused = value;
    r.refused_at = now_;
    r.aggregate->refused = true;
    return Invalid::kCounterIncrease;
  }
  r.last = value;
  r.seen = now_;
  r.refused = kAbsent;
  return Invalid::kNone;
}

Invalid CounterTracker::Track(std::string_view raw_key, std::string_view aggregate_key,
                              double value) {
  if (const Invalid bad = CheckCounterValue(value); bad != Invalid::kNone) return bad;
  const KeyView aggregate(aggregate_key);
  auto a = aggregates_.find(aggregate);
  if (a == aggregates_.end()) {
    a = aggregates_.emplace(Key{aggregate.hash, std::string(aggregate_key)}, Aggregate{}).first;
  }
  a->second.observed = true;
  ++a->second.series;
  const KeyView raw(raw_key);
  raw_.emplace(
      Key{raw.hash, std::string(raw_key)},
      Raw{.last = value, .seen = now_, .aggregate = &a->second, .aggregate_key = &a->first.text});
  return Invalid::kNone;
}

std::vector<std::string_view> CounterTracker::Miss(std::string_view raw_prefix) {
  std::unordered_set<std::string_view> keys;
  const common::TimePoint horizon = now_ - window_;
  for (auto& [key, r] : raw_) {
    // A series EndRound is about to forget no longer counts in any rate.
    if (r.seen < horizon || !key.text.starts_with(raw_prefix)) continue;
    r.aggregate->refused = true;
    keys.insert(*r.aggregate_key);
  }
  return {keys.begin(), keys.end()};
}

namespace {

// After many series went away, a hash table keeps the buckets it grew to; rehash(0) sizes them
// for what is left.
template <class M>
void ShrinkIfSparse(M& map) {
  if (map.bucket_count() > 1024 && map.size() * 4 < map.bucket_count()) map.rehash(0);
}

}  // namespace

size_t CounterTracker::EndRound() {
  const common::TimePoint horizon = now_ - window_;
  const size_t forgotten = std::erase_if(raw_, [&](const auto& kv) {
    if (kv.second.seen >= horizon) return false;
    --kv.second.aggregate->series;
    return true;
  });
  for (auto it = aggregates_.begin(); it != aggregates_.end();) {
    Aggregate& a = it->second;
    // A round with a refused series gets no point: its rise comes later, and the point that
    // then carries it must not claim it happened in the newer round alone.
    if (a.observed && !a.refused) {
      a.points.push_back({now_, a.rise});
      a.rise = 0;
    }
    while (!a.points.empty() && a.points.front().t < horizon) a.points.pop_front();
    // Kept while a raw series points at it: one refused for a whole window leaves it without
    // points while its siblings are still counted.
    it = a.points.empty() && a.series == 0 ? aggregates_.erase(it) : std::next(it);
  }
  ShrinkIfSparse(raw_);
  ShrinkIfSparse(aggregates_);
  return forgotten;
}

const CounterTracker::Aggregate* CounterTracker::Find(std::string_view key) const {
  auto it = aggregates_.find(KeyView(key));
  return it == aggregates_.end() || it->second.points.size() < 2 ? nullptr : &it->second;
}

std::optional<double> CounterTracker::Increase(std::string_view key) const {
  const Aggregate* a = Find(key);
  if (a == nullptr) return std::nullopt;
  // The rises after the oldest point: what a running total would have gained between them.
  double sum = 0;
  for (size_t i = 1; i < a->points.size(); ++i) sum += a->points[i].rise;
  return sum;
}

std::optional<double> CounterTracker::Rate(std::string_view key) const {
  const std::optional<double> increase = Increase(key);
  if (!increase) return std::nullopt;
  const Aggregate& a = *Find(key);
  return *increase / common::ToSeconds(a.points.back().t - a.points.front().t);
}

std::optional<double> CounterTracker::LastRate(std::string_view key) const {
  const Aggregate* a = Find(key);
  if (a == nullptr) return std::nullopt;
  const Point& first = a->points[a->points.size() - 2];
  const Point& last = a->points.back();
  return last.rise / common::ToSeconds(last.t - first.t);
}

size_t CountSampleLines(std::string_view text) {
  size_t samples = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const size_t first = text.find_first_not_of(" \t\r", start);
    if (first < end && text[first] != '#') ++samples;
    start = end + 1;
  }
  return samples;
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

bool Named(const SampleView& s, std::string_view base, std::string_view suffix = {}) {
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
  Round(CounterTracker& counters, std::vector<std::vector<ScrapeSource::SeriesSlot>>& slots,
        common::TimePoint now, FetchResult& result)
      : counters_(counters), slots_(slots), now_(now), result_(result) {}

  void Add(size_t target, const SampleView& s) {
    const std::string_view ns = LabelValue(s.labels, "namespace");
    if (s.name.starts_with("queuelens_container_")) return Container(target, s, ns);
    if (s.name.starts_with("kube_")) return Kube(s, ns);
    if (!s.name.starts_with("queuelens_")) return;
    const std::string_view svc = LabelValue(s.labels, "service");
    if (svc.empty()) return;
    // The service is looked up again only for a refused value: the common case stays one lookup.
    const auto refuse = [&](Invalid reason) {
      if (reason != Invalid::kNone) Refuse(Service(ns, svc).invalid, reason);
    };
    if (Named(s, q::kRequests)) {
      Service(ns, svc).requests = true;
      refuse(Count(target, s, {"r", ns, svc}));
    } else if (Named(s, q::kRequestsSampled)) {
      refuse(Count(target, s, {"rs", ns, svc}));
    } else if (Named(s, q::kDuration, "_sum")) {
      refuse(Count(target, s, {"ds", ns, svc}));
    } else if (Named(s, q::kExclusive, "_sum")) {
      refuse(Count(target, s, {"es", ns, svc}));
    } else if (Named(s, q::kDuration, "_bucket")) {
      ServiceAcc& acc = Service(ns, svc);
      Refuse(acc.invalid, Bucket(target, s, "db", ns, svc, acc.duration_le));
    } else if (Named(s, q::kExclusive, "_bucket")) {
      ServiceAcc& acc = Service(ns, svc);
      Refuse(acc.invalid, Bucket(target, s, "eb", ns, svc, acc.exclusive_le));
    } else if (Named(s, q::kQueueLength)) {
      Sum(Service(ns, svc).queue_length, Gauge(s, Service(ns, svc).invalid));
    } else if (Named(s, q::kUncongested)) {
      Max(Service(ns, svc).uncongested, Gauge(s, Service(ns, svc).invalid));
    } else if (Named(s, q::kInstanceRequests)) {
      const std::string_view instance = LabelValue(s.labels, "instance");
      ServiceAcc& acc = Service(ns, svc);
      if (std::find(acc.instances.begin(), acc.instances.end(), instance) == acc.instances.end()) {
        acc.instances.emplace_back(instance);
      }
      Refuse(acc.invalid, Count(target, s, {"i", ns, svc, instance}));
    } else if (Named(s, q::kInstanceDuration)) {
      refuse(Count(target, s, {"id", ns, svc, LabelValue(s.labels, "instance")}));
    } else if (Named(s, q::kInstanceExclusive)) {
      refuse(Count(target, s, {"ie", ns, svc, LabelValue(s.labels, "instance")}));
    }
  }

  // A target that failed this round: the services and containers it fed are reported invalid
  // (target_failed) for as long as its series are remembered, instead of summed without it.
  void Missing(size_t target) {
    StartRaw(target);
    for (std::string_view key : counters_.Miss(raw_)) {
      // The aggregate's parts, as Count() joined them: kind, namespace, then service or pod and
      // container.
      std::array<std::string_view, 4> part{};
      for (size_t i = 0; i < part.size() && !key.empty(); ++i) {
        const size_t sep = key.find(kSep);
        part[i] = key.substr(0, sep);
        key.remove_prefix(sep == std::string_view::npos ? key.size() : sep + 1);
      }
      static constexpr std::array<std::string_view, 6> kContainerKinds = {"cu", "rw", "ts",
                                                                          "cp", "ct", "pw"};
      if (std::find(kContainerKinds.begin(), kContainerKinds.end(), part[0]) !=
          kContainerKinds.end()) {
        Refuse(ContainerAt(part[1], part[2], part[3]).invalid, Invalid::kTargetFailed);
      } else {
        ServiceAcc& acc = Service(part[1], part[2]);
        acc.requests = true;  // reported, so the workload is held rather than just not updated
        Refuse(acc.invalid, Invalid::kTargetFailed);
      }
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
      o.invalid = acc.invalid;
      o.request_rate = Or(counters_.Rate(Key(key_, {"r", ns, svc})));
      o.sampled_requests = Or(counters_.Increase(Key(key_, {"rs", ns, svc})));
      o.inflight = Or(counters_.Rate(Key(key_, {"ds", ns, svc})));
      o.busy = Or(counters_.Rate(Key(key_, {"es", ns, svc})));
      o.queue_length = acc.queue_length;
      o.uncongested_seconds = acc.uncongested;
      // Both latency quantiles read the same buckets: their increases are looked up once.
      const std::optional<std::vector<HistogramBucket>> durations =
          Buckets("db", ns, svc, acc.duration_le);
      o.p95_seconds = durations ? HistogramQuantile(0.95, *durations) : kAbsent;
      o.p99_seconds = durations ? HistogramQuantile(0.99, *durations) : kAbsent;
      const std::optional<std::vector<HistogramBucket>> exclusives =
          Buckets("eb", ns, svc, acc.exclusive_le);
      o.tail_exclusive_seconds = exclusives ? HistogramQuantile(0.9, *exclusives) : kAbsent;
      std::sort(acc.instances.begin(), acc.instances.end());
      for (const std::string& instance : acc.instances) {
        const double rate = Or(counters_.Rate(Key(key_, {"i", ns, svc, instance})));
        if (!(rate > 0)) continue;
        o.instances.push_back(instance);
        o.instance_rates.push_back(
            {.instance = instance,
             .request_rate = rate,
             .duration_rate = Or(counters_.Rate(Key(key_, {"id", ns, svc, instance}))),
             .exclusive_rate = Or(counters_.Rate(Key(key_, {"ie", ns, svc, instance})))});
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
      o.cpu_pressure_rate = rate("pw");
      o.cpu_limit_cores = std::isnan(acc.cgroup_limit) ? acc.spec_limit : acc.cgroup_limit;
      o.cpu_request_cores = acc.spec_request;
      o.interference_ratio = acc.interference;
      o.recommended_cpu_cores = acc.recommended;
      o.invalid = acc.invalid;
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
    // A histogram's "le" values in string order, as a flat sorted array: looked up once per
    // bucket sample, so a binary search over adjacent strings beats a tree's nodes.
    std::vector<std::string> duration_le, exclusive_le;
    std::vector<std::string> instances;
    Invalid invalid = Invalid::kNone;
  };
  struct ContainerAcc {
    std::string k8s_namespace, pod, container;
    double cgroup_limit = kAbsent, spec_limit = kAbsent, spec_request = kAbsent;
    double interference = kAbsent, recommended = kAbsent;
    Invalid invalid = Invalid::kNone;
  };

  ServiceAcc& Service(std::string_view ns, std::string_view svc) {
    // A service's samples come together (a histogram's buckets, sum and count): check the last
    // one found before hashing. Map nodes do not move.
    if (last_service_ != nullptr && last_service_->service == svc &&
        last_service_->k8s_namespace == ns) {
      return *last_service_;
    }
    auto it = services_.find(Key(key_, {ns, svc}));
    if (it == services_.end()) {
      it = services_.emplace(key_, ServiceAcc{}).first;
      it->second.k8s_namespace = ns;
      it->second.service = svc;
    }
    last_service_ = &it->second;
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

  // raw_ = the target's number and a separator, without a temporary string per sample.
  void StartRaw(size_t target) {
    std::array<char, 24> digits;
    char* end = std::to_chars(digits.data(), digits.data() + digits.size(), target).ptr;
    raw_.assign(digits.data(), end).push_back(kSep);
  }

  // The raw series is identified by target, name and labels; its aggregate by `parts`, which
  // is only spelled out the first time the series is seen. The series' slot (its position among
  // the target's counter samples) spares a sample in the same place as last round the key.
  // Returns why the value was refused.
  Invalid Count(size_t target, const SampleView& s, std::initializer_list<std::string_view> parts) {
    if (target != slot_target_) {
      slot_target_ = target;
      next_slot_ = 0;
    }
    std::vector<ScrapeSource::SeriesSlot>& slots = slots_[target];
    if (next_slot_ == slots.size()) slots.emplace_back();
    ScrapeSource::SeriesSlot& slot = slots[next_slot_++];
    const Invalid counted = slot.raw != nullptr && slot.series == s.series
                                ? counters_.Observe(*slot.raw, s.value)
                                : CountByKey(target, s, parts, slot);
    if (counted != Invalid::kNone) result_.CountInvalid(counted);
    return counted;
  }

  Invalid CountByKey(size_t target, const SampleView& s,
                     std::initializer_list<std::string_view> parts,
                     ScrapeSource::SeriesSlot& slot) {
    StartRaw(target);
    raw_.append(s.name);
    for (const auto& [n, v] : s.labels) {
      raw_.push_back(kSep);
      raw_.append(n).push_back('=');
      raw_.append(v);
    }
    Invalid counted = Invalid::kNone;
    CounterTracker::Raw* raw = counters_.Find(raw_);
    if (raw != nullptr) {
      counted = counters_.Observe(*raw, s.value);
    } else {
      counted = counters_.Track(raw_, Key(key_, parts), s.value);
      if (counted == Invalid::kNone) raw = counters_.Find(raw_);
    }
    slot.series.assign(s.series);
    slot.raw = raw;
    return counted;
  }

  // A gauge's value; a non-finite one is counted and refused (exporters omit what they cannot
  // compute) and reads as absent.
  double Gauge(const SampleView& s, Invalid& invalid) {
    if (std::isfinite(s.value)) return s.value;
    result_.CountInvalid(Invalid::kGaugeNonFinite);
    Refuse(invalid, Invalid::kGaugeNonFinite);
    return kAbsent;
  }

  Invalid Bucket(size_t target, const SampleView& s, std::string_view kind, std::string_view ns,
                 std::string_view svc, std::vector<std::string>& les) {
    const std::string_view le = LabelValue(s.labels, "le");
    // Only a bound not seen yet needs parsing: `les` holds valid ones only.
    const auto at = std::lower_bound(les.begin(), les.end(), le, std::less<>());
    if (at == les.end() || *at != le) {
      if (!ParseFloatValue(le)) return Invalid::kNone;
      les.emplace(at, le);
    }
    return Count(target, s, {kind, ns, svc, le});
  }

  // A histogram's buckets with their increases over the window; nullopt while a bucket has none.
  std::optional<std::vector<HistogramBucket>> Buckets(std::string_view kind, std::string_view ns,
                                                      std::string_view svc,
                                                      const std::vector<std::string>& les) {
    std::vector<HistogramBucket> buckets;
    buckets.reserve(les.size());
    for (const std::string& le : les) {
      const std::optional<double> increase = counters_.Increase(Key(key_, {kind, ns, svc, le}));
      if (!increase) return std::nullopt;
      buckets.push_back({*ParseFloatValue(le), *increase});
    }
    return buckets;
  }

  void Container(size_t target, const SampleView& s, std::string_view ns) {
    const std::string_view pod = LabelValue(s.labels, "pod");
    const std::string_view container = LabelValue(s.labels, "container");
    if (pod.empty()) return;
    const auto count = [&](std::string_view kind) {
      Refuse(ContainerAt(ns, pod, container).invalid, Count(target, s, {kind, ns, pod, container}));
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
    } else if (Named(s, q::kCpuPressure)) {
      count("pw");
    } else if (Named(s, q::kCpuLimit)) {
      ContainerAcc& c = ContainerAt(ns, pod, container);
      Max(c.cgroup_limit, Gauge(s, c.invalid));
    } else if (Named(s, q::kInterference)) {
      ContainerAcc& c = ContainerAt(ns, pod, container);
      Max(c.interference, Gauge(s, c.invalid));
    } else if (Named(s, q::kRecommendedCpu)) {
      ContainerAcc& c = ContainerAt(ns, pod, container);
      Max(c.recommended, Gauge(s, c.invalid));
    }
  }

  void Kube(const SampleView& s, std::string_view ns) {
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
      Max(Named(s, q::kKsmReplicas) ? it->second.replicas : it->second.ready_replicas,
          Gauge(s, it->second.invalid));
      return;
    }
    const bool request = Named(s, q::kKsmRequests);
    if (!request && !Named(s, q::kKsmLimits)) return;
    if (LabelValue(s.labels, "resource") != "cpu") return;
    const std::string_view pod = LabelValue(s.labels, "pod");
    if (pod.empty()) return;
    ContainerAcc& c = ContainerAt(ns, pod, LabelValue(s.labels, "container"));
    Sum(request ? c.spec_request : c.spec_limit, Gauge(s, c.invalid));
  }

  CounterTracker& counters_;
  std::vector<std::vector<ScrapeSource::SeriesSlot>>& slots_;
  size_t slot_target_ = std::numeric_limits<size_t>::max();  // whose slots next_slot_ counts
  size_t next_slot_ = 0;
  common::TimePoint now_;
  FetchResult& result_;
  std::string raw_, key_;  // reused key buffers
  Map<ServiceAcc> services_;
  ServiceAcc* last_service_ = nullptr;
  Map<ContainerAcc> containers_;
  Map<DeploymentObservation> deployments_;
};

// "line N: ..." of a slice's parse, renumbered to the line of the whole answer.
std::string Renumber(const std::string& error, size_t lines_before) {
  constexpr std::string_view kPrefix = "line ";
  if (!error.starts_with(kPrefix)) return error;
  size_t line = 0;
  const char* digits = error.data() + kPrefix.size();
  const auto [end, ec] = std::from_chars(digits, error.data() + error.size(), line);
  if (ec != std::errc()) return error;
  return std::string(kPrefix) + std::to_string(line + lines_before) + std::string(end);
}

// Fetches and reads every target into `round`; returns the sample lines read.
size_t ReadTargets(const std::vector<std::string>& urls, const common::HttpGet& get,
                   const ScrapeOptions& options, Round& round, FetchResult& result) {
  size_t lines_read = 0;
  for (size_t i = 0; i < urls.size(); ++i) {
    const common::HttpResult http = get(urls[i]);
    if (!http.ok()) {
      result.errors.push_back(
          {urls[i], "fetch",
           http.error.empty() ? "HTTP " + std::to_string(http.status) : http.error});
      round.Missing(i);
      continue;
    }
    const std::string_view body = http.body;
    const size_t lines = CountSampleLines(body);
    if (lines > options.max_series) {
      result.errors.push_back({urls[i], "too_many_series",
                               std::to_string(lines) + " sample lines, more than the limit of " +
                                   std::to_string(options.max_series)});
      round.Missing(i);
      continue;
    }
    lines_read += lines;
    size_t malformed = 0;
    std::string first_error;
    bool truncated = false;
    // Slices end at a line break, so no line is split; a slice only holds its own samples.
    for (size_t start = 0; start < body.size();) {
      size_t end = body.size();
      if (body.size() - start > kParseSliceBytes) {
        end = body.rfind('\n', start + kParseSliceBytes);
        if (end == std::string_view::npos || end < start) end = body.find('\n', start);
        if (end == std::string_view::npos) end = body.size();
      }
      const std::string_view slice = body.substr(start, end - start);
      const ParsedText text = StreamPrometheusText(
          slice, options.limits, [&round, i](const SampleView& s) { round.Add(i, s); });
      malformed += text.malformed_lines;
      truncated = truncated || text.truncated;
      if (first_error.empty() && !text.errors.empty()) {
        // The lines before this slice are counted only here: a clean answer needs no count.
        const size_t lines_before =
            static_cast<size_t>(std::count(body.begin(), body.begin() + start, '\n'));
        first_error = Renumber(text.errors.front(), lines_before);
      }
      start = end + 1;
    }
    if (malformed > 0 || truncated) {
      result.malformed_lines += malformed;
      std::string message = std::to_string(malformed) + " malformed line(s)";
      if (!first_error.empty()) message += ", first: " + first_error;
      if (truncated) message += "; stopped at the sample limit";
      result.errors.push_back({urls[i], "parse", std::move(message)});
    }
  }
  return lines_read;
}

}  // namespace

ScrapeSource::ScrapeSource(std::vector<std::string> urls, common::HttpGet get,
                           ScrapeOptions options)
    : urls_(std::move(urls)),
      get_(std::move(get)),
      options_(options),
      counters_(options.window, options.max_counter_rate),
      slots_(urls_.size()) {}

FetchResult ScrapeSource::Fetch(common::TimePoint now) {
  FetchResult result;
  size_t lines_read = 0, forgotten = 0;
  {
    Round round(counters_, slots_, now, result);
    counters_.BeginRound(now);
    lines_read = ReadTargets(urls_, get_, options_, round, result);
    forgotten = counters_.EndRound();
    round.Finish(now, result.observations);
  }
  // Slots may point at the series just forgotten.
  if (forgotten > 0) {
    for (std::vector<SeriesSlot>& slots : slots_) slots.clear();
  }
  // glibc keeps freed small blocks for reuse and hands them back only when asked. Asking every
  // round would fault the same pages in again each pass, so only after a burst: a round with
  // many more lines than the last, or one that forgot the series a burst left behind.
  constexpr size_t kBurstLines = 50'000;
  if ((lines_read >= kBurstLines && lines_read > 2 * last_lines_read_) ||
      forgotten >= kBurstLines) {
    malloc_trim(0);
  }
  last_lines_read_ = lines_read;
  return result;
}

}  // namespace recommender::input
