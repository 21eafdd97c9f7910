#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/text_serializer.h"
#include "prometheus/registry.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/input/source.h"
#include "recommender/loop.h"
#include "tests/support/fake_clock.h"

namespace recommender {

// A registry counter or gauge by name and labels, read through the exposition text; -1 when
// absent.
inline double RegistryMetric(const prometheus::Registry& registry, const std::string& name,
                             const input::Labels& labels = {}) {
  std::string text;
  common::AppendText(registry.Collect(), text);
  for (const input::TextSample& s : input::ParsePrometheusText(text).samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) match = match && input::LabelValue(s.labels, k) == v;
    if (match) return s.value;
  }
  return -1;
}

// A source whose answers the test scripts: one service and one pod of shop/cart.
struct ScriptedInputs {
  bool up = true;
  double request_rate = 100;
  double inflight = 20;
  double cpu_usage = 1.5;
};

class ScriptedSource final : public input::Source {
 public:
  explicit ScriptedSource(std::shared_ptr<ScriptedInputs> inputs) : inputs_(std::move(inputs)) {}
  std::string_view Name() const override { return "scripted"; }
  input::FetchResult Fetch(common::TimePoint now) override {
    input::FetchResult r;
    if (!inputs_->up) {
      r.errors.push_back({"http://cart-exporter/metrics", "fetch", "Connection refused"});
      return r;
    }
    input::ServiceObservation s;
    s.k8s_namespace = "shop";
    s.service = "cart";
    s.at = now;
    s.request_rate = inputs_->request_rate;
    s.inflight = inputs_->inflight;
    s.busy = inputs_->inflight / 2;
    s.queue_length = inputs_->inflight / 4;
    s.uncongested_seconds = 0.01;
    s.p95_seconds = 0.15;
    s.p99_seconds = 0.2;
    s.tail_exclusive_seconds = 0.1;
    s.instances = {"cart-5d9f8-x7k2q", "cart-5d9f8-p2m4n"};
    r.observations.services.push_back(s);
    for (const char* pod : {"cart-5d9f8-x7k2q", "cart-5d9f8-p2m4n"}) {
      input::ContainerObservation c;
      c.k8s_namespace = "shop";
      c.pod = pod;
      c.container = "cart";
      c.at = now;
      c.cpu_usage_cores = c.cpu_usage_now_cores = inputs_->cpu_usage / 2;
      c.periods_rate = 10;
      c.throttled_periods_rate = 1;
      c.runqueue_wait_rate = 0.001;
      c.timeslice_rate = 100;
      c.cpu_limit_cores = 1;
      r.observations.containers.push_back(c);
    }
    return r;
  }

 private:
  std::shared_ptr<ScriptedInputs> inputs_;
};

inline WorkloadConfig CartConfig() {
  WorkloadConfig c;
  c.key = {"shop", "cart"};
  c.services = {"cart"};
  c.container = "cart";
  c.max_replicas = 50;
  return c;
}

// Everything a RecommenderLoop needs, with a fake clock and scripted inputs.
class LoopHarness {
 public:
  explicit LoopHarness(std::string checkpoint_file = "")
      : inputs(std::make_shared<ScriptedInputs>()), metrics_(registry_) {
    model::ModelOptions mo;
    mo.interval = std::chrono::seconds{1};
    LoopOptions lo;
    lo.checkpoint_file = std::move(checkpoint_file);
    lo.checkpoint_interval = common::Duration::zero();
    loop = std::make_unique<RecommenderLoop>(
        input::Feeder(std::make_unique<ScriptedSource>(inputs)), model::Model({CartConfig()}, mo),
        std::move(lo), metrics_, snapshots);
  }

  // Passes at 1 s steps of the fake clock.
  void Run(int passes) {
    for (int i = 0; i < passes; ++i) {
      clock.Advance(std::chrono::seconds{1});
      loop->RunOnce(clock.Now());
    }
  }

  const output::WorkloadView& Cart() const { return *snapshots.Get()->Find("shop", "cart"); }

  double Metric(const std::string& name, const input::Labels& labels = {}) const {
    return RegistryMetric(registry_, name, labels);
  }

  common::FakeClock clock;
  std::shared_ptr<ScriptedInputs> inputs;
  output::SnapshotHolder snapshots;
  std::unique_ptr<RecommenderLoop> loop;

 private:
  prometheus::Registry registry_;
  output::LoopMetrics metrics_;
};

}  // namespace recommender
