#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/http_flags.h"
#include "exporter/kernel/collector.h"
#include "exporter/loop.h"
#include "exporter/sources/jaeger_poller.h"
#include "exporter/sources/kernel_poller.h"
#include "exporter/sources/otlp_receiver.h"
#include "exporter/sources/targets_poller.h"
#include "exporter/state/kernel_state.h"
#include "exporter/state/state.h"

namespace exporter {

// Everything queuelens-exporter can be told, with its defaults. Flags bind to these fields.
struct ExporterConfig {
  std::string web_listen_address = ":8470";
  int64_t web_threads = 8;
  common::HttpServerFlags web_limits;         // both listeners
  std::string otlp_listen_address = ":4318";  // empty: no OTLP receiver
  size_t otlp_max_body_bytes = 16 << 20;
  size_t otlp_max_decompressed_bytes = 64 << 20;

  std::string jaeger_url;  // empty: no Jaeger poller
  std::string jaeger_api = "auto";
  common::Duration jaeger_interval = std::chrono::seconds{15};
  common::Duration jaeger_overlap = std::chrono::seconds{30};
  common::Duration jaeger_settle = std::chrono::seconds{5};
  common::Duration jaeger_lookback = std::chrono::minutes{1};
  common::Duration jaeger_timeout = std::chrono::seconds{10};
  common::Duration jaeger_max_backoff = std::chrono::minutes{2};
  int64_t jaeger_search_limit = 1000;
  size_t jaeger_max_response_bytes = 256 << 20;

  std::vector<std::string> replay_files;
  size_t replay_max_bytes = size_t{1} << 30;

  common::Duration trace_wait = std::chrono::seconds{5};
  int64_t trace_max_traces = 200'000;
  int64_t trace_max_spans = 2'000'000;
  int64_t trace_max_spans_per_trace = 10'000;
  int64_t ingest_max_queued_spans = 1'000'000;

  // What one span may contribute (spans/validate.h).
  size_t span_max_label_bytes = 256;
  common::Duration span_max_duration = std::chrono::hours{1};
  common::Duration span_max_age = std::chrono::hours{2};

  common::Duration window = std::chrono::seconds{60};
  int64_t window_buckets = 4;
  common::Duration queue_horizon = std::chrono::hours{1};
  double queue_uncongested_quantile = 0.1;
  std::vector<std::string> histogram_buckets;  // empty: the defaults in StateOptions
  double sketch_relative_accuracy = 0.01;
  int64_t series_max = 10'000;
  common::Duration series_idle_timeout = std::chrono::minutes{5};

  // Sampled traces: the probability of requests whose spans do not declare one.
  double sampling_default_probability = 1;
  std::vector<std::string> sampling_service_probability;  // "service=p", repeatable
  std::string sampling_file;  // YAML: services: {name: p}; the flags win over it
  std::string sampling_unknown = "count-as-one";  // or use-default

  // Kernel statistics of this node (the DaemonSet case); off by default.
  bool kernel_enabled = false;
  common::Duration kernel_interval = std::chrono::seconds{1};
  common::Duration kernel_discovery_interval = std::chrono::seconds{10};
  bool kernel_keep_files_open = true;
  int64_t kernel_max_open_files = 0;  // 0: three quarters of the raised descriptor limit
  int64_t kernel_max_containers = 5'000;
  std::string kernel_cgroup_include;
  std::string kernel_cgroup_exclude;
  std::string kernel_taskstats = "auto";  // off, auto or on
  std::string path_procfs = "/proc";
  std::string path_sysfs = "/sys";
  std::string kubelet_url;  // empty: pod names from the containers' environment
  common::Duration kubelet_timeout = std::chrono::seconds{5};
  std::string kubelet_bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kubelet_ca_file;
  bool kubelet_insecure_skip_verify = false;

  // The per-container Captains (Autothrottle's 100 ms throttle control), with --kernel.enabled.
  bool captain_enabled = true;
  common::Duration captain_tick = std::chrono::milliseconds{100};
  double captain_default_target = 0;
  // Write the Captains' limits to the cgroups of pods annotated queuelens.io/cpu-control: captain.
  bool captain_apply = false;
  double captain_min_cpu = 0.1;  // cores: the floor of every limit written
  std::string recommender_url;   // empty: every Captain uses captain_default_target
  common::Duration recommender_interval = std::chrono::seconds{15};
  common::Duration recommender_timeout = std::chrono::seconds{5};

  std::string log_level = "info";
  std::string log_format = "text";

  void Register(common::FlagSet& flags);
  // Every problem, one message each; empty when the config is usable.
  std::vector<std::string> Validate() const;

  state::StateOptions ToStateOptions() const;  // call after Validate(); reads --sampling.file
  LoopOptions ToLoopOptions() const;
  sources::OtlpReceiverOptions ToOtlpOptions() const;
  sources::JaegerPollerOptions ToJaegerOptions() const;
  // max_open_files: descriptors the collector may keep (common::RaiseOpenFileLimit() less a
  // reserve).
  kernel::CollectorOptions ToCollectorOptions(size_t max_open_files) const;
  state::KernelStateOptions ToKernelStateOptions() const;
  common::HttpClientOptions ToKubeletClientOptions() const;
  // Empty when the Captains are off; `targets` (may be null) feeds them the recommender's targets.
  std::optional<sources::CaptainsRun> ToCaptainsRun(const sources::TargetsPoller* targets) const;
};

// --sampling.file's content: `services: {name: p}` into `out`; one message per problem.
std::vector<std::string> ParseSamplingFile(std::string_view yaml,
                                           std::unordered_map<std::string, double>& out);

}  // namespace exporter
