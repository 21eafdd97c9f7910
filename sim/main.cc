// queuelens-sim: a microservice simulator in closed loop with the exporter and recommender code,
// and the scoreboard of every policy against the Kubernetes baselines on workload traces.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/flags.h"
#include "recommender/checkpoint/checkpoint.h"
#include "recommender/policies/all_policies.h"
#include "recommender/predict/predictor.h"
#include "sim/actuation.h"
#include "sim/app.h"
#include "sim/dataset.h"
#include "sim/evaluate.h"
#include "sim/live.h"
#include "sim/policies.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/scoreboard.h"
#include "sim/tracegen.h"
#include "sim/workload.h"

namespace {

constexpr char kSummary[] =
    "Simulates a microservice app on a workload trace with the exporter and recommender code in "
    "closed loop.\n\n"
    "  queuelens-sim run --app FILE --trace FILE|constant[:RATE] [--policy NAME]\n"
    "      [--warmup-runs K] [--tower-checkpoint FILE] [--scenario NAME|PATH]\n"
    "      [--cpu-actuation policy|direct|captain|resize|vpa]\n"
    "  queuelens-sim evaluate --app FILE --trace FILE --policies LIST|all [--tune] [--seeds N]\n"
    "      [--seed-base S] [--out DIR] [--warmup-runs K] [--tower-checkpoint FILE]\n"
    "      [--scenario NAME|PATH] [--cpu-actuation policy|direct|captain|resize|vpa]\n"
    "  queuelens-sim dataset --app FILE --trace FILE --policies LIST [--seeds N] [--out DIR]\n"
    "      [--scenario NAME|PATH] [--cpu-actuation …]\n"
    "  queuelens-sim trace --kind diurnal|bursty|spiky|ramp [--seed S] [--minutes M] --out FILE\n"
    "  queuelens-sim run --live --otlp URL --cgroup-root DIR --recommender URL [--speed X]\n"
    "  queuelens-sim policies\n";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

struct Flags {
  std::string app, trace;
  std::string policy = "queuelens";
  std::string policies = "all";
  std::string scenario = "none";
  common::Duration duration = common::Duration::zero();
  common::Duration warmup = std::chrono::minutes{3};
  int64_t seed = 1;
  int64_t seeds = 1;
  int64_t seed_base = 0;
  std::string kind;
  int64_t minutes = 60;
  double multiplier = 0;
  bool tune = false;
  int64_t warmup_runs = 0;
  std::string tower_checkpoint;
  std::string deepscaler_model;
  int64_t jobs = std::max(1u, std::thread::hardware_concurrency());
  std::string out = ".";
  bool live = false;
  std::string otlp, cgroup_root, recommender;
  std::string kubelet_listen = "127.0.0.1:10255";
  double speed = 1;
  common::Duration apply_interval = std::chrono::seconds{5};
  std::string cpu_actuation = "policy";
  common::Duration api_delay =
      std::chrono::milliseconds{std::llround(sim::ActuationOptions{}.api_seconds * 1e3)};
  common::Duration kubelet_delay =
      std::chrono::milliseconds{std::llround(sim::ActuationOptions{}.kubelet_seconds * 1e3)};
  common::Duration vpa_updater_interval =
      std::chrono::milliseconds{std::llround(sim::ActuationOptions{}.vpa_updater_seconds * 1e3)};
  double sampling = 1;

