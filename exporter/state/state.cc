#include "exporter/state/state.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>

namespace exporter::state {
namespace {

constexpr double kNanosPerSecond = 1e9;
constexpr std::string_view kOverflow = "__overflow__";

StateSnapshot::Quantiles WindowQuantiles(const common::WindowedSketch& window,
                                         common::TimePoint now, common::LatencySketch& scratch) {
  common::MergeWindow(window, now, scratch);
  return {scratch.Quantile(0.5), scratch.Quantile(0.95), scratch.Quantile(0.99)};
}

WindowSums SumWindow(const common::RollingWindow<WindowSums>& window, common::TimePoint now) {
  WindowSums total;
  window.ForEach(now, [&](const WindowSums& s) {
    total.count += s.count;
    total.sampled += s.sampled;
    total.duration_seconds += s.duration_seconds;
    total.exclusive_seconds += s.exclusive_seconds;
  });
  return total;
}

std::vector<double> Cumulative(const std::vector<double>& counts) {
  std::vector<double> out(counts.size());
  double running = 0;
  for (size_t i = 0; i < counts.size(); ++i) out[i] = running += counts[i];
  return out;
}

constexpr size_t kLabelCache = 64;

// A cache slot for `s` from its length and its first and last (up to) eight bytes.
size_t CacheSlot(std::string_view s) {
  uint64_t head = 0, tail = 0;
  if (s.size() >= sizeof(head)) {  // fixed-size copies: single loads, no library call
    std::memcpy(&head, s.data(), sizeof(head));
    std::memcpy(&tail, s.data() + s.size() - sizeof(tail), sizeof(tail));
  } else {
    for (const char c : s) head = (head << 8) | static_cast<unsigned char>(c);
  }
  const uint64_t h = (head ^ (tail * 0xc2b2ae3d27d4eb4full) ^ s.size()) * 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(h >> 58);  // the best-mixed bits; 2^6 = kLabelCache
}

auto Labels(const StateSnapshot::Operation& o) {
  return std::tie(o.k8s_namespace, o.service, o.operation);
}
auto Labels(const StateSnapshot::Service& s) { return std::tie(s.k8s_namespace, s.service); }
auto Labels(const StateSnapshot::Instance& i) {
  return std::tie(i.k8s_namespace, i.service, i.instance);
}
auto Labels(const StateSnapshot::Edge& e) { return std::tie(e.client, e.server); }

// The interned ids a series key holds a reference to.
template <typename Fn>
void ForEachId(const OperationKey& k, Fn&& fn) {
  fn(k.k8s_namespace);
  fn(k.service);
  fn(k.operation);
}
template <typename Fn>
void ForEachId(const ServiceKey& k, Fn&& fn) {
  fn(k.k8s_namespace);
  fn(k.service);
}
template <typename Fn>
void ForEachId(const InstanceKey& k, Fn&& fn) {
  fn(k.k8s_namespace);
  fn(k.service);
  fn(k.instance);
}
template <typename Fn>
void ForEachId(const EdgeKey& k, Fn&& fn) {
  fn(k.client);
  fn(k.server);
}
template <typename Fn>
void ForEachId(const SpanRecord& s, Fn&& fn) {
  fn(s.service);
  fn(s.operation);
  fn(s.instance);
  fn(s.k8s_namespace);
}

// The trace's sampling for its spans that declare none: parent-based samplers pass the root's
// decision down, so the root's, else the first span's that declares one.
spans::Sampling TraceSampling(std::span<const SpanRecord> spans) {
  const SpanRecord* first = nullptr;
  for (const SpanRecord& s : spans) {
    if (s.sampling_method == spans::SamplingMethod::kNone) continue;
    if (s.parent_span_id == 0) return {s.sampling_method, s.adjusted_count};
    if (first == nullptr) first = &s;
  }
  if (first == nullptr) return {};
  return {first->sampling_method, first->adjusted_count};
}

// Sketches count in integers: the adjusted count rounded, at least 1.
uint32_t SketchWeight(double adjusted_count) {
  if (!(adjusted_count >= 1.5)) return 1;
  if (adjusted_count >= common::LatencySketch::kMaxWeight) {
    return common::LatencySketch::kMaxWeight;
  }
  return static_cast<uint32_t>(std::lround(adjusted_count));
}

double DefaultCount(const SamplingOptions& o, std::string_view service) {
  const auto it = o.service_probability.find(std::string(service));
  return 1 / (it != o.service_probability.end() ? it->second : o.default_probability);
}

}  // namespace

void Histogram::Observe(const std::vector<double>& bounds, double value, double weight) {
  // Bucket i counts values <= bounds[i] (Prometheus "le"); the last bucket is +Inf.
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
  counts[static_cast<size_t>(it - bounds.begin())] += weight;
  sum += value * weight;
}

State::State(StateOptions options)
    : options_(std::move(options)),
      mapping_(options_.sketch_relative_accuracy),
      overflow_id_(strings_.Intern(kOverflow)),
      traces_(options_.traces) {
  std::sort(options_.bucket_bounds.begin(), options_.bucket_bounds.end());
}

OperationSeries State::NewOperation() const {
  const common::LatencySketch sketch(&mapping_);
  const std::vector<double> empty(options_.bucket_bounds.size() + 1, 0);
  return OperationSeries{
      .duration = {.counts = empty, .sum = 0},
      .exclusive = {.counts = empty, .sum = 0},
      .duration_window = common::WindowedSketch(options_.window, options_.window_buckets, sketch),
      .last_update = {},
  };
}

ServiceSeries State::NewService(const ServiceKey& key) const {
  const common::LatencySketch sketch(&mapping_);
  return ServiceSeries{
      .default_count = DefaultCount(options_.sampling, strings_.Get(key.service)),
      .window = common::RollingWindow<WindowSums>(options_.window, options_.window_buckets),
      .duration_window = common::WindowedSketch(options_.window, options_.window_buckets, sketch),
      .exclusive_window = common::WindowedSketch(options_.window, options_.window_buckets, sketch),
      .exclusive_horizon =
          common::WindowedSketch(options_.horizon, options_.horizon_buckets, sketch),
      .last_update = {},
  };
}

InstanceSeries State::NewInstance() const {
  return InstanceSeries{
      .window = common::RollingWindow<WindowSums>(options_.window, options_.window_buckets),
      .last_update = {}};
}

void State::Add(const spans::SpanBatch& batch, common::TimePoint now) {
  // A batch names few distinct services, pods and operations, but its spans take turns among
  // them: small caches on their content (slot by length and end bytes) spare most spans the
  // interner's hash lookup. Each entry holds its own reference, so its id stays valid while traces
  // finish and release theirs in between; every buffered span takes one more reference per id.
  struct Cached {
    std::string_view text;
    uint32_t id = 0;
  };
  using Cache = std::array<Cached, kLabelCache>;
  Cache services, operations, instances, namespaces;
  auto resolve = [this](Cache& cache, std::string_view s) {
    Cached& c = cache[CacheSlot(s)];
    const bool same_view = s.data() == c.text.data() && s.size() == c.text.size();
    if (!same_view && s != c.text) {
      const uint32_t id = strings_.Intern(s);
      strings_.Release(c.id);
      c = {s, id};
    }
    strings_.Ref(c.id);
    return c.id;
  };
  auto finish = [this, now](std::span<const SpanRecord> spans) { FinishTrace(spans, now); };
  for (const spans::Span& span : batch.spans()) {
    const SpanRecord record{
        .span_id = span.span_id,
        .parent_span_id = span.parent_span_id,
        .start_unix_nano = span.start_unix_nano,
        .end_unix_nano = std::max(span.end_unix_nano, span.start_unix_nano),
        .service = resolve(services, span.service),
        .operation = resolve(operations, span.operation),
        .instance = resolve(instances, span.instance),
        .k8s_namespace = resolve(namespaces, span.k8s_namespace),
        .adjusted_count = span.adjusted_count,
        .kind = span.kind,
        .error = span.error,
        .sampling_method = span.sampling_method,
    };
    if (!traces_.Add(span.trace_id, record, now, finish)) ReleaseIds(record);
  }
  for (const Cache* cache : {&services, &operations, &instances, &namespaces}) {
    for (const Cached& c : *cache) strings_.Release(c.id);
  }
  traces_.FinishReady(now, finish);
}

void State::ReleaseIds(const SpanRecord& span) {
  ForEachId(span, [this](uint32_t id) { strings_.Release(id); });
}

void State::Advance(common::TimePoint now) {
  traces_.FinishReady(now, [this, now](std::span<const SpanRecord> s) { FinishTrace(s, now); });
}

void State::Flush(common::TimePoint now) {
  traces_.FinishAll([this, now](std::span<const SpanRecord> s) { FinishTrace(s, now); });
}

void State::FinishTrace(std::span<const SpanRecord> spans, common::TimePoint now) {
  ++traces_finished_;
  FindRequests(spans, scratch_, requests_);
  // Each request's own span decides; spans that declare nothing take the trace's sampling,
  // looked up only when some span needs it.
  spans::Sampling trace_sampling;
  bool trace_sampling_known = false;
  for (const Request& r : requests_) {
    const SpanRecord& span = spans[r.span_index];
    spans::Sampling sampling{span.sampling_method, span.adjusted_count};
    if (sampling.method == spans::SamplingMethod::kNone) {
      if (!trace_sampling_known) {
        trace_sampling = TraceSampling(spans);
        trace_sampling_known = true;
      }
      sampling = trace_sampling;
    }
    Record(span, r, sampling, now);
  }
  // The series just updated hold their own references; names used only by this trace (or folded
  // into __overflow__) are freed here.
  for (const SpanRecord& span : spans) ReleaseIds(span);
}

template <typename Map, typename Key>
typename Map::mapped_type& State::Resolve(Map& map,
                                          SeriesCache<Key, typename Map::mapped_type>& cache,
                                          const Key& key, const Key& overflow_key,
                                          uint64_t& overflowed, common::TimePoint now) {
  auto& cached = cache.For(key);
  if (cached.series != nullptr && cached.key == key) {
    cached.series->last_update = now;
    return *cached.series;
  }
  auto it = map.find(key);
  if (it == map.end()) {
    const bool full = map.size() >= options_.max_series;
    if (full) ++overflowed;
    const Key& k = full ? overflow_key : key;
    it = map.find(k);
    if (it == map.end()) {
      ForEachId(k, [this](uint32_t id) { strings_.Ref(id); });
      if constexpr (std::is_same_v<Key, OperationKey>) {
        it = map.emplace(k, NewOperation()).first;
      } else if constexpr (std::is_same_v<Key, ServiceKey>) {
        it = map.emplace(k, NewService(k)).first;
      } else if constexpr (std::is_same_v<Key, InstanceKey>) {
        it = map.emplace(k, NewInstance()).first;
      } else {
        it = map.emplace(k, typename Map::mapped_type{}).first;
      }
    }
  }
  // Only a key's own series is cached: a key folded into the overflow series counts as
  // overflowed on every request.
  if (it->first == key) cached = {key, &it->second};
  it->second.last_update = now;
  return it->second;
}

void State::Record(const SpanRecord& span, const Request& request, spans::Sampling sampling,
                   common::TimePoint now) {
  const double duration = static_cast<double>(request.duration_nano) / kNanosPerSecond;
  const double exclusive = static_cast<double>(request.exclusive_nano) / kNanosPerSecond;
  const uint32_t ns = span.k8s_namespace;
  const uint32_t of = overflow_id_;

  // The service first: it holds the default adjusted count for requests that declare none.
  ServiceSeries& svc = Resolve(services_, service_cache_, ServiceKey{ns, span.service},
                               ServiceKey{of, of}, overflowed_services_, now);
  double weight = sampling.adjusted_count;
  if (!sampling.known()) [[unlikely]] {
    const bool unknown = sampling.method == spans::SamplingMethod::kUnknown;
    svc.sampling_unknown += unknown ? 1 : 0;
    weight = unknown && !options_.sampling.unknown_use_default ? 1 : svc.default_count;
  }
  svc.sampling_method = sampling.method;
  const uint32_t sketch_weight = SketchWeight(weight);

  OperationSeries& op =
      Resolve(operations_, operation_cache_, OperationKey{ns, span.service, span.operation},
              OperationKey{of, of, of}, overflowed_operations_, now);
  op.requests += weight;
  op.errors += span.error ? weight : 0;
  op.duration.Observe(options_.bucket_bounds, duration, weight);
  op.exclusive.Observe(options_.bucket_bounds, exclusive, weight);
  // Every sketch here shares mapping_: each value is mapped to its bucket once.
  common::LatencySketch& op_durations = op.duration_window.At(now);
  const int duration_bucket = op_durations.Bucket(duration);
  op_durations.AddToBucket(duration, duration_bucket, sketch_weight);

  svc.requests += weight;
  ++svc.requests_sampled;
  svc.duration_seconds += duration * weight;
  svc.exclusive_seconds += exclusive * weight;
  WindowSums& sums = svc.window.At(now);
  sums.count += weight;
  ++sums.sampled;
  sums.duration_seconds += duration * weight;
  sums.exclusive_seconds += exclusive * weight;
  svc.duration_window.At(now).AddToBucket(duration, duration_bucket, sketch_weight);
  common::LatencySketch& svc_exclusives = svc.exclusive_window.At(now);
  const int exclusive_bucket = svc_exclusives.Bucket(exclusive);
  svc_exclusives.AddToBucket(exclusive, exclusive_bucket, sketch_weight);
  svc.exclusive_horizon.At(now).AddToBucket(exclusive, exclusive_bucket, sketch_weight);

  if (span.instance != 0) {
    InstanceSeries& inst =
        Resolve(instances_, instance_cache_, InstanceKey{ns, span.service, span.instance},
                InstanceKey{of, of, of}, overflowed_instances_, now);
    inst.requests += weight;
    inst.duration_seconds += duration * weight;
    inst.exclusive_seconds += exclusive * weight;
    WindowSums& isums = inst.window.At(now);
    isums.count += weight;
    ++isums.sampled;
    isums.duration_seconds += duration * weight;
    isums.exclusive_seconds += exclusive * weight;
  }
  if (request.caller_service != 0) {
    Resolve(edges_, edge_cache_, EdgeKey{request.caller_service, span.service}, EdgeKey{of, of},
            overflowed_edges_, now)
        .calls += weight;
  }
}

void State::GarbageCollect(common::TimePoint now) {
  const common::TimePoint cutoff = now - options_.series_idle;
  auto expire = [&](auto& map) {
    series_expired_ += std::erase_if(map, [&](const auto& kv) {
      if (kv.second.last_update >= cutoff) return false;
      ForEachId(kv.first, [this](uint32_t id) { strings_.Release(id); });
      return true;
    });
  };
  expire(operations_);
  expire(services_);
  expire(instances_);
  expire(edges_);
  operation_cache_.Clear();
  service_cache_.Clear();
  instance_cache_.Clear();
  edge_cache_.Clear();
  strings_.Compact();
}

std::shared_ptr<const StateSnapshot> State::Snapshot(common::TimePoint now,
                                                     bool with_operation_quantiles) const {
  auto snap = std::make_shared<StateSnapshot>();
  snap->at = now;
  snap->window_seconds = common::ToSeconds(options_.window);
  snap->bucket_bounds = options_.bucket_bounds;
  common::LatencySketch scratch(&mapping_);
  auto str = [this](uint32_t id) { return std::string(strings_.Get(id)); };
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  snap->operations.reserve(operations_.size());
  for (const auto& [k, v] : operations_) {
    StateSnapshot::Operation& o = snap->operations.emplace_back();
    o.k8s_namespace = str(k.k8s_namespace);
    o.service = str(k.service);
    o.operation = str(k.operation);
    o.requests = v.requests;
    o.errors = v.errors;
    o.duration_buckets = Cumulative(v.duration.counts);
    o.exclusive_buckets = Cumulative(v.exclusive.counts);
    o.duration_sum = v.duration.sum;
    o.exclusive_sum = v.exclusive.sum;
    v.duration_window.ForEach(
        now, [&](const common::LatencySketch& s) { o.window_requests += s.count(); });
    if (with_operation_quantiles)
      o.window_duration = WindowQuantiles(v.duration_window, now, scratch);
  }

  snap->services.reserve(services_.size());
  for (const auto& [k, v] : services_) {
    StateSnapshot::Service& s = snap->services.emplace_back();
    s.k8s_namespace = str(k.k8s_namespace);
    s.service = str(k.service);
    s.requests = v.requests;
    s.requests_sampled = v.requests_sampled;
    s.sampling_unknown = v.sampling_unknown;
    s.sampling_method = v.sampling_method;
    s.duration_sum = v.duration_seconds;
    s.exclusive_sum = v.exclusive_seconds;
    const WindowSums sums = SumWindow(v.window, now);
    const double covered = common::ToSeconds(v.window.Covered(now));
    s.window_requests = sums.count;
    s.window_sampled = sums.sampled;
    s.sampling_probability = sums.count > 0 ? static_cast<double>(sums.sampled) / sums.count : kNaN;
    s.arrival_rate = covered > 0 ? sums.count / covered : 0;
    s.inflight = covered > 0 ? sums.duration_seconds / covered : 0;
    s.mean_exclusive = sums.count > 0 ? sums.exclusive_seconds / sums.count : kNaN;
    s.uncongested =
        common::WindowQuantile(v.exclusive_horizon, now, options_.uncongested_quantile, scratch);
    s.queue_length = sums.count > 0 && std::isfinite(s.uncongested)
                         ? s.arrival_rate * std::max(0.0, s.mean_exclusive - s.uncongested)
                         : 0;
    s.window_duration = WindowQuantiles(v.duration_window, now, scratch);
    s.window_exclusive = WindowQuantiles(v.exclusive_window, now, scratch);
  }

  snap->instances.reserve(instances_.size());
  for (const auto& [k, v] : instances_) {
    StateSnapshot::Instance& i = snap->instances.emplace_back();
    i.k8s_namespace = str(k.k8s_namespace);
    i.service = str(k.service);
    i.instance = str(k.instance);
    i.requests = v.requests;
    i.duration_sum = v.duration_seconds;
    i.exclusive_sum = v.exclusive_seconds;
    const WindowSums sums = SumWindow(v.window, now);
    const double covered = common::ToSeconds(v.window.Covered(now));
    i.window_rate = covered > 0 ? sums.count / covered : 0;
    i.window_mean_exclusive = sums.count > 0 ? sums.exclusive_seconds / sums.count : kNaN;
  }

  snap->edges.reserve(edges_.size());
  for (const auto& [k, v] : edges_) {
    snap->edges.push_back({str(k.client), str(k.server), v.calls});
  }

  // Stable order: golden files diff cleanly and the page reads alphabetically.
  auto by_labels = [](const auto& a, const auto& b) { return Labels(a) < Labels(b); };
  std::sort(snap->operations.begin(), snap->operations.end(), by_labels);
  std::sort(snap->services.begin(), snap->services.end(), by_labels);
  std::sort(snap->instances.begin(), snap->instances.end(), by_labels);
  std::sort(snap->edges.begin(), snap->edges.end(), by_labels);

  StateSnapshot::Stats& st = snap->stats;
  st.buffered_traces = traces_.traces();
  st.buffered_spans = traces_.spans();
  st.traces_finished = traces_finished_;
  st.traces_evicted = traces_.evicted_traces();
  st.spans_dropped_trace_cap = traces_.dropped_spans();
  st.series_expired = series_expired_;
  st.interned_strings = strings_.size();
  st.interned_bytes = strings_.bytes();
  st.operations = {operations_.size(), overflowed_operations_};
  st.services = {services_.size(), overflowed_services_};
  st.instances = {instances_.size(), overflowed_instances_};
  st.edges = {edges_.size(), overflowed_edges_};
  return snap;
}

}  // namespace exporter::state
