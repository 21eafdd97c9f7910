#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "exporter/spans/span.h"
#include "exporter/spans/validate.h"
#include "exporter/state/state.h"

namespace exporter {

struct LoopOptions {
  size_t max_queued_spans = 1'000'000;  // spans waiting for the state thread, all sources
  common::Duration tick = std::chrono::milliseconds{200};  // how often waits are checked
  common::Duration gc_interval = std::chrono::seconds{30};
  spans::SpanLimits span_limits;  // what one span may contribute (see Validate)
  // A recycled batch keeps its buffers only up to these sizes (at most 16 are kept, ~3 MiB each),
  // so huge payloads do not pin their memory in the spare pool.
  size_t max_spare_arena_bytes = 1 << 20;
  size_t max_spare_spans = 16 * 1024;
};

// Owns the State on one thread. Sources on other threads Submit() parsed batches into a bounded
// queue and never wait for the state; scrapes ask for a snapshot, which the state thread takes
// between batches, so neither path holds a lock across I/O or while the other works.
class ExporterLoop {
 public:
  ExporterLoop(state::StateOptions state_options, LoopOptions options, const common::Clock& clock);
  ~ExporterLoop();
  ExporterLoop(const ExporterLoop&) = delete;
  ExporterLoop& operator=(const ExporterLoop&) = delete;

  // A cleared batch to fill, recycled from earlier submissions when one is free.
  spans::SpanBatch TakeBatch();
  // The step every source runs between parsing and Submit(): sanitises label values and drops
  // implausible spans against options.span_limits (spans/validate.h). received: when the batch
  // arrived, for the age check; nullopt for replayed recordings, which are old by nature.
  spans::ValidationCounts Validate(spans::SpanBatch& batch,
                                   std::optional<common::TimePoint> received) const;
  // The loop's clock, for sources that have none of their own.
  common::TimePoint Now() const { return clock_.Now(); }
  // Queues the batch; false when the queue is full (the caller reports it; nothing is queued).
  // flush: finish every buffered trace after this batch (replay files hold whole traces).
  // accepted: run once the batch is queued, before the state thread can apply it, so a count it
  // keeps is never behind the state a scrape shows.
  bool Submit(spans::SpanBatch&& batch, bool flush = false,
              const std::function<void()>& accepted = nullptr);
  // A snapshot taken by the state thread after everything submitted so far was applied.
  std::shared_ptr<const state::StateSnapshot> Snapshot(bool with_operation_quantiles);
  // Spans queued and not yet applied.
  size_t QueuedSpans() const;

 private:
  struct Item {
    spans::SpanBatch batch;
    bool flush = false;
  };
  struct SnapshotRequest {
    bool with_operation_quantiles = false;
    std::promise<std::shared_ptr<const state::StateSnapshot>> result;
  };
  void Run();

  const common::Clock& clock_;
  LoopOptions options_;
  state::State state_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  size_t queued_spans_ = 0;
  std::vector<SnapshotRequest> snapshot_requests_;
  std::vector<spans::SpanBatch> spare_batches_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace exporter
