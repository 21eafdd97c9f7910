#include "exporter/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/log.h"

namespace exporter {
namespace {

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// --histogram.buckets accepts repeated flags and comma-separated lists alike.
std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = std::min(v.find(',', start), v.size());
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

bool ValidProbability(double p) { return p > 0 && p <= 1; }

// Per-service probabilities from --sampling.file, then --sampling.service-probability (which
// wins). Each problem is appended to `problems`.
std::unordered_map<std::string, double> ServiceProbabilities(const ExporterConfig& c,
                                                             std::vector<std::string>& problems) {
  std::unordered_map<std::string, double> out;
  if (!c.sampling_file.empty()) {
    std::ifstream in(c.sampling_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      problems.push_back("--sampling.file: cannot read " + c.sampling_file);
    } else {
      for (std::string& p : ParseSamplingFile(text.str(), out)) {
        problems.push_back("--sampling.file " + c.sampling_file + ": " + p);
      }
    }
  }
  for (const std::string& entry : c.sampling_service_probability) {
    const size_t eq = entry.rfind('=');
    const auto p = eq == std::string::npos ? std::nullopt : ParseDouble(entry.substr(eq + 1));
    if (eq == 0 || !p || !ValidProbability(*p)) {
      problems.push_back("--sampling.service-probability: \"" + entry +
                         "\" is not service=p with p in (0, 1]");
      continue;
    }
    out[entry.substr(0, eq)] = *p;
  }
  return out;
}

}  // namespace

std::vector<std::string> ParseSamplingFile(std::string_view yaml,
                                           std::unordered_map<std::string, double>& out) {
  std::vector<std::string> problems;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return {std::string("not YAML: ") + e.what()};
  }
  if (root.IsNull()) return problems;
  if (!root.IsMap()) return {"expected a mapping with the key services"};
  for (const auto& top : root) {
    if (top.first.as<std::string>() != "services") {
      problems.push_back("unknown key " + top.first.as<std::string>());
      continue;
    }
    if (!top.second.IsMap()) {
      problems.push_back("services: expected a mapping of service name to probability");
      continue;
    }
    for (const auto& svc : top.second) {
      const std::string name = svc.first.as<std::string>();
      const auto p = svc.second.IsScalar() ? ParseDouble(svc.second.Scalar()) : std::nullopt;
      if (!p || !ValidProbability(*p)) {
        problems.push_back("services." + name + ": probability must be in (0, 1]");
        continue;
      }
      out[name] = *p;
    }
  }
  return problems;
}

