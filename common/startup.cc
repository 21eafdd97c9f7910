#include "common/startup.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "common/log.h"
#include "common/version.h"
#include "prometheus/gauge.h"

namespace common {

std::optional<int> ParseCommandLine(std::string_view program, FlagSet& flags, int argc,
                                    char** argv) {
  std::string error;
  switch (flags.Parse(argc, argv, &error)) {
    case FlagSet::Outcome::kHelp:
      std::fputs(flags.Usage().c_str(), stdout);
      return 0;
    case FlagSet::Outcome::kError:
      std::fprintf(stderr, "%.*s: %s\n(see --help)\n", static_cast<int>(program.size()),
                   program.data(), error.c_str());
      return 2;
    case FlagSet::Outcome::kOk:
      break;
  }
  return std::nullopt;
}

bool ReportProblems(std::string_view program, const std::vector<std::string>& problems) {
  for (const std::string& p : problems) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), p.c_str());
  }
  return problems.empty();
}

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

void StopSignals::Wait() {
  int sig = 0;
  sigwait(&signals_, &sig);
  spdlog::info("received signal {}, shutting down", sig);
}

int RunWithLogging(std::string_view program, std::string_view log_level,
                   std::string_view log_format, const std::function<int()>& run) {
  try {
    InitLogging(log_level, log_format);
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), e.what());
    return 1;
  }
}

std::string JoinPorts(const std::vector<int>& ports) {
  std::string out;
  for (int p : ports) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

void RegisterBuildInfo(prometheus::Registry& registry, std::string_view name,
                       std::string_view help) {
  prometheus::BuildGauge()
      .Name(std::string(name))
      .Help(std::string(help))
      .Register(registry)
      .Add({{"version", kVersion}})
      .Set(1);
}

}  // namespace common
