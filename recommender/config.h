#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/flags.h"
#include "common/http_flags.h"
#include "recommender/actuate/actuators.h"
#include "recommender/combine/post_processors.h"
#include "recommender/input/scrape_source.h"
#include "recommender/model/model.h"
#include "recommender/output/keda_grpc.h"
#include "recommender/policies/deepscaler.h"
#include "recommender/workload_config.h"

namespace recommender {

// The workloads of a --config file. Format (YAML, or JSON with the same keys):
//
//   defaults:                 # optional; applies to every workload below and to discovered ones
//     slo_p99: 300ms          # seconds as a number, or a duration string
//   budget_groups:
//     - {name: shop, extra_pods: 16, entry_workloads: [cart]}
//   workloads:
//     - namespace: shop
//       workload: cart        # the Deployment
//       services: [cart]      # trace service names; default [workload]
//       container: cart       # the container sized; default the workload name
//       slo_p99: 200ms
//       min_replicas: 1
//       max_replicas: 20
//       allow_zero: true      # KEDA external scaler: idle for --grpc.idle-time → inactive
//       min_cpu: 100m         # cores as a number, or Kubernetes millicores "250m"
//       max_cpu: 2
//       replica_policy: queue_balancing
//       cpu_policy: throttle_target
//       budget_group: shop
//       tower_high_cpu_group: true
//       # Safety overrides (defaults and workloads); unset keeps the policy's own (README):
//       replica_stabilization_window: 300s   # seconds or a duration; 0: none
//       replica_max_step: 4                  # replicas per pass; 0: no limit
//       cpu_stabilization_window: 20s
//       cpu_max_step_factor: 2               # above 1; 0: no limit
//       resize: both          # --kubernetes.resize sets requests, limits or both; default none
//       pod_selector: app=cart  # the workload's pods; default app=<workload>
struct WorkloadFile {
  WorkloadConfig defaults;
  std::vector<WorkloadConfig> workloads;
  std::vector<BudgetGroup> budget_groups;
};

// Pure: parses and validates a config document. Every problem is appended to `problems`
// ("workloads[2].max_cpu: ..."); the result is only meaningful when none were added.
WorkloadFile ParseWorkloadFile(std::string_view text, std::vector<std::string>* problems);

// Everything queuelens-recommender can be told, with its defaults. Flags bind to these fields.
struct RecommenderConfig {
  std::string web_listen_address = ":8471";
  int64_t web_threads = 4;
  common::HttpServerFlags web_limits;  // both listeners

  // The external metrics API server (HTTPS); off while apiserver_listen_address is empty.
  std::string apiserver_listen_address;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string requestheader_client_ca_file;
  std::string requestheader_allowed_names;  // comma-separated; empty: any common name

  // KEDA's external scaler (gRPC); off while grpc_listen_address is empty.
  std::string grpc_listen_address;
  int64_t grpc_max_streams = 100;
  common::Duration grpc_idle_time = std::chrono::minutes{5};
  std::string grpc_tls_cert_file;
  std::string grpc_tls_key_file;
  std::string grpc_tls_client_ca_file;
  bool grpc_tls_require_client_cert = false;

  std::string prometheus_url;
  common::Duration prometheus_timeout = std::chrono::seconds{10};
  std::vector<std::string> exporter_urls;
  common::Duration exporter_timeout = std::chrono::seconds{5};
  size_t exporter_max_bytes = 64 << 20;
  int64_t exporter_max_series = 200'000;
  double max_counter_rate = input::kDefaultMaxCounterRate;

  std::string config_file;
  bool discover = false;
  int64_t discover_max_workloads = 1000;
  bool check_config = false;

  common::Duration interval = common::Duration::zero();  // zero: 15 s, or 1 s when scraping
  common::Duration window = common::Duration::zero();    // zero: 1 m, or 5 intervals when scraping
  common::Duration history = std::chrono::minutes{5};
  common::Duration staleness = std::chrono::minutes{1};
  common::Duration stabilization_window = std::chrono::minutes{5};
  int64_t max_replica_step = 4;

  std::string checkpoint_file;
  common::Duration checkpoint_interval = std::chrono::seconds{10};
  size_t checkpoint_max_bytes = 256 << 20;

  // The deepscaler policy: its model (queuelens-train --out) and the call graph (caller,callee,
  // calls CSV, as queuelens-sim dataset writes) its critical path is derived from.
  std::string deepscaler_model;
  std::string deepscaler_call_graph;

  // Actuators (recommender/actuate): interval is filled from EffectiveInterval().
  actuate::ActuatorOptions actuate;

  std::string log_level = "info";
  std::string log_format = "text";

  // Filled by LoadWorkloads().
  WorkloadFile workloads;

  void Register(common::FlagSet& flags);
  // Every problem with the flags, one message each; empty when usable.
  std::vector<std::string> Validate() const;
  // Reads --config (when set) into `workloads`; every problem, one message each.
  std::vector<std::string> LoadWorkloads();

  common::Duration EffectiveInterval() const;
  common::Duration EffectiveWindow() const;
  model::ModelOptions ToModelOptions() const;
  input::ScrapeOptions ToScrapeOptions() const;
  combine::SafetyOptions ToSafetyOptions() const;
  std::vector<std::string> AllowedNames() const;  // requestheader_allowed_names, split
  output::KedaGrpcOptions ToKedaGrpcOptions() const;
  // The deepscaler policy's options with its model and call graph loaded at `now`. A file that
  // cannot be read or is refused leaves the policy unavailable, with the reason in `unavailable`
  // (and its proposals); the call graph's problems are in `call_graph_error` (no critical path).
  policies::DeepScalerOptions LoadDeepScaler(common::TimePoint now,
                                             std::string* call_graph_error) const;
};

}  // namespace recommender
