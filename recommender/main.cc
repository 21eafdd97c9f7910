// queuelens-recommender: exporter metrics (Prometheus or direct scrapes) → model → policies →
// replica and CPU recommendations for KEDA, Prometheus and the exporters' throttle targets.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/http_server_metrics.h"
#include "common/startup.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "recommender/config.h"
#include "recommender/input/feeder.h"
#include "recommender/input/prometheus_source.h"
#include "recommender/input/scrape_source.h"
#include "recommender/loop.h"
#include "recommender/output/graph.h"
#include "recommender/output/http_routes.h"
#include "recommender/output/keda_grpc.h"
#include "recommender/output/metric_names.h"
#include "recommender/output/recommender_metrics.h"

namespace {

constexpr std::string_view kProgram = "queuelens-recommender";

void PrintWorkloads(const recommender::RecommenderConfig& config) {
  const auto& file = config.workloads;
  std::printf("config ok: %zu workload(s), %zu budget group(s)%s\n", file.workloads.size(),
              file.budget_groups.size(), config.discover ? ", discovery on" : "");
  for (const recommender::WorkloadConfig& w : file.workloads) {
    std::string services;
    for (const std::string& s : w.services) services += (services.empty() ? "" : ",") + s;
    std::printf(
        "  %s/%s: services [%s], container %s, slo_p99 %gs, replicas %d..%d, cpu %g..%g cores, "
        "replica_policy %s, cpu_policy %s%s%s\n",
        w.key.k8s_namespace.c_str(), w.key.workload.c_str(), services.c_str(), w.container.c_str(),
        w.slo_p99_seconds, w.min_replicas, w.max_replicas, w.min_cpu_cores, w.max_cpu_cores,
        w.replica_policy.c_str(), w.cpu_policy.c_str(),
        w.budget_group ? (", budget_group " + *w.budget_group).c_str() : "",
        w.tower_high_cpu_group ? ", tower high-cpu group" : "");
  }
}

std::unique_ptr<recommender::input::Source> MakeSource(
    const recommender::RecommenderConfig& config) {
  namespace input = recommender::input;
  if (!config.prometheus_url.empty()) {
    return std::make_unique<input::PrometheusSource>(
        input::PrometheusClient(config.prometheus_url,
                                common::MakeCurlHttpGet({.timeout = config.prometheus_timeout}),
                                config.prometheus_timeout),
        config.EffectiveWindow(), config.max_counter_rate);
  }
  return std::make_unique<input::ScrapeSource>(
      config.exporter_urls,
      common::MakeCurlHttpGet(
          {.timeout = config.exporter_timeout, .max_body_bytes = config.exporter_max_bytes}),
      config.ToScrapeOptions());
}

int Run(const recommender::RecommenderConfig& config, common::StopSignals& stop) {
  common::SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  common::RegisterBuildInfo(*registry, recommender::output::kBuildInfo.name,
                            recommender::output::kBuildInfo.help);
  recommender::output::LoopMetrics metrics(*registry);
  recommender::output::SnapshotHolder snapshots;

  recommender::LoopOptions options;
  std::string call_graph_error;
  options.policies.deepscaler = config.LoadDeepScaler(clock.Now(), &call_graph_error);
  const recommender::policies::DeepScalerOptions deepscaler = options.policies.deepscaler;
  if (deepscaler.model) {
    spdlog::info("deepscaler: model {} ({} services, {} minutes of history)",
                 deepscaler.model_source, deepscaler.model->services().size(),
                 deepscaler.model->steps());
  } else if (!config.deepscaler_model.empty()) {
    spdlog::error("deepscaler: unavailable, it proposes nothing: {}", deepscaler.unavailable);
  }
  if (!call_graph_error.empty()) {
    spdlog::error("deepscaler: no critical path, every service rounds at {}: {}",
                  deepscaler.other_threshold, call_graph_error);
  }
  prometheus::BuildGauge()
      .Name(std::string(recommender::output::kDeepScalerModelLoaded.name))
      .Help(std::string(recommender::output::kDeepScalerModelLoaded.help))
      .Register(*registry)
      .Add({})
      .Set(deepscaler.model ? 1 : 0);
  options.safety = config.ToSafetyOptions();
  options.budget_groups = config.workloads.budget_groups;
  // The Tower's minute P99 is taken from the windows of this length inside the minute.
  options.policies.tower.latency_window = config.EffectiveWindow();
  options.checkpoint_file = config.checkpoint_file;
  options.checkpoint_max_bytes = config.checkpoint_max_bytes;
  options.checkpoint_interval = config.checkpoint_interval;
  recommender::RecommenderLoop loop(
      recommender::input::Feeder(MakeSource(config)),
      recommender::model::Model(config.workloads.workloads, config.ToModelOptions()),
      std::move(options), metrics, snapshots);
  loop.RestoreCheckpoint();

  common::HttpServer web(config.web_limits.For(config.web_listen_address, config.web_threads));
  auto listeners = std::make_shared<common::HttpServerCollectable>();
  listeners->Add("web", &web);
  std::unique_ptr<recommender::actuate::Actuators> actuators;
  if (config.actuate.any()) {
    recommender::actuate::ActuatorOptions actuate = config.actuate;
    actuate.interval = config.EffectiveInterval();
    actuators =
        std::make_unique<recommender::actuate::Actuators>(std::move(actuate), *registry, clock);
  }
  recommender::output::AddRecommenderRoutes(
      web, snapshots, registry, listeners, [&actuators, &deepscaler] {
        std::string html = recommender::output::RenderGraphSection(deepscaler);
        if (actuators) html += actuators->StatusHtml();
        return html;
      });
  web.Handle("/api/v1/graph", [&deepscaler](const common::HttpRequest& request) {
    return recommender::output::HandleGraph(deepscaler, request);
  });
  spdlog::info("serving /metrics, /api/v1/recommendations and the status page on {} (port {})",
               config.web_listen_address, common::JoinPorts(web.Ports()));
  std::unique_ptr<common::HttpServer> apiserver;
  if (!config.apiserver_listen_address.empty()) {
    common::HttpServer::Options options =
        config.web_limits.For(config.apiserver_listen_address, config.web_threads);
    options.tls =
        common::HttpServer::TlsOptions{.cert_file = config.tls_cert_file,
                                       .key_file = config.tls_key_file,
                                       .client_ca_file = config.requestheader_client_ca_file};
    apiserver = std::make_unique<common::HttpServer>(std::move(options));
    listeners->Add("apiserver", apiserver.get());
    recommender::output::AddExternalMetricsRoutes(*apiserver, snapshots, config.AllowedNames());
    spdlog::info("serving external.metrics.k8s.io/v1beta1 over TLS on {} (port {})",
                 config.apiserver_listen_address, common::JoinPorts(apiserver->Ports()));
  }
  std::unique_ptr<recommender::output::KedaGrpcServer> keda_grpc;
  if (!config.grpc_listen_address.empty()) {
    keda_grpc = std::make_unique<recommender::output::KedaGrpcServer>(config.ToKedaGrpcOptions(),
                                                                      snapshots, clock);
    spdlog::info("serving the KEDA external scaler (gRPC{}) on {} (port {})",
                 config.grpc_tls_cert_file.empty() ? "" : ", TLS", config.grpc_listen_address,
                 keda_grpc->port());
  }
  const common::Duration interval = config.EffectiveInterval();
  spdlog::info("reading {} every {} (rate window {}) for {} configured workload(s){}",
               config.prometheus_url.empty() ? "exporters directly" : config.prometheus_url,
               common::FormatDuration(interval), common::FormatDuration(config.EffectiveWindow()),
               config.workloads.workloads.size(), config.discover ? " and discovered ones" : "");

  std::thread passes([&] { loop.Run(clock, interval); });
  if (actuators) actuators->Start(snapshots);
  stop.Wait();
  if (keda_grpc) keda_grpc->Stop();  // ends the open streams first: KEDA reconnects elsewhere
  if (actuators) actuators->Stop();
  loop.Stop();
  passes.join();
  loop.SaveCheckpoint(clock.Now());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  recommender::RecommenderConfig config;
  common::FlagSet flags("queuelens-recommender",
                        "Turns queuelens-exporter signals into replica and CPU recommendations "
                        "for KEDA, HPA and the exporters.");
  config.Register(flags);
  if (std::optional<int> exit_code = common::ParseCommandLine(kProgram, flags, argc, argv)) {
    return *exit_code;
  }
  std::vector<std::string> problems = config.Validate();
  for (std::string& p : config.LoadWorkloads()) problems.push_back(std::move(p));
  if (!common::ReportProblems(kProgram, problems)) return 2;
  if (config.check_config) {
    PrintWorkloads(config);
    return 0;
  }
  // The stop signals are blocked before any thread starts; Run waits for them.
  common::StopSignals stop;
  return common::RunWithLogging(kProgram, config.log_level, config.log_format,
                                [&] { return Run(config, stop); });
}
