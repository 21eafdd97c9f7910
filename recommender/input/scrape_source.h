#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/input/source.h"

namespace recommender::input {

// Turns scraped counter values into increases over a window, the way PromQL's increase() does
// with counter resets: each raw series contributes its rise since the previous round (its whole
// value after a drop, which is a restart), and the rises are summed into aggregates (e.g. one
// service over its operations and exporters) whose running totals never go down, even when a
// raw series disappears. A raw series seen for the first time contributes nothing: its value
// before this process started watching is unknown.
class CounterTracker {
 public:
  explicit CounterTracker(common::Duration window) : window_(window) {}

  void BeginRound(common::TimePoint now);
  // Applies a known raw series' value to its aggregate. False when the series is new: name its
  // aggregate with Track(), which costs a second key only once per series.
  bool Observe(std::string_view raw_key, double value);
  void Track(std::string_view raw_key, std::string_view aggregate_key, double value);
  // Records a point for every aggregate observed this round and forgets what the window left.
  void EndRound();

  // Increase per second over the window (oldest point in the window to the newest), or over
  // the last two rounds only; nullopt until an aggregate has two points.
  std::optional<double> Rate(std::string_view aggregate_key) const;
  std::optional<double> LastRate(std::string_view aggregate_key) const;
  std::optional<double> Increase(std::string_view aggregate_key) const;

  size_t raw_series() const { return raw_.size(); }
  size_t aggregates() const { return aggregates_.size(); }

 private:
  struct Point {
    common::TimePoint t;
    double total = 0;
  };
  struct Aggregate {
    double total = 0;
    bool observed = false;  // in the current round
    std::deque<Point> points;
  };
  struct Raw {
    double last = 0;
    common::TimePoint seen{};
    // Stable: map nodes do not move, and an aggregate outlives its raw series (EndRound).
    Aggregate* aggregate = nullptr;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;

  const Aggregate* Find(std::string_view key) const;

  common::Duration window_;
  common::TimePoint now_{};
  Map<Raw> raw_;
  Map<Aggregate> aggregates_;
};

struct ScrapeOptions {
  common::Duration window = std::chrono::minutes{1};  // the rate window
  ParseLimits limits;
};

// Scrapes exporters' /metrics (and kube-state-metrics', when listed) directly and computes from
// the text what queries.h asks Prometheus for. The fast path: no Prometheus in between.
class ScrapeSource final : public Source {
 public:
  ScrapeSource(std::vector<std::string> urls, common::HttpGet get, ScrapeOptions options);

  std::string_view Name() const override { return "scrape"; }
  FetchResult Fetch(common::TimePoint now) override;

 private:
  std::vector<std::string> urls_;
  common::HttpGet get_;
  ScrapeOptions options_;
  CounterTracker counters_;
};

}  // namespace recommender::input