void ExporterConfig::Register(common::FlagSet& f) {
  f.String("web.listen-address", &web_listen_address,
           "Address for /metrics, the status page and the JSON API (host:port; port 0 picks one)");
  f.Int("web.threads", &web_threads, "HTTP worker threads, shared by all routes of a listener");
  web_limits.Register(f);
  f.String("otlp.listen-address", &otlp_listen_address,
           "Address of the OTLP/HTTP receiver (POST /v1/traces); empty disables it; equal to "
           "--web.listen-address serves both on one port");
  f.Bytes("otlp.max-body-bytes", &otlp_max_body_bytes, "Largest OTLP request body (else 413)");
  f.Bytes("otlp.max-decompressed-bytes", &otlp_max_decompressed_bytes,
          "Largest OTLP body after gunzip (else 413)");
  f.String("jaeger.url", &jaeger_url,
           "Jaeger query service to poll, e.g. http://jaeger-query:16686; empty disables it");
  f.String("jaeger.api", &jaeger_api, "Jaeger API: auto (v3, else v1), v3 or v1");
  f.Duration("jaeger.interval", &jaeger_interval, "Time between polls of Jaeger");
  f.Duration("jaeger.overlap", &jaeger_overlap,
             "How far each poll reaches back before the previous one (late-indexed traces)");
  f.Duration("jaeger.settle", &jaeger_settle,
             "Traces started less than this long ago are left for the next poll");
  f.Duration("jaeger.lookback", &jaeger_lookback, "How far the first poll reaches back");
  f.Duration("jaeger.timeout", &jaeger_timeout, "Timeout of one Jaeger request");
  f.Duration("jaeger.max-backoff", &jaeger_max_backoff,
             "Longest wait between polls while Jaeger fails");
  f.Int("jaeger.search-limit", &jaeger_search_limit, "Traces asked for per service and poll");
  f.Bytes("jaeger.max-response-bytes", &jaeger_max_response_bytes,
          "Largest Jaeger answer accepted");
  f.StringList("replay.file", &replay_files,
               "Trace file to ingest at start (Jaeger v1 JSON, OTLP/Jaeger v3 JSON, or OTLP "
               "protobuf as *.pb); repeatable");
  f.Bytes("replay.max-bytes", &replay_max_bytes, "Largest replay file");
  f.Duration("trace.wait", &trace_wait,
             "How long a trace collects spans from its services before it is analysed");
  f.Int("trace.max-traces", &trace_max_traces,
        "Traces buffered at once; the oldest are finished early beyond it");
  f.Int("trace.max-spans", &trace_max_spans,
        "Spans buffered at once; the oldest traces are finished early beyond it");
  f.Int("trace.max-spans-per-trace", &trace_max_spans_per_trace,
        "Spans kept per trace; further spans of the trace are dropped");
  f.Int("ingest.max-queued-spans", &ingest_max_queued_spans,
        "Parsed spans waiting for the state thread; beyond it OTLP answers 503");
  f.Bytes("span.max-label-bytes", &span_max_label_bytes,
          "Longest span label value (service, operation, instance, namespace); longer values are "
          "cut at a UTF-8 code-point boundary and counted in "
          "queuelens_span_labels_sanitized_total");
  f.Duration("span.max-duration", &span_max_duration,
             "Spans lasting longer are dropped (queuelens_spans_dropped_total{reason="
             "\"duration_too_long\"})");
  f.Duration("span.max-age", &span_max_age,
             "Spans that started longer than this before they were received are dropped "
             "(reason=\"start_too_old\"); replayed files are exempt. At least "
             "--span.max-duration");
  f.Duration("window.length", &window, "Sliding window of the gauges and quantiles");
  f.Int("window.buckets", &window_buckets, "Sub-windows the sliding window rotates through");
  f.Duration("queue.horizon", &queue_horizon,
             "Horizon over which the uncongested service time is tracked");
  f.Double("queue.uncongested-quantile", &queue_uncongested_quantile,
           "Quantile of exclusive time over the horizon taken as the uncongested service time");
  f.StringList("histogram.buckets", &histogram_buckets,
               "Upper bounds in seconds of the duration histograms, comma-separated");
  f.Double("sketch.relative-accuracy", &sketch_relative_accuracy,
           "Relative accuracy of the quantile sketches (0.01 = 1%)");
  f.Int("series.max", &series_max,
        "Series per family; further label sets fold into one __overflow__ series");
  f.Duration("series.idle-timeout", &series_idle_timeout,
             "Series with no update for this long are dropped");
  f.Bool("kernel.enabled", &kernel_enabled,
         "Collect the kernel's CPU, throttling, PSI and run-queue statistics of this node's "
         "containers (needs the host's /proc and /sys; run as a DaemonSet with hostPID)");
  f.Duration("kernel.interval", &kernel_interval, "Time between kernel collections");
  f.Duration("kernel.discovery-interval", &kernel_discovery_interval,
             "Time between walks of the cgroup hierarchy for new containers (and, when some "
             "container is not named yet, fetches of the kubelet's pod list)");
  f.Int("kernel.max-open-files", &kernel_max_open_files,
        "Statistics files kept open for pread at most (0: three quarters of the descriptor "
        "limit, raised to its hard maximum at start); beyond it files are opened per read");
  f.Int("kernel.max-containers", &kernel_max_containers,
        "Containers tracked at most; cgroups found beyond it are skipped and counted as "
        "queuelens_kernel_errors_total{source=\"discovery\",reason=\"over_limit\"}");
  f.Bool("kernel.keep-files-open", &kernel_keep_files_open,
         "Keep statistics files open and re-read them with pread instead of opening them on "
         "every collection");
  f.String("kernel.cgroup-include", &kernel_cgroup_include,
           "Regex on cgroup paths (e.g. /system\\.slice/.*\\.service) selecting non-Kubernetes "
           "cgroups to read as containers; empty selects none");
  f.String("kernel.cgroup-exclude", &kernel_cgroup_exclude,
           "Regex on cgroup paths excluding cgroups, Kubernetes containers included");
  f.String("kernel.taskstats", &kernel_taskstats,
           "Run-queue counters per process from the kernel's taskstats netlink family (one "
           "batched query per process, exited threads included) instead of one schedstat read "
           "per thread: off, auto (when usable) or on (fail at start when not). Needs "
           "CAP_NET_ADMIN, the host's network namespace and --path.procfs in this PID namespace");
  f.String("path.procfs", &path_procfs, "procfs mount point (the host's /proc)");
  f.String("path.sysfs", &path_sysfs, "sysfs mount point (the host's /sys)");
  f.String("kubelet.url", &kubelet_url,
           "The kubelet's pod list, e.g. http://127.0.0.1:10255/pods or an API-server proxy URL, "
           "for namespace, pod and container names; empty: names from the containers' HOSTNAME");
  f.Duration("kubelet.timeout", &kubelet_timeout, "Timeout of one request for the pod list");
  f.String("kubelet.bearer-token-file", &kubelet_bearer_token_file,
           "Bearer token for the kubelet, read at every fetch (a missing file sends none)");
  f.String("kubelet.ca-file", &kubelet_ca_file,
           "CA bundle that signs the kubelet's serving certificate (empty: the system's roots)");
  f.Bool("kubelet.insecure-skip-verify", &kubelet_insecure_skip_verify,
         "Do not verify the kubelet's certificate (self-signed kubelet certificates)");
  f.Bool("captain.enabled", &captain_enabled,
         "With --kernel.enabled, run an Autothrottle Captain per container on 100 ms cpu.stat "
         "samples and export queuelens_container_recommended_cpu_cores");
  f.Duration("captain.tick", &captain_tick,
             "Time between the Captains' cgroup samples (Autothrottle: one CFS period, 100ms)");
  f.Double("captain.default-target", &captain_default_target,
           "Throttled-period ratio target until the recommender answers, and for workloads it "
           "does not list");
  f.Bool("captain.apply", &captain_apply,
         "Write each Captain's limit to its container's cgroup (v2 cpu.max, v1 "
         "cpu.cfs_quota_us; the period unchanged) for pods annotated "
         "queuelens.io/cpu-control: captain in the kubelet pod list (needs --kubelet.url and the "
         "host's cgroupfs writable under --path.sysfs); the original quota is written back on "
         "opt-out and on SIGTERM");
  f.Double("captain.min-cpu", &captain_min_cpu,
           "Floor in cores of every limit --captain.apply writes (a pod's "
           "queuelens.io/captain-min-cpu annotation may raise it)");
  f.String("recommender.url", &recommender_url,
           "queuelens-recommender's base URL; its GET /api/v1/targets gives the Captains' "
           "throttle targets (empty: --captain.default-target for all)");
  f.Duration("recommender.interval", &recommender_interval, "Time between fetches of the targets");
  f.Duration("recommender.timeout", &recommender_timeout, "Timeout of one fetch of the targets");
  f.Double("sampling.default-probability", &sampling_default_probability,
           "Head-sampling probability of requests whose spans declare none (no tracestate "
           "ot=th/ot=p in the span or its trace's root, no Jaeger sampler tags): each counts 1/p");
  f.StringList("sampling.service-probability", &sampling_service_probability,
               "service=p: the default probability for one service; repeatable, wins over "
               "--sampling.file");
  f.String("sampling.file", &sampling_file,
           "YAML file of per-service default probabilities: services: {name: p}");
  f.String("sampling.unknown", &sampling_unknown,
           "Requests whose sampling is declared without a usable probability (Jaeger "
           "ratelimiting, malformed ot=th): count-as-one or use-default");
  common::RegisterLogFlags(f, &log_level, &log_format);
}

