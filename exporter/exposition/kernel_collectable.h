#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "exporter/state/kernel_snapshot.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace exporter::exposition {

// Renders a kernel snapshot as metric families: per container, per node, and the health of
// kernel collection. Pure: the snapshot holds everything.
std::vector<prometheus::MetricFamily> KernelFamilies(const state::KernelSnapshot& snapshot);

// A prometheus::Collectable over the latest published kernel snapshot.
class KernelCollectable final : public prometheus::Collectable {
 public:
  using SnapshotFn = std::function<std::shared_ptr<const state::KernelSnapshot>()>;
  explicit KernelCollectable(SnapshotFn snapshot) : snapshot_(std::move(snapshot)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return KernelFamilies(*snapshot_());
  }

 private:
  SnapshotFn snapshot_;
};

}  // namespace exporter::exposition
