// queuelens-exporter: spans (OTLP/HTTP, Jaeger, replay files) and kernel statistics of this
// node's containers → per-service and per-container state → /metrics.
#include <spdlog/spdlog.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <memory>
#include <optional>

#include "common/clock.h"
#include "common/descriptors.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/http_server_metrics.h"
#include "common/startup.h"
#include "exporter/config.h"
#include "exporter/exposition/http_routes.h"
#include "exporter/exposition/metric_names.h"
#include "exporter/kernel/taskstats.h"
#include "exporter/loop.h"
#include "exporter/sources/jaeger_poller.h"
#include "exporter/sources/kernel_poller.h"
#include "exporter/sources/otlp_receiver.h"
#include "exporter/sources/replay.h"
#include "exporter/sources/source_metrics.h"
#include "exporter/sources/targets_poller.h"
#include "prometheus/registry.h"

namespace {

constexpr std::string_view kProgram = "queuelens-exporter";

int Run(const exporter::ExporterConfig& config, common::StopSignals& stop) {
  common::SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  common::RegisterBuildInfo(*registry, exporter::exposition::kBuildInfo.name,
                            exporter::exposition::kBuildInfo.help);
  exporter::sources::SourceMetrics source_metrics(*registry);
  exporter::ExporterLoop loop(config.ToStateOptions(), config.ToLoopOptions(), clock);

  // Declared before the kernel poller, whose Captains read its targets.
  std::unique_ptr<exporter::sources::TargetsPoller> targets;
  // Declared before the web server, so no handler outlives it.
  std::unique_ptr<exporter::sources::KernelPoller> kernel;
  exporter::exposition::KernelSnapshotFn kernel_snapshot;
  if (config.kernel_enabled && config.captain_enabled && !config.recommender_url.empty()) {
    targets = std::make_unique<exporter::sources::TargetsPoller>(
        exporter::sources::TargetsPollerOptions{.url = config.recommender_url,
                                                .interval = config.recommender_interval},
        common::MakeCurlHttpGet(
            {.timeout = config.recommender_timeout, .max_body_bytes = 16 << 20}),
        source_metrics);
    targets->Start();
    spdlog::info("throttle targets from {}/api/v1/targets every {}", config.recommender_url,
                 common::FormatDuration(config.recommender_interval));
  }
  if (config.kernel_enabled) {
    // Kept statistics files take one descriptor each; a quarter stays for sockets and the rest
    // (--kernel.max-open-files lowers it further).
    const size_t max_open_files = common::RaiseOpenFileLimit() / 4 * 3;
    exporter::kernel::CollectorOptions collector_options =
        config.ToCollectorOptions(max_open_files);
    if (config.kernel_taskstats != "off") {
      std::string why;
      collector_options.process_stats = exporter::kernel::OpenProcessStats(
          exporter::kernel::FsRoot(config.path_procfs), std::chrono::seconds{1}, why);
      if (collector_options.process_stats) {
        spdlog::info("kernel: run-queue counters per process from taskstats");
      } else if (config.kernel_taskstats == "on") {
        spdlog::critical("--kernel.taskstats=on: {}", why);
        return 2;
      } else {
        spdlog::info("kernel: taskstats unusable ({}): schedstat per thread", why);
      }
    }
    kernel = std::make_unique<exporter::sources::KernelPoller>(
        std::make_unique<exporter::kernel::Collector>(
            exporter::kernel::FsRoot(config.path_procfs),
            exporter::kernel::FsRoot(config.path_sysfs), std::move(collector_options),
            config.kubelet_url.empty() ? common::HttpGet()
                                       : common::MakeCurlHttpGet(config.ToKubeletClientOptions())),
        config.ToKernelStateOptions(), config.ToCaptainsRun(targets.get()));
    kernel->Start(clock, config.kernel_interval);
    if (config.captain_apply) {
      spdlog::info(
          "captain: writing CPU limits (floor {} cores) to pods annotated "
          "queuelens.io/cpu-control: captain; originals restored on SIGTERM",
          config.captain_min_cpu);
    }
    kernel_snapshot = [k = kernel.get()] { return k->Snapshot(); };
    spdlog::info("collecting kernel statistics from {} and {} every {}", config.path_procfs,
                 config.path_sysfs, common::FormatDuration(config.kernel_interval));
  }

  common::HttpServer web(config.web_limits.For(config.web_listen_address, config.web_threads));
  auto listeners = std::make_shared<common::HttpServerCollectable>();
  listeners->Add("web", &web);
  exporter::exposition::AddExporterRoutes(web, loop, registry, kernel_snapshot, listeners);
  spdlog::info("serving /metrics and the status page on {} (port {})", config.web_listen_address,
               common::JoinPorts(web.Ports()));

  std::optional<exporter::sources::OtlpReceiver> otlp;
  std::unique_ptr<common::HttpServer> otlp_server;
  if (!config.otlp_listen_address.empty()) {
    otlp.emplace(loop, source_metrics, config.ToOtlpOptions());
    common::HttpServer* server = &web;
    if (config.otlp_listen_address != config.web_listen_address) {
      otlp_server = std::make_unique<common::HttpServer>(
          config.web_limits.For(config.otlp_listen_address, config.web_threads));
      server = otlp_server.get();
      listeners->Add("otlp", server);
    }
    server->Handle(
        "/v1/traces", [&otlp](const common::HttpRequest& r) { return otlp->Handle(r); },
        config.otlp_max_body_bytes);
    spdlog::info("receiving OTLP/HTTP on {} (port {}) at /v1/traces", config.otlp_listen_address,
                 common::JoinPorts(server->Ports()));
  }

  for (const std::string& path : config.replay_files) {
    const auto r =
        exporter::sources::ReplayFile(path, config.replay_max_bytes, loop, source_metrics);
    if (r.ok) {
      spdlog::info("replayed {}: {} spans ({} rejected)", path, r.spans, r.rejected_spans);
    } else {
      spdlog::error("replay failed: {}", r.error);
    }
  }

  std::unique_ptr<exporter::sources::JaegerPoller> jaeger;
  if (!config.jaeger_url.empty()) {
    jaeger = std::make_unique<exporter::sources::JaegerPoller>(
        config.ToJaegerOptions(),
        common::MakeCurlHttpGet(
            {.timeout = config.jaeger_timeout, .max_body_bytes = config.jaeger_max_response_bytes}),
        loop, source_metrics);
    jaeger->Start(clock);
    spdlog::info("polling Jaeger at {} every {}", config.jaeger_url,
                 common::FormatDuration(config.jaeger_interval));
  }

  stop.Wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  exporter::ExporterConfig config;
  common::FlagSet flags("queuelens-exporter",
                        "Derives queue length, concurrency and exclusive time from traces and "
                        "serves them to Prometheus.");
  config.Register(flags);
  if (std::optional<int> exit_code = common::ParseCommandLine(kProgram, flags, argc, argv)) {
    return *exit_code;
  }
  if (!common::ReportProblems(kProgram, config.Validate())) return 2;
#ifdef __GLIBC__
  // A fixed mmap threshold stops glibc from raising it (and the trim threshold, to 64 MiB) after
  // the first large payload is freed: blocks of 1 MiB and more (request bodies, /metrics text)
  // go back to the system when freed, and the arenas' free tops are trimmed at 128 KiB.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  // The stop signals are blocked before any thread starts; Run waits for them.
  common::StopSignals stop;
  return common::RunWithLogging(kProgram, config.log_level, config.log_format,
                                [&] { return Run(config, stop); });
}