  void Register(common::FlagSet& f) {
    f.String("app", &app, "App file (sim/apps/*.yaml).");
    f.String(
        "trace", &trace,
        "Workload trace: an Autothrottle .txt (req/s per second), a DeepScaler .req (users per "
        "5 s), a wiki .csv, or constant[:RATE[:DURATION]] (the app's constant_rps for 1 h).");
    f.String("policy", &policy, "run: the policy (see `queuelens-sim policies`).");
    f.String("policies", &policies, "evaluate, dataset: comma-separated policies, or all.");
    f.String("scenario", &scenario,
             "Interference: a name from sim/scenarios beside the app's directory (none, "
             "noisy-node, rolling, memory-bandwidth) or a scenario file.");
    f.Duration("duration", &duration,
               "Trace time simulated after the warm-up; 0 = the whole trace.");
    f.Duration("warmup", &warmup,
               "Autothrottle's ramp before the trace, excluded from the results.");
    f.Int("seed", &seed, "Seed of every random choice; the same seed gives the same run.");
    f.Double("multiplier", &multiplier,
             "Trace multiplier; 0 = the app's (Autothrottle's: hotel x10, social x1.5, train x1).");
    f.Bool("tune", &tune,
           "evaluate: grid-search each baseline's utilisation target and keep the cheapest that "
           "meets the SLO.");
    f.Int("seeds", &seeds,
          "evaluate, dataset: seeds per policy; the table gives each metric's mean and 95 % "
          "confidence "
          "interval, and a policy passes only if it meets the SLO in every seed.");
    f.Int("seed-base", &seed_base,
          "evaluate: the first of the --seeds consecutive seeds; 0 = --seed.");
    f.Int("jobs", &jobs, "evaluate: runs simulated at once.");
    f.Int("warmup-runs", &warmup_runs,
          "Warm Autothrottle's Tower first: K exploring runs of throttle_target on the same app "
          "and trace (seeds seed+1..seed+K; the first half grid exploration, the rest explore "
          "0.5), then every run starts from the warmed model with explore 0.");
    f.String("tower-checkpoint", &tower_checkpoint,
             "A Tower model to start from (a recommender checkpoint or a file this flag wrote); "
             "scored runs then use explore 0. With --warmup-runs the warmed model is written "
             "back to it.");
    f.String("deepscaler-model", &deepscaler_model,
             "The deepscaler policy's model file (queuelens-train --out); empty: "
             "models/<app>.model beside the app file's directory (sim/models/).");
    f.String("out", &out,
             "evaluate: directory for <app>-<trace>.csv (one row per policy and seed), "
             "<app>-<trace>-summary.csv (one row per policy) and <app>-<trace>.html; dataset: "
             "directory for <app>-<trace>-series.csv and <app>-<trace>-edges.csv (DeepScaler's "
             "training data, see queuelens-train); trace: the file to write.");
    f.String("kind", &kind, "trace: diurnal, bursty, spiky or ramp (see sim/README.md).");
    f.Int("minutes", &minutes, "trace: length of the generated trace.");
    f.Bool("live", &live, "run: in real time through running queuelens binaries.");
    f.String("otlp", &otlp,
             "live: OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces.");
    f.String("cgroup-root", &cgroup_root,
             "live: directory for the cgroup tree; run the exporter with "
             "--path.procfs=DIR/proc --path.sysfs=DIR/sys.");
    f.String("kubelet-listen", &kubelet_listen,
             "live: serve the pods' names as the kubelet's GET /pods here, for the exporter's "
             "--kubelet.url=http://ADDRESS/pods, and kube-state-metrics series at /metrics; "
             "empty: none.");
    f.String("recommender", &recommender,
             "live: recommender base URL, e.g. http://localhost:8471.");
    f.Double("speed", &speed, "live: simulated seconds per wall-clock second.");
    f.String("cpu-actuation", &cpu_actuation,
             "run, evaluate: how CPU recommendations reach the pods: policy (each policy's own: "
             "captain for throttle_target, else direct), direct (every pod at each policy "
             "interval), captain (the exporters' Captains every 100 ms; throttle_target only), "
             "resize (the recommender's --kubernetes.resize: hysteresis, patch rate, then the "
             "API and kubelet delays) or vpa (VPA status, then the VPA updater in place every "
             "--vpa-updater-interval for pods outside the bounds).");
    f.Duration("resize-api-delay", &api_delay,
               "resize, vpa: API round trip of one pods/resize PATCH.");
    f.Duration("resize-kubelet-delay", &kubelet_delay,
               "resize, vpa: from the accepted PATCH to the new limit in force on the node.");
    f.Duration("vpa-updater-interval", &vpa_updater_interval,
               "vpa: the VPA updater's period (its --updater-interval).");
    f.Double("sampling", &sampling,
             "run, evaluate: head-sampling probability of the traces (0, 1], written as "
             "tracestate ot=th as an OpenTelemetry SDK does.");
    f.Duration("apply-interval", &apply_interval,
               "live: how often the recommendations are fetched and applied (wall clock).");
  }
};

// A progress bar on stderr: redrawn in place on a terminal, a line every 10 % otherwise.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), tty_(isatty(2) != 0) {}

