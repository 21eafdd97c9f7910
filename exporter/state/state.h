#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/sketch.h"
#include "exporter/spans/span.h"
#include "exporter/state/interner.h"
#include "exporter/state/series.h"
#include "exporter/state/snapshot.h"
#include "exporter/state/trace_analysis.h"
#include "exporter/state/trace_buffer.h"

namespace exporter::state {

// How requests are weighted when the span does not say (sampling.h has what spans say).
struct SamplingOptions {
  double default_probability = 1;
  std::unordered_map<std::string, double> service_probability;  // by service name
  // A request whose sampling is unknown (rate limiting, malformed th) counts once, or as the
  // default.
  bool unknown_use_default = false;
};

struct StateOptions {
  TraceBufferOptions traces;
  common::Duration window = std::chrono::seconds{60};  // gauges and quantiles
  int window_buckets = 4;
  common::Duration horizon = std::chrono::hours{1};  // uncongested service time
  int horizon_buckets = 12;
  double uncongested_quantile = 0.1;
  std::vector<double> bucket_bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  size_t max_series = 10'000;  // per family; further keys fold into one overflow series
  common::Duration series_idle = std::chrono::minutes{5};
  double sketch_relative_accuracy = 0.01;
  SamplingOptions sampling;
};

// Per-service state built from spans: trace assembly, request detection, exclusive time, and the
// counters, histograms and windows the exposition renders. Single-threaded: one owner feeds it
// and takes snapshots (see exporter/loop.h).
class State {
 public:
  explicit State(StateOptions options);

  // Buffers the batch's spans into their traces; traces whose wait is over are finished.
  void Add(const spans::SpanBatch& batch, common::TimePoint now);
  // Finishes traces whose wait is over.
  void Advance(common::TimePoint now);
  // Finishes every buffered trace now (end of a replay, shutdown).
  void Flush(common::TimePoint now);
  // Drops series idle longer than series_idle (freeing names nothing else uses) and returns the
  // memory freed names left in the interner.
  void GarbageCollect(common::TimePoint now);

  // with_operation_quantiles: also merge the per-operation windows (costly with many series; the
  // status page and JSON API ask for it, /metrics does not).
  std::shared_ptr<const StateSnapshot> Snapshot(common::TimePoint now,
                                                bool with_operation_quantiles = false) const;

  const StateOptions& options() const { return options_; }

 private:
  void FinishTrace(std::span<const SpanRecord> spans, common::TimePoint now);
  // Gives back the interned-string references a buffered span held.
  void ReleaseIds(const SpanRecord& span);
  void Record(const SpanRecord& span, const Request& request, spans::Sampling sampling,
              common::TimePoint now);
  // A direct-mapped cache in front of a series map: most requests find their series with one
  // key comparison instead of a hash table probe. Entries point into the map's nodes, which stay
  // put until GarbageCollect erases some and empties the caches.
  template <typename Key, typename Series>
  struct SeriesCache {
    struct Entry {
      Key key;
      Series* series = nullptr;
    };
    std::array<Entry, 64> entries;
    Entry& For(const Key& key) { return entries[KeyHash{}(key) % entries.size()]; }
    void Clear() { entries.fill({}); }
  };

  template <typename Map, typename Key>
  typename Map::mapped_type& Resolve(Map& map, SeriesCache<Key, typename Map::mapped_type>& cache,
                                     const Key& key, const Key& overflow_key, uint64_t& overflowed,
                                     common::TimePoint now);
  OperationSeries NewOperation() const;
  ServiceSeries NewService(const ServiceKey& key) const;
  InstanceSeries NewInstance() const;

  StateOptions options_;
  common::SketchMapping mapping_;
  StringInterner strings_;
  uint32_t overflow_id_;
  TraceBuffer traces_;
  TraceScratch scratch_;
  std::vector<Request> requests_;

  std::unordered_map<OperationKey, OperationSeries, KeyHash> operations_;
  std::unordered_map<ServiceKey, ServiceSeries, KeyHash> services_;
  std::unordered_map<InstanceKey, InstanceSeries, KeyHash> instances_;
  std::unordered_map<EdgeKey, EdgeSeries, KeyHash> edges_;
  SeriesCache<OperationKey, OperationSeries> operation_cache_;
  SeriesCache<ServiceKey, ServiceSeries> service_cache_;
  SeriesCache<InstanceKey, InstanceSeries> instance_cache_;
  SeriesCache<EdgeKey, EdgeSeries> edge_cache_;

  uint64_t traces_finished_ = 0;
  uint64_t series_expired_ = 0;
  uint64_t overflowed_operations_ = 0, overflowed_services_ = 0, overflowed_instances_ = 0,
           overflowed_edges_ = 0;
};

}  // namespace exporter::state
