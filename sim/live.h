#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "exporter/spans/span.h"
#include "sim/app.h"
#include "sim/run.h"
#include "sim/workload.h"

namespace sim {

struct LiveOptions {
  std::string otlp_url;     // POST spans as OTLP/HTTP protobuf here; empty: no spans
  std::string cgroup_root;  // keep a cgroupfs tree here (CgroupTree); empty: none
  // Serve the kubelet's GET /pods here (e.g. "127.0.0.1:10255", for the exporter's
  // --kubelet.url=http://127.0.0.1:10255/pods), and kube-state-metrics' deployment replicas and
  // pod CPU requests/limits at GET /metrics; empty: none.
  std::string kubelet_listen;
  std::string recommender_url;  // GET <url>/api/v1/recommendations; empty: no scaling
  double speed = 1;             // simulated seconds per wall-clock second
  common::Duration apply_interval = std::chrono::seconds{5};  // wall clock, like KEDA's polling
  RunOptions run;                                             // seed, warm-up, duration, progress
  const std::atomic<bool>* stop = nullptr;  // set (by a signal handler) to end the run early
};

struct LiveStats {
  uint64_t spans_sent = 0;
  uint64_t span_posts = 0, span_posts_failed = 0;
  uint64_t fetches = 0, fetches_failed = 0;
  uint64_t scaling_actions = 0;
  uint64_t cgroup_write_errors = 0;
  std::string last_error;
};

// Runs the simulation against the wall clock (`speed` times faster) with the real binaries in
// the loop: every simulated second the spans that finished go to a running exporter's OTLP
// receiver and the cgroup tree is rewritten; every apply_interval the running recommender's
// replicas and cpuCores for the app's workloads are applied. Span timestamps are simulated time
// from the start's wall clock, so at speed X the binaries see X times the simulated rates.
// Throws std::runtime_error when the cgroup tree cannot be created.
RunResult RunLive(const App& app, const RateTrace& trace, const LiveOptions& options,
                  LiveStats& stats);

// The spans of `batch` grouped into one OTLP ResourceSpans per (service, pod), with the
// resource attributes the exporter reads (service.name, k8s.pod.name, k8s.namespace.name), each
// span with `trace_state` (the W3C tracestate a sampler wrote; empty: none).
std::string ToOtlpRequest(const exporter::spans::SpanBatch& batch,
                          std::string_view trace_state = {});

}  // namespace sim