  void Update(double fraction) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    const int pct = static_cast<int>(fraction * 100);
    if (tty_) {
      if (now - last_ < std::chrono::milliseconds{200} && fraction < 1) return;
      last_ = now;
      constexpr int kWidth = 40;
      const int filled = static_cast<int>(fraction * kWidth);
      std::fprintf(stderr, "\r%s [%s%s] %3d%%", label_.c_str(), std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), pct);
    } else if (pct / 10 > shown_ / 10) {
      shown_ = pct;
      std::fprintf(stderr, "%s %d%%\n", label_.c_str(), pct);
    }
  }
  void Done() {
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  std::mutex mu_;
  std::string label_;
  bool tty_;
  int shown_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

std::string TraceName(const std::string& spec) {
  if (spec.starts_with("constant")) return spec;
  const size_t slash = spec.find_last_of('/');
  return slash == std::string::npos ? spec : spec.substr(slash + 1);
}

std::string Stem(const std::string& name) {
  std::string s = name.substr(0, name.find('.'));
  for (char& c : s) c = (c == ':' || c == '/') ? '_' : c;
  return s;
}

void PrintSummary(const sim::RunResult& r, const std::string& heading, bool paced) {
  const sim::RunSummary& s = r.summary;
  std::printf("%s\n", heading.c_str());
  std::printf("simulated %.1f min (%.1f min warm-up) in %.1f s: %.2f M events",
              r.simulated_seconds / 60, std::min(r.warmup, r.simulated_seconds) / 60,
              r.wall_seconds, r.events / 1e6);
  // Against the wall clock the rates say nothing about the simulator's speed.
  if (!paced) std::printf(" (%.2f M events/s)", r.events / 1e6 / std::max(r.wall_seconds, 1e-9));
  if (r.spans > 0) {
    std::printf(", %.2f M spans %s", r.spans / 1e6, paced ? "sent" : "through the exporter");
    if (!paced) std::printf(" (%.2f M spans/s)", r.spans / 1e6 / std::max(r.wall_seconds, 1e-9));
  }
  std::printf("\n");
  std::printf("  requests           %llu sent after the warm-up\n",
              static_cast<unsigned long long>(s.requests));
  if (s.requests == 0) {
    // Stopped during the warm-up: there is nothing to score yet.
    std::printf("  P50 / P99          - (stopped before the warm-up ended)\n");
  } else {
    std::printf("  P50 / P99          %.1f ms / %.1f ms (SLO %.0f ms: %s)\n", s.p50 * 1e3,
                s.p99 * 1e3, s.slo * 1e3, s.pass ? "pass" : "FAIL");
  }
  std::printf("  SLO violations     %d of %d minutes\n", s.violation_minutes, s.minutes);
  std::printf("  allocated          %.3f core-hours\n", s.core_hours);
  std::printf("  used               %.3f core-hours\n", s.usage_core_hours);
  std::printf("  throttled periods  %.2f %%\n", s.throttled_ratio * 100);
  std::printf("  scaling actions    %llu\n", static_cast<unsigned long long>(s.scaling_actions));
  std::printf("  cgroup writes      %llu\n", static_cast<unsigned long long>(s.cgroup_writes));
  std::printf("  mean replicas      %.1f\n", s.mean_replicas);
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// Autothrottle's protocol for the Tower: a warmed model (from --tower-checkpoint and/or
// --warmup-runs exploring runs) and scoring with explore 0; without either, the Tower starts cold
// and explores 0.1 as the recommender does.
bool PrepareTower(const sim::App& app, const sim::RateTrace& trace, const Flags& f,
                  sim::RunOptions& run) {
  namespace rp = recommender::policies;
  if (f.warmup_runs <= 0 && f.tower_checkpoint.empty()) return true;
  if (!f.tower_checkpoint.empty()) {
    std::string error;
    const auto text = recommender::ReadSmallFile(f.tower_checkpoint, 256 << 20, &error);
    if (text) {
      run.tower.model = *text;
    } else if (!error.empty() || f.warmup_runs <= 0) {
      std::fprintf(stderr, "queuelens-sim: --tower-checkpoint %s: %s\n", f.tower_checkpoint.c_str(),
                   error.empty() ? "no such file" : error.c_str());
      return false;
    }
  }
  if (f.warmup_runs > 0) {
    const auto policy = sim::FindPolicy(rp::kThrottleTarget);
    sim::RunOptions warm = run;
    warm.progress = nullptr;
    run.tower.model = sim::WarmTower(
        app, trace, *policy, warm, static_cast<int>(f.warmup_runs),
        [&](int k, const sim::RunResult& r) {
          std::fprintf(
              stderr, "Tower warm-up run %d/%lld (seed %llu): P99 %.1f ms, %.3f core-h\n", k + 1,
              static_cast<long long>(f.warmup_runs),
              static_cast<unsigned long long>(run.seed) + 1 + static_cast<unsigned long long>(k),
              r.summary.p99 * 1e3, r.summary.core_hours);
        });
    if (!f.tower_checkpoint.empty()) {
      std::string error;
      if (!recommender::WriteFileAtomically(f.tower_checkpoint, run.tower.model, &error)) {
        std::fprintf(stderr, "queuelens-sim: --tower-checkpoint %s: %s\n",
                     f.tower_checkpoint.c_str(), error.c_str());
        return false;
      }
    }
  }
  run.tower.mode = rp::TowerMode::kBandit;
  run.tower.explore = 0;
  return true;
}

// The deepscaler policy's model (--deepscaler-model, else the app's shipped model) and the app's
// call graph for its critical path. A model that cannot be loaded leaves the policy unavailable
// (it then proposes nothing and the replicas stay put), said once here.
void PrepareDeepScaler(const sim::App& app, const Flags& f, sim::RunOptions& run) {
  namespace fs = std::filesystem;
  std::string path = f.deepscaler_model;
  if (path.empty()) {
    const fs::path file(f.app);
    path = (file.parent_path().parent_path() / "models" / file.stem()).string() + ".model";
  }
  recommender::policies::DeepScalerOptions& d = run.deepscaler;
  d.model_source = path;
  d.call_graph = sim::CallGraphEdges(app, 1);
  std::string error;
  const auto bytes = recommender::ReadSmallFile(path, 256 << 20, &error);
  if (bytes) {
    if (auto model = recommender::predict::LoadPredictor(*bytes, &error)) {
      d.model = std::move(model);
      return;
    }
  }
  d.unavailable = path + ": " + (error.empty() ? "no such file" : error);
  std::fprintf(stderr, "queuelens-sim: deepscaler unavailable (%s); it proposes nothing\n",
               d.unavailable.c_str());
}

// DeepScaler's training data: every policy for --seeds seeds, one run after the other.
int WriteDataset(const sim::App& app, const sim::RateTrace& trace, const std::string& trace_name,
                 const Flags& f, const sim::RunOptions& run) {
  if (f.seeds < 1) {
    std::fprintf(stderr, "queuelens-sim dataset: --seeds must be at least 1\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  Progress progress(app.name + " dataset");
  const sim::Dataset d =
      sim::RecordDataset(app, trace, sim::ParsePolicyList(f.policies), static_cast<int>(f.seeds),
                         run, [&](double x) { progress.Update(x); });
  progress.Done();
  const std::string base = f.out + "/" + Stem(app.name) + "-" + Stem(trace_name);
  if (!WriteFile(base + "-series.csv", recommender::predict::FormatSeriesCsv(d.runs)) ||
      !WriteFile(base + "-edges.csv", recommender::predict::FormatEdgesCsv(d.edges))) {
    std::fprintf(stderr, "queuelens-sim dataset: cannot write %s-{series,edges}.csv\n",
                 base.c_str());
    return 1;
  }
  std::printf("wrote %s-series.csv (%zu runs of %d minutes, %zu services) and %s-edges.csv\n",
              base.c_str(), d.runs.size(), d.runs.empty() ? 0 : d.runs[0].minutes,
              app.services.size(), base.c_str());
  return 0;
}

int Main(const std::string& command, const Flags& f) {
  if (command == "policies") {
    for (const sim::PolicySpec& p : sim::AllPolicies()) {
      std::printf("%-16s %s\n", p.name.c_str(), p.description.c_str());
    }
    return 0;
  }
  if (command == "trace") {
    const auto kind = sim::ParseTraceKind(f.kind);
    if (!kind || f.minutes < 1 || f.out == ".") {
      std::fprintf(stderr,
                   "queuelens-sim trace: --kind diurnal|bursty|spiky|ramp, --minutes ≥ 1 and "
                   "--out FILE are required\n");
      return 2;
    }
    const sim::RateTrace t =
        sim::GenerateTrace(*kind, static_cast<uint64_t>(f.seed), static_cast<int>(f.minutes));
    if (!WriteFile(f.out, sim::FormatAutothrottleTrace(t))) {
      std::fprintf(stderr, "queuelens-sim trace: cannot write %s\n", f.out.c_str());
      return 1;
    }
    std::printf("wrote %s: %zu s, mean %.1f req/s\n", f.out.c_str(), t.rates.size(), t.Mean());
    return 0;
  }
  if (f.app.empty() || f.trace.empty()) {
    std::fprintf(stderr, "queuelens-sim %s: --app and --trace are required\n", command.c_str());
    return 2;
  }
  if (!(f.sampling > 0 && f.sampling <= 1)) {
    std::fprintf(stderr, "queuelens-sim %s: --sampling must be in (0, 1]\n", command.c_str());
    return 2;
  }
  const sim::App app = sim::LoadApp(f.app);
  const double multiplier = f.multiplier > 0 ? f.multiplier : app.trace_multiplier;
  const sim::RateTrace trace = sim::LoadTrace(f.trace, multiplier, app.constant_rps);
  const std::string trace_name = TraceName(f.trace);
  sim::RunOptions run;
  run.seed = static_cast<uint64_t>(f.seed);
  run.warmup = common::ToSeconds(f.warmup);
  run.duration = common::ToSeconds(f.duration);
  const std::optional<sim::CpuActuation> actuation = sim::ParseCpuActuation(f.cpu_actuation);
  if (!actuation || f.api_delay < common::Duration::zero() ||
      f.kubelet_delay < common::Duration::zero() ||
      f.vpa_updater_interval <= common::Duration::zero()) {
    std::fprintf(stderr,
                 "queuelens-sim %s: --cpu-actuation must be policy, direct, captain, resize or "
                 "vpa, the delays at least 0 and --vpa-updater-interval positive\n",
                 command.c_str());
    return 2;
  }
  run.actuation.mode = *actuation;
  run.actuation.api_seconds = common::ToSeconds(f.api_delay);
  run.actuation.kubelet_seconds = common::ToSeconds(f.kubelet_delay);
  run.actuation.vpa_updater_seconds = common::ToSeconds(f.vpa_updater_interval);
  // Refused here, not minutes into a run or in a worker thread of evaluate.
  const auto refuse = [&](const std::vector<sim::PolicySpec>& policies) {
    for (const sim::PolicySpec& p : policies) {
      if (const std::string error = sim::ActuationError(*actuation, p); !error.empty()) {
        std::fprintf(stderr, "queuelens-sim %s: %s\n", command.c_str(), error.c_str());
        return true;
      }
    }
    return false;
  };
  if (command == "run" && !f.live) {
    if (const auto p = sim::FindPolicy(f.policy); p && refuse({*p})) return 2;
  }
  if ((command == "evaluate" || command == "dataset") && refuse(sim::ParsePolicyList(f.policies))) {
    return 2;
  }
  {
    bool deepscaler = command == "run" && !f.live && f.policy == recommender::policies::kDeepScaler;
    if (command == "evaluate" || command == "dataset") {
      for (const sim::PolicySpec& p : sim::ParsePolicyList(f.policies)) {
        deepscaler = deepscaler || p.replica_policy == recommender::policies::kDeepScaler;
      }
    }
    if (deepscaler) PrepareDeepScaler(app, f, run);
  }
  run.scenario = sim::LoadScenario(f.scenario, f.app);
  run.sampling = f.sampling;
  sim::CheckScenario(run.scenario, app);  // here, not in a worker thread of evaluate

  if (command == "run" && f.live) {
    sim::LiveOptions live;
    live.otlp_url = f.otlp;
    live.cgroup_root = f.cgroup_root;
    if (!f.cgroup_root.empty()) live.kubelet_listen = f.kubelet_listen;
    live.recommender_url = f.recommender;
    live.speed = f.speed;
    live.apply_interval = f.apply_interval;
    live.run = run;
    live.stop = &g_stop;
    Progress progress(app.name + " live x" + std::to_string(f.speed).substr(0, 4));
    live.run.progress = [&](double x) { progress.Update(x); };
    signal(SIGINT, OnSignal);
    signal(SIGTERM, OnSignal);
    sim::LiveStats stats;
    const sim::RunResult r = sim::RunLive(app, trace, live, stats);
    progress.Done();
    PrintSummary(r, "queuelens-sim run --live: " + app.name + ", trace " + trace_name, true);
    std::printf("  spans sent         %llu in %llu posts (%llu failed)\n",
                static_cast<unsigned long long>(stats.spans_sent),
                static_cast<unsigned long long>(stats.span_posts),
                static_cast<unsigned long long>(stats.span_posts_failed));
    std::printf("  recommendations    %llu fetches (%llu failed)\n",
                static_cast<unsigned long long>(stats.fetches),
                static_cast<unsigned long long>(stats.fetches_failed));
    if (stats.cgroup_write_errors > 0) {
      std::printf("  cgroup tree        %llu write errors\n",
                  static_cast<unsigned long long>(stats.cgroup_write_errors));
    }
    if (!stats.last_error.empty())
      std::printf("  last error         %s\n", stats.last_error.c_str());
    return 0;
  }
  if (command == "dataset") return WriteDataset(app, trace, trace_name, f, run);
  if ((command == "run" || command == "evaluate") && !PrepareTower(app, trace, f, run)) return 1;
  if (command == "run") {
    const auto policy = sim::FindPolicy(f.policy);
    if (!policy) {
      std::fprintf(stderr,
                   "queuelens-sim run: unknown policy \"%s\" (see queuelens-sim policies)\n",
                   f.policy.c_str());
      return 2;
    }
    Progress progress(app.name + " " + policy->name);
    run.progress = [&](double x) { progress.Update(x); };
    const sim::RunResult r = sim::RunOne(app, trace, *policy, run);
    progress.Done();
    char heading[512];
    std::snprintf(
        heading, sizeof heading,
        "queuelens-sim run: %s, trace %s (x%g), policy %s, scenario %s, CPU via %s, "
        "seed %llu",
        app.name.c_str(), trace_name.c_str(), multiplier, policy->name.c_str(),
        run.scenario.name.c_str(),
        std::string(sim::CpuActuationName(sim::EffectiveActuation(run.actuation.mode, *policy)))
            .c_str(),
        static_cast<unsigned long long>(run.seed));
    PrintSummary(r, heading, false);
    return 0;
  }
  if (command == "evaluate") {
    sim::EvaluateOptions options;
    options.run = run;
    if (f.seed_base > 0) options.run.seed = static_cast<uint64_t>(f.seed_base);
    if (f.seeds < 1) {
      std::fprintf(stderr, "queuelens-sim evaluate: --seeds must be at least 1\n");
      return 2;
    }
    options.seeds = static_cast<int>(f.seeds);
    options.tune = f.tune;
    options.jobs = static_cast<int>(f.jobs);
    // Made (or refused) before minutes of simulation, not after.
    std::error_code ec;
    std::filesystem::create_directories(f.out, ec);
    if (ec) {
      std::fprintf(stderr, "queuelens-sim evaluate: cannot create --out %s: %s\n", f.out.c_str(),
                   ec.message().c_str());
      return 1;
    }
    Progress progress(app.name + " " + trace_name);
    options.progress = [&](double x) { progress.Update(x); };
    const sim::Scoreboard board =
        sim::Evaluate(app, trace, trace_name, sim::ParsePolicyList(f.policies), options);
    progress.Done();
    std::fprintf(stderr, "queuelens-sim evaluate: %zu runs simulated\n", board.runs_simulated);
    std::fputs(sim::FormatScoreboard(board).c_str(), stdout);
    // Runs under interference get their own files beside the undisturbed ones.
    const std::string base = f.out + "/" + Stem(app.name) + "-" + Stem(trace_name) +
                             (board.scenario == "none" ? "" : "-" + Stem(board.scenario)) +
                             (board.actuation == "policy" ? "" : "-cpu-" + board.actuation) +

                             sim::SamplingSuffix(board.sampling);
    if (!WriteFile(base + ".csv", sim::ScoreboardCsv(board)) ||
        !WriteFile(base + "-summary.csv", sim::ScoreboardSummaryCsv(board)) ||
        !WriteFile(base + ".html", sim::ScoreboardHtml(board))) {
      std::fprintf(stderr, "queuelens-sim evaluate: cannot write %s{.csv,-summary.csv,.html}\n",
                   base.c_str());
      return 1;
    }
    std::printf("wrote %s.csv, %s-summary.csv and %s.html\n", base.c_str(), base.c_str(),
                base.c_str());
    return 0;
  }
  std::fprintf(stderr, "queuelens-sim: unknown command \"%s\"\n%s", command.c_str(), kSummary);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  common::FlagSet set("queuelens-sim", kSummary);
  flags.Register(set);
  if (const std::optional<int> code = set.ParseOrExitCode(argc, argv)) return *code;
  if (set.positional().size() != 1) {
    std::fprintf(stderr, "queuelens-sim: expected one command\n%s", kSummary);
    return 2;
  }
  try {
    return Main(set.positional()[0], flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "queuelens-sim: %s\n", e.what());
    return 1;
  }
}