std::vector<std::string> ExporterConfig::Validate() const {
  std::vector<std::string> problems;
  auto positive = [&](int64_t v, const char* flag) {
    if (v <= 0) problems.push_back(std::string("--") + flag + " must be positive");
  };
  auto positive_duration = [&](common::Duration d, const char* flag) {
    if (d <= common::Duration::zero()) {
      problems.push_back(std::string("--") + flag + " must be a positive duration");
    }
  };
  if (web_listen_address.empty()) problems.push_back("--web.listen-address must not be empty");
  positive(web_threads, "web.threads");
  web_limits.Validate(problems);
  positive(trace_max_traces, "trace.max-traces");
  positive(trace_max_spans, "trace.max-spans");
  positive(trace_max_spans_per_trace, "trace.max-spans-per-trace");
  positive(ingest_max_queued_spans, "ingest.max-queued-spans");
  positive(window_buckets, "window.buckets");
  positive(series_max, "series.max");
  positive(jaeger_search_limit, "jaeger.search-limit");
  // Room for the longest UTF-8 code point, so a cut value is never empty.
  if (span_max_label_bytes < 4) problems.push_back("--span.max-label-bytes must be at least 4");
  positive_duration(span_max_duration, "span.max-duration");
  if (span_max_age < span_max_duration) {
    problems.push_back("--span.max-age must not be shorter than --span.max-duration");
  }
  positive_duration(window, "window.length");
  positive_duration(queue_horizon, "queue.horizon");
  positive_duration(series_idle_timeout, "series.idle-timeout");
  positive_duration(jaeger_interval, "jaeger.interval");
  positive_duration(jaeger_timeout, "jaeger.timeout");
  if (trace_wait < common::Duration::zero())
    problems.push_back("--trace.wait must not be negative");
  if (!(queue_uncongested_quantile > 0 && queue_uncongested_quantile < 1)) {
    problems.push_back("--queue.uncongested-quantile must be in (0, 1)");
  }
  if (!(sketch_relative_accuracy > 0 && sketch_relative_accuracy <= 0.2)) {
    problems.push_back("--sketch.relative-accuracy must be in (0, 0.2]");
  }
  if (jaeger_api != "auto" && jaeger_api != "v3" && jaeger_api != "v1") {
    problems.push_back("--jaeger.api must be auto, v3 or v1");
  }
  // Zero would poll a failing Jaeger with no pause at all.
  if (jaeger_max_backoff < jaeger_interval) {
    problems.push_back("--jaeger.max-backoff must not be shorter than --jaeger.interval");
  }
  // Else the first poll's window is empty, which Jaeger rejects.
  if (jaeger_lookback <= jaeger_settle) {
    problems.push_back("--jaeger.lookback must be longer than --jaeger.settle");
  }
  if (!jaeger_url.empty() && jaeger_url.rfind("http://", 0) != 0 &&
      jaeger_url.rfind("https://", 0) != 0) {
    problems.push_back("--jaeger.url must start with http:// or https://");
  }
  // +Inf is always the last bucket; another one, or a bound given twice, would make duplicate
  // series, which Prometheus refuses.
  std::set<double> bounds;
  for (const std::string& b : SplitCommas(histogram_buckets)) {
    const auto v = ParseDouble(b);
    if (!v || !(*v > 0) || !std::isfinite(*v)) {
      problems.push_back("--histogram.buckets: \"" + b + "\" is not a positive number");
    } else if (!bounds.insert(*v).second) {
      problems.push_back("--histogram.buckets: \"" + b + "\" is given twice");
    }
  }
  positive_duration(kernel_interval, "kernel.interval");
  positive_duration(kernel_discovery_interval, "kernel.discovery-interval");
  positive_duration(kubelet_timeout, "kubelet.timeout");
  if (kernel_max_open_files < 0) problems.push_back("--kernel.max-open-files must be >= 0");
  if (kernel_max_containers <= 0) problems.push_back("--kernel.max-containers must be > 0");
  positive_duration(captain_tick, "captain.tick");
  positive_duration(recommender_interval, "recommender.interval");
  positive_duration(recommender_timeout, "recommender.timeout");
  if (!(captain_min_cpu >= 0.01 && std::isfinite(captain_min_cpu))) {
    problems.push_back("--captain.min-cpu must be at least 0.01 (the smallest CFS quota)");
  }
  if (captain_apply && !(kernel_enabled && captain_enabled)) {
    problems.push_back("--captain.apply needs --kernel.enabled and --captain.enabled");
  }
  if (captain_apply && kubelet_url.empty()) {
    problems.push_back(
        "--captain.apply needs --kubelet.url: only the kubelet's pod list opts "
        "pods in");
  }
  if (!(captain_default_target >= 0 && captain_default_target <= 1)) {
    problems.push_back("--captain.default-target must be in [0, 1]");
  }
  if (!recommender_url.empty() && recommender_url.rfind("http://", 0) != 0 &&
      recommender_url.rfind("https://", 0) != 0) {
    problems.push_back("--recommender.url must start with http:// or https://");
  }
  for (const auto& [pattern, flag] : {std::pair{&kernel_cgroup_include, "kernel.cgroup-include"},
                                      std::pair{&kernel_cgroup_exclude, "kernel.cgroup-exclude"}}) {
    try {
      std::regex re(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      problems.push_back(std::string("--") + flag + ": bad regex \"" + *pattern +
                         "\": " + e.what());
    }
  }
  if (!kubelet_url.empty() && kubelet_url.rfind("http://", 0) != 0 &&
      kubelet_url.rfind("https://", 0) != 0) {
    problems.push_back("--kubelet.url must start with http:// or https://");
  }
  if (kernel_enabled && (path_procfs.empty() || path_sysfs.empty())) {
    problems.push_back("--path.procfs and --path.sysfs must not be empty");
  }
  if (kernel_taskstats != "off" && kernel_taskstats != "auto" && kernel_taskstats != "on") {
    problems.push_back("--kernel.taskstats must be off, auto or on");
  }
  if (!ValidProbability(sampling_default_probability)) {
    problems.push_back("--sampling.default-probability must be in (0, 1]");
  }
  if (sampling_unknown != "count-as-one" && sampling_unknown != "use-default") {
    problems.push_back("--sampling.unknown must be count-as-one or use-default");
  }
  ServiceProbabilities(*this, problems);
  common::CheckLogFlags(log_level, log_format, problems);
  return problems;
}

state::StateOptions ExporterConfig::ToStateOptions() const {
  state::StateOptions o;
  o.traces.wait = trace_wait;
  o.traces.max_traces = static_cast<size_t>(trace_max_traces);
  o.traces.max_spans = static_cast<size_t>(trace_max_spans);
  o.traces.max_spans_per_trace = static_cast<size_t>(trace_max_spans_per_trace);
  o.window = window;
  o.window_buckets = static_cast<int>(window_buckets);
  o.horizon = queue_horizon;
  o.uncongested_quantile = queue_uncongested_quantile;
  if (!histogram_buckets.empty()) {
    o.bucket_bounds.clear();
    for (const std::string& b : SplitCommas(histogram_buckets)) {
      o.bucket_bounds.push_back(*ParseDouble(b));
    }
  }
  o.sketch_relative_accuracy = sketch_relative_accuracy;
  o.max_series = static_cast<size_t>(series_max);
  o.series_idle = series_idle_timeout;
  o.sampling.default_probability = sampling_default_probability;
  std::vector<std::string> ignored;  // Validate() reported them
  o.sampling.service_probability = ServiceProbabilities(*this, ignored);
  o.sampling.unknown_use_default = sampling_unknown == "use-default";
  return o;
}

LoopOptions ExporterConfig::ToLoopOptions() const {
  LoopOptions o;
  o.max_queued_spans = static_cast<size_t>(ingest_max_queued_spans);
  o.span_limits = {.max_label_bytes = span_max_label_bytes,
                   .max_duration_nano = span_max_duration.count(),
                   .max_age_nano = span_max_age.count()};
  return o;
}

sources::OtlpReceiverOptions ExporterConfig::ToOtlpOptions() const {
  return {.max_body_bytes = otlp_max_body_bytes,
          .max_decompressed_bytes = otlp_max_decompressed_bytes};
}

sources::JaegerPollerOptions ExporterConfig::ToJaegerOptions() const {
  sources::JaegerPollerOptions o;
  o.url = jaeger_url;
  o.api = sources::ParseJaegerApi(jaeger_api);
  o.interval = jaeger_interval;
  o.overlap = jaeger_overlap;
  o.settle = jaeger_settle;
  o.first_lookback = jaeger_lookback;
  o.search_limit = static_cast<size_t>(jaeger_search_limit);
  o.max_backoff = jaeger_max_backoff;
  return o;
}

kernel::CollectorOptions ExporterConfig::ToCollectorOptions(size_t max_open_files) const {
  kernel::CollectorOptions o;
  o.keep_files_open = kernel_keep_files_open;
  o.max_open_files = kernel_max_open_files > 0
                         ? std::min(max_open_files, static_cast<size_t>(kernel_max_open_files))
                         : max_open_files;
  o.max_containers = static_cast<size_t>(kernel_max_containers);
  o.discovery_interval = kernel_discovery_interval;
  o.cgroup_include = kernel_cgroup_include;
  o.cgroup_exclude = kernel_cgroup_exclude;
  o.kubelet_url = kubelet_url;
  o.kubelet_every_discovery = captain_apply;
  return o;
}

state::KernelStateOptions ExporterConfig::ToKernelStateOptions() const {
  return {.window = window,
          .window_buckets = static_cast<int>(window_buckets),
          .series_idle = series_idle_timeout};
}

common::HttpClientOptions ExporterConfig::ToKubeletClientOptions() const {
  return {.timeout = kubelet_timeout,
          .max_body_bytes = 256 << 20,
          .bearer_token_file = kubelet_bearer_token_file,
          .ca_file = kubelet_ca_file,
          .insecure_skip_verify = kubelet_insecure_skip_verify};
}

std::optional<sources::CaptainsRun> ExporterConfig::ToCaptainsRun(
    const sources::TargetsPoller* targets) const {
  if (!captain_enabled) return std::nullopt;
  sources::CaptainsRun run;
  run.options.default_target = captain_default_target;
  run.tick = captain_tick;
  if (captain_apply) run.apply = state::CaptainApplierOptions{.min_cores = captain_min_cpu};
  if (targets != nullptr) run.targets = [targets] { return targets->Current(); };
  return run;
}

}  // namespace exporter
