#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "exporter/state/snapshot.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace exporter::exposition {

// Renders a state snapshot as metric families. Pure: the snapshot holds everything.
std::vector<prometheus::MetricFamily> StateFamilies(const state::StateSnapshot& snapshot);

// A prometheus::Collectable over the latest snapshot, taken on every Collect() (scrape time), so
// series that expired from the state vanish from the output with nothing to unregister.
class StateCollectable final : public prometheus::Collectable {
 public:
  using SnapshotFn = std::function<std::shared_ptr<const state::StateSnapshot>()>;
  explicit StateCollectable(SnapshotFn snapshot) : snapshot_(std::move(snapshot)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return StateFamilies(*snapshot_());
  }

 private:
  SnapshotFn snapshot_;
};

}  // namespace exporter::exposition
