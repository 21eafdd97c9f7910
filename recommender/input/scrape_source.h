#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/input/source.h"

namespace recommender::input {

// Turns scraped counter values into increases over a window, the way PromQL's increase() does
// with counter resets: each raw series contributes its rise since it was last counted (its whole
// value after a drop, which is a restart), and the rises are summed per round into aggregates
// (e.g. one service over its operations and exporters). An aggregate keeps one point per round
// holding the rise since its previous point, never a running total, so a huge rise leaves the
// window with its point instead of swallowing every later one. A round in which one of its
// series was refused adds no point; the next point spans both rounds. A raw series seen for the
// first time contributes nothing: its value before this process started watching is unknown.
//
// Values are checked before they count: non-finite, negative and above-2^53 values are refused,
// and so is a rise above `max_rate` per second since the series was last counted. A refused
// value leaves the series at its last counted value, so good data after a bad scrape resumes
// from there; a refused rise that the next value confirms (it keeps rising plausibly from the new
// level) is taken as a level shift and counts only what came after it.
class CounterTracker {
 public:
  explicit CounterTracker(common::Duration window, double max_rate = kDefaultMaxCounterRate)
      : window_(window), max_rate_(max_rate) {}

  struct Raw;

  void BeginRound(common::TimePoint now);
  // A known raw series, or nullptr when it is new. The pointer stays valid until EndRound
  // forgets a series (it returns how many).
  Raw* Find(std::string_view raw_key);
  // Counts a known raw series' value into its aggregate: Invalid::kNone when counted (or already
  // seen this round), else why it was refused.
  Invalid Observe(Raw& raw, double value);
  // The same by key; nullopt when the series is new: name its aggregate with Track(), which
  // costs a second key only once per series.
  std::optional<Invalid> Observe(std::string_view raw_key, double value);
  // Starts tracking a new series at `value`; a refused value starts nothing and says why.
  Invalid Track(std::string_view raw_key, std::string_view aggregate_key, double value);
  // A target failed this round: the aggregates its raw series (keys starting with `raw_prefix`)
  // feed get no point until its rise can come with them. Returns their keys.
  std::vector<std::string_view> Miss(std::string_view raw_prefix);
  // Records a point for every aggregate observed this round, forgets what the window left and
  // gives back the table space of series that went away. Returns the raw series forgotten.
  size_t EndRound();

  // Increase per second over the window (oldest point in the window to the newest), or over
  // the last two rounds only; nullopt until an aggregate has two points.
  std::optional<double> Rate(std::string_view aggregate_key) const;
  std::optional<double> LastRate(std::string_view aggregate_key) const;
  std::optional<double> Increase(std::string_view aggregate_key) const;

  size_t raw_series() const { return raw_.size(); }
  size_t aggregates() const { return aggregates_.size(); }
  size_t raw_buckets() const { return raw_.bucket_count(); }

 private:
  struct Point {
    common::TimePoint t;
    double rise = 0;  // since the aggregate's previous point
  };
  struct Aggregate {
    double rise = 0;        // since the last point
    bool observed = false;  // in the current round
    bool refused = false;   // a value of one of its series, in the current round
    size_t series = 0;      // raw series that point at it
    std::deque<Point> points;
  };

 public:
  struct Raw {
    double last = 0;  // the last counted value
    common::TimePoint seen{};
    double refused = kAbsent;  // the last value refused for its rise, until one is counted
    common::TimePoint refused_at{};
    // Stable: map nodes do not move, and an aggregate outlives its raw series (EndRound).
    Aggregate* aggregate = nullptr;
    const std::string* aggregate_key = nullptr;
  };

 private:
  // Keys carry their hash. Raw keys are long and share long prefixes, so a probe that compares
  // hashes before text, and never hashes a stored key again to find its bucket, saves most of a
  // lookup's cost.
  struct Key {
    size_t hash = 0;
    std::string text;
  };
  struct KeyView {
    size_t hash = 0;
    std::string_view text;
    explicit KeyView(std::string_view s) : hash(std::hash<std::string_view>{}(s)), text(s) {}
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return k.hash; }
    size_t operator()(const KeyView& k) const { return k.hash; }
  };
  struct Equal {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return a.hash == b.hash && std::string_view(a.text) == std::string_view(b.text);
    }
  };
  template <class V>
  using Map = std::unordered_map<Key, V, Hash, Equal>;

  const Aggregate* Find(std::string_view key) const;
  bool Plausible(double rise, common::TimePoint since) const;

  common::Duration window_;
  double max_rate_;
  common::TimePoint now_{};
  Map<Raw> raw_;
  Map<Aggregate> aggregates_;
};

struct ScrapeOptions {
  common::Duration window = std::chrono::minutes{1};  // the rate window
  ParseLimits limits;
  double max_counter_rate = kDefaultMaxCounterRate;  // see CounterTracker
  // A target whose answer has more sample lines than this is refused as a whole (reason
  // too_many_series), before anything is parsed or counted: its inputs read as missing.
  size_t max_series = 200'000;
};

// Scrapes exporters' /metrics (and kube-state-metrics', when listed) directly and computes from
// the text what queries.h asks Prometheus for. The fast path: no Prometheus in between. Memory:
// one answer at a time (bounded by the HTTP client's body limit), parsed in slices of
// kParseSliceBytes so parsed samples never outnumber one slice's lines, and CounterTracker's
// keys and the series slots' texts for at most max_series counter series per target. After a round
// much larger than the one before, or one that forgot many series, freed heap is handed back to the
// system (malloc_trim), so a burst of series does not stay in the resident set.
inline constexpr size_t kParseSliceBytes = 1 << 20;

// Lines of exposition text that are neither blank nor comments: the most samples it can parse
// to, counted without parsing.
size_t CountSampleLines(std::string_view text);

class ScrapeSource final : public Source {
 public:
  ScrapeSource(std::vector<std::string> urls, common::HttpGet get, ScrapeOptions options);

  std::string_view Name() const override { return "scrape"; }
  FetchResult Fetch(common::TimePoint now) override;

  // A target's counter sample, by its position among the target's counter samples: while a
  // target writes its series in the same order, each sample finds its counter by comparing its
  // series text with the one last seen there, instead of joining and hashing a key.
  struct SeriesSlot {
    std::string series;
    CounterTracker::Raw* raw = nullptr;
  };

 private:
  std::vector<std::string> urls_;
  common::HttpGet get_;
  ScrapeOptions options_;
  CounterTracker counters_;
  std::vector<std::vector<SeriesSlot>> slots_;  // per target
  size_t last_lines_read_ = 0;
};

}  // namespace recommender::input
