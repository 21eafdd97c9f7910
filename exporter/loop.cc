#include "exporter/loop.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace exporter {
namespace {
constexpr size_t kMaxSpareBatches = 16;
}  // namespace

ExporterLoop::ExporterLoop(state::StateOptions state_options, LoopOptions options,
                           const common::Clock& clock)
    : clock_(clock), options_(options), state_(std::move(state_options)) {
  thread_ = std::thread([this] { Run(); });
}

ExporterLoop::~ExporterLoop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

spans::SpanBatch ExporterLoop::TakeBatch() {
  std::lock_guard lock(mu_);
  if (spare_batches_.empty()) return {};
  spans::SpanBatch batch = std::move(spare_batches_.back());
  spare_batches_.pop_back();
  return batch;
}

spans::ValidationCounts ExporterLoop::Validate(spans::SpanBatch& batch,
                                               std::optional<common::TimePoint> received) const {
  std::optional<int64_t> received_nano;
  if (received) received_nano = received->time_since_epoch().count();
  return spans::ValidateSpans(batch, options_.span_limits, received_nano);
}

bool ExporterLoop::Submit(spans::SpanBatch&& batch, bool flush,
                          const std::function<void()>& accepted) {
  {
    std::lock_guard lock(mu_);
    if (queued_spans_ + batch.size() > options_.max_queued_spans) return false;
    if (accepted) accepted();
    queued_spans_ += batch.size();
    queue_.push_back(Item{std::move(batch), flush});
  }
  wake_.notify_one();
  return true;
}

size_t ExporterLoop::QueuedSpans() const {
  std::lock_guard lock(mu_);
  return queued_spans_;
}

std::shared_ptr<const state::StateSnapshot> ExporterLoop::Snapshot(bool with_operation_quantiles) {
  std::future<std::shared_ptr<const state::StateSnapshot>> result;
  {
    std::lock_guard lock(mu_);
    SnapshotRequest& request = snapshot_requests_.emplace_back();
    request.with_operation_quantiles = with_operation_quantiles;
    result = request.result.get_future();
  }
  wake_.notify_one();
  return result.get();
}

void ExporterLoop::Run() {
  common::TimePoint last_gc = clock_.Now();
  std::deque<Item> work;
  std::vector<SnapshotRequest> requests;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.tick,
                     [this] { return stop_ || !queue_.empty() || !snapshot_requests_.empty(); });
      if (stop_) break;
      work.swap(queue_);
      requests.swap(snapshot_requests_);
    }
    for (Item& item : work) {
      const common::TimePoint now = clock_.Now();
      state_.Add(item.batch, now);
      if (item.flush) state_.Flush(now);
    }
    const common::TimePoint now = clock_.Now();
    state_.Advance(now);
    if (now - last_gc >= options_.gc_interval) {
      state_.GarbageCollect(now);
#ifdef __GLIBC__
      // glibc keeps freed memory in its per-thread arenas (the receivers' payloads, the scrapes'
      // text, expired series); hand the free pages back so RSS follows the caps, not the peak.
      malloc_trim(0);
#endif
      last_gc = now;
    }
    for (SnapshotRequest& r : requests) {
      r.result.set_value(state_.Snapshot(now, r.with_operation_quantiles));
    }
    requests.clear();
    {
      std::lock_guard lock(mu_);
      for (Item& item : work) {
        queued_spans_ -= item.batch.size();
        if (spare_batches_.size() < kMaxSpareBatches &&
            item.batch.ArenaBytes() <= options_.max_spare_arena_bytes &&
            item.batch.spans().capacity() <= options_.max_spare_spans) {
          item.batch.Clear();
          spare_batches_.push_back(std::move(item.batch));
        }
      }
    }
    work.clear();
  }
  // Anyone still waiting for a snapshot gets the final state rather than a broken promise.
  std::lock_guard lock(mu_);
  for (SnapshotRequest& r : snapshot_requests_) r.result.set_value(state_.Snapshot(clock_.Now()));
}

}  // namespace exporter
