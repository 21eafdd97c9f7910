#pragma once

#include <chrono>
#include <limits>

#include "recommender/output/snapshot.h"

namespace recommender::output {

// A fixed two-workload snapshot: shop/cart scaled by queue balancing with a CPU recommendation,
// and a discovered hotel/search that is stale and has no replicas yet.
inline Snapshot FixedSnapshot() {
  const common::TimePoint at{
      std::chrono::milliseconds{1'787'392'800'250}};  // 2026-08-22T10:00:00.25Z
  Snapshot s;
  s.computed_at = at;
  s.pass = 42;

  WorkloadView cart;
  cart.config.key = {"shop", "cart"};
  cart.config.services = {"cart"};
  cart.config.container = "cart";
  cart.config.tower_high_cpu_group = true;
  cart.signals.key = cart.config.key;
  cart.signals.observed_at = at - std::chrono::seconds{2};
  cart.signals.current_replicas = 3;
  cart.signals.cpu_limit_cores = 0.5;
  cart.signals.p99_latency_seconds = 0.12;
  policies::Proposal qb{.policy = "queue_sizing", .replicas = 5};
  qb.Term("inflight", 12.5);
  qb.Term("target_concurrency", 2.6);
  qb.Term("unreached", std::numeric_limits<double>::quiet_NaN());
  qb.reason = "Little's law: 12.5 in flight / 2.6 per replica";
  policies::Proposal tt{.policy = "throttle_target", .cpu_cores = 0.75};
  tt.Term("target", 0.06);
  tt.reason = "Captain recommendation";
  policies::Proposal hpa{.policy = "hpa_cpu", .replicas = 4, .cpu_cores = std::nullopt};
  cart.proposals = {qb, tt, hpa};
  cart.recommendation.key = cart.config.key;
  cart.recommendation.replicas = 5;
  cart.recommendation.cpu_cores = 0.75;
  cart.recommendation.policy = "queue_sizing";
  cart.recommendation.cpu_policy = "throttle_target";
  cart.recommendation.reason = "queue_sizing: Little's law: 12.5 in flight / 2.6 per replica";
  cart.recommendation.computed_at = at;
  cart.trend.replicas = {.at = at - std::chrono::seconds{30},
                         .from = 3,
                         .to = 5,
                         .policy = "queue_sizing",
                         .reason = cart.recommendation.reason};

  WorkloadView search;
  search.config.key = {"hotel", "search"};
  search.config.services = {"search"};
  search.config.container = "search";
  search.discovered = true;
  search.signals.key = search.config.key;
  search.recommendation.key = search.config.key;
  search.recommendation.policy = "queue_sizing";
  search.recommendation.cpu_policy = "throttle_target";
  search.recommendation.reason = "replicas stale: nothing to hold <no data>";
  search.recommendation.computed_at = at;
  search.recommendation.stale = true;
  search.proposals = {policies::Proposal{.policy = "queue_sizing", .reason = "no inputs"}};

  s.workloads = {search, cart};  // sorted by key: hotel < shop
  s.tower = {.has_choice = true,
             .action = 21,
             .high_cpu_target = 0.04,
             .other_target = 0.06,
             .bucket_rps = 20,
             .chosen_at = at - std::chrono::seconds{30}};
  s.steps = {{"feed", 0.002}, {"model", 0.0001}};
  s.input_errors = {{"http://node-b:8470/metrics", "fetch", "Connection refused"}};
  return s;
}

}  // namespace recommender::output
