#include "sim/live.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/http_client.h"
#include "common/http_server.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "rapidjson/document.h"
#include "sim/cgroupfs.h"
#include "sim/emitters.h"
#include "sim/recorder.h"
#include "sim/simulation.h"

namespace sim {
namespace {

namespace spans = exporter::spans;

constexpr double kLimitResolution = 1e-5;  // cores; as the in-process loop

// Applies GET <url>/api/v1/recommendations: the replicas and cpuCores of the app's workloads.
void ApplyRecommendations(const common::HttpGet& get, const std::string& url, Simulation& sim,
                          LiveStats& stats) {
  ++stats.fetches;
  const common::HttpResult r = get(url + "/api/v1/recommendations");
  if (!r.ok()) {
    ++stats.fetches_failed;
    stats.last_error =
        "recommender: " + (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error);
    return;
  }
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("recommendations") ||
      !doc["recommendations"].IsArray()) {
    ++stats.fetches_failed;
    stats.last_error = "recommender: not a recommendations list";
    return;
  }
  const App& app = sim.app();
  for (const rapidjson::Value& rec : doc["recommendations"].GetArray()) {
    if (!rec.IsObject() || !rec.HasMember("namespace") || !rec["namespace"].IsString() ||
        !rec.HasMember("workload") || !rec["workload"].IsString() ||
        rec["namespace"].GetString() != app.k8s_namespace) {
      continue;
    }
    const int s = app.FindService(rec["workload"].GetString());
    if (s < 0) continue;
    const auto service = static_cast<uint32_t>(s);
    if (rec.HasMember("replicas") && rec["replicas"].IsNumber()) {
      const int n = static_cast<int>(std::lround(rec["replicas"].GetDouble()));
      if (n >= 1 && n != sim.Replicas(service)) {
        sim.SetReplicas(service, n);
        ++stats.scaling_actions;
      }
    }
    if (rec.HasMember("cpuCores") && rec["cpuCores"].IsNumber()) {
      const double cores = rec["cpuCores"].GetDouble();
      if (cores > 0 && std::abs(cores - sim.CpuLimit(service)) >= kLimitResolution) {
        sim.SetCpuLimit(service, cores);
        ++stats.scaling_actions;
      }
    }
  }
}

}  // namespace

std::string ToOtlpRequest(const spans::SpanBatch& batch, std::string_view trace_state) {
  std::vector<spans::OtlpResourceSpans> resources;
  std::map<std::pair<std::string_view, std::string_view>, size_t> by_resource;
  for (const spans::Span& s : batch.spans()) {
    auto [it, fresh] = by_resource.try_emplace({s.service, s.instance}, resources.size());
    if (fresh) {
      spans::OtlpResourceSpans& r = resources.emplace_back();
      r.resource = {{"service.name", std::string(s.service)},
                    {"k8s.pod.name", std::string(s.instance)},
                    {"k8s.namespace.name", std::string(s.k8s_namespace)}};
      r.scope_name = "queuelens-sim";
    }
    spans::OtlpSpan& o = resources[it->second].spans.emplace_back();
    o.trace_id = s.trace_id;
    o.span_id = s.span_id;
    o.parent_span_id = s.parent_span_id;
    o.trace_state = trace_state;
    o.name = std::string(s.operation);
    o.kind = s.kind;
    o.start_unix_nano = s.start_unix_nano;
    o.end_unix_nano = s.end_unix_nano;
    o.status = s.error ? spans::OtlpStatusCode::kError : spans::OtlpStatusCode::kUnset;
  }
  return spans::ToOtlpProto(resources);
}

RunResult RunLive(const App& app, const RateTrace& trace, const LiveOptions& options,
                  LiveStats& stats) {
  RateTrace measured = trace;
  if (options.run.duration > 0) {
    const auto steps = static_cast<size_t>(std::ceil(options.run.duration / trace.step));
    if (steps < measured.rates.size()) measured.rates.resize(steps);
  }
  const RateTrace full = WithWarmup(measured, options.run.warmup);
  const int64_t epoch = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  Simulation sim(app, full,
                 {.seed = options.run.seed,
                  .epoch_unix_seconds = epoch,
                  .emit_spans = !options.otlp_url.empty(),
                  .scenario = options.run.scenario});
  Recorder recorder(sim, options.run.warmup, 10);
  sim.set_listener(&recorder);
  const SpanSampler sampler(options.run.sampling);
  std::optional<CgroupTree> tree;
  if (!options.cgroup_root.empty()) tree.emplace(options.cgroup_root, sim.cpu().NodeCores(0));
  // The pod list the kubelet endpoint serves and the cluster's kube-state-metrics series,
  // replaced every simulated second.
  std::mutex pods_mu;
  std::string pods = KubeletPodList(sim);
  std::string kube_state = KubeStateMetricsText(sim);
  std::unique_ptr<common::HttpServer> kubelet;
  if (!options.kubelet_listen.empty()) {
    kubelet = std::make_unique<common::HttpServer>(
        common::HttpServer::Options{.listen_address = options.kubelet_listen, .threads = 2});
    kubelet->Handle("/pods", [&](const common::HttpRequest&) {
      common::HttpResponse r;
      r.content_type = "application/json";
      std::lock_guard lock(pods_mu);
      r.body = pods;
      return r;
    });
    kubelet->Handle("/metrics", [&](const common::HttpRequest&) {
      common::HttpResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      std::lock_guard lock(pods_mu);
      r.body = kube_state;
      return r;
    });
  }
  const common::HttpGet get = common::MakeCurlHttpGet({.timeout = std::chrono::seconds{2}});
  const common::HttpClientOptions post_options{.timeout = std::chrono::seconds{5}};

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Clock::time_point next_apply = start + options.apply_interval;
  const auto ticks = static_cast<int64_t>(std::llround(full.duration() / kTick));
  double t = 0;
  for (int64_t k = 1; k <= ticks; ++k) {
    if (options.stop && options.stop->load()) break;
    t = static_cast<double>(k) * kTick;
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(t / std::max(options.speed, 1e-6))));
    sim.RunUntil(t);
    recorder.Tick(t);
    if (k % 10 == 0) {
      if (tree) {
        tree->Write(sim);
        stats.cgroup_write_errors = tree->write_errors();
      }
      if (kubelet) {
        std::string list = KubeletPodList(sim);
        std::string text = KubeStateMetricsText(sim);
        std::lock_guard lock(pods_mu);
        pods.swap(list);
        kube_state.swap(text);
      }
      sampler.Apply(sim.spans());
      if (!options.otlp_url.empty() && !sim.spans().empty()) {
        const common::HttpResult r =
            common::HttpPost(options.otlp_url, ToOtlpRequest(sim.spans(), sampler.trace_state()),
                             "application/x-protobuf", post_options);
        ++stats.span_posts;
        if (r.ok()) {
          stats.spans_sent += sim.spans().size();
        } else {
          ++stats.span_posts_failed;
          stats.last_error =
              "OTLP: " + (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error);
        }
        sim.spans().Clear();
      }
    }
    if (!options.recommender_url.empty() && Clock::now() >= next_apply) {
      ApplyRecommendations(get, options.recommender_url, sim, stats);
      next_apply += options.apply_interval;
    }
    if (options.run.progress && k % 10 == 0) {
      options.run.progress(static_cast<double>(k) / static_cast<double>(ticks));
    }
  }

  RunResult r;
  recorder.AddUnfinished(t);
  r.summary = recorder.Summary(t);
  r.summary.policy = options.recommender_url.empty() ? "static" : "recommender";
  r.summary.scaling_actions = stats.scaling_actions;
  r.series = recorder.Series();
  r.warmup = options.run.warmup;
  r.simulated_seconds = t;
  r.events = sim.events();
  r.spans = stats.spans_sent;
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace sim
