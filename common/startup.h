#pragma once

#include <signal.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/flags.h"
#include "prometheus/registry.h"

// The start-up queuelens-exporter and queuelens-recommender share: parse the flags, report
// every configuration problem at once, block the stop signals, set up logging, run until a stop
// signal arrives.
namespace common {

// Parses the command line. nullopt: go on; else the exit code, 0 after printing --help, 2 after
// printing what is wrong with a flag on stderr.
std::optional<int> ParseCommandLine(std::string_view program, FlagSet& flags, int argc,
                                    char** argv);

// Prints each problem as "<program>: <problem>" on stderr; false when there was any.
bool ReportProblems(std::string_view program, const std::vector<std::string>& problems);

// Blocks SIGINT and SIGTERM in the constructing thread and every thread it starts afterwards,
// so that only Wait receives them.
class StopSignals {
 public:
  StopSignals();
  // Returns once SIGINT or SIGTERM has arrived, and logs which.
  void Wait();

 private:
  sigset_t signals_;
};

// Sets up logging (InitLogging) and runs `run`. An exception from either is printed as
// "<program>: <what>" on stderr and gives exit code 1.
int RunWithLogging(std::string_view program, std::string_view log_level,
                   std::string_view log_format, const std::function<int()>& run);

// "8080,8443": the ports a server listens on, for the start-up log lines.
std::string JoinPorts(const std::vector<int>& ports);

// The build-info gauge, `name`{version="<queuelens version>"} 1.
void RegisterBuildInfo(prometheus::Registry& registry, std::string_view name,
                       std::string_view help);

}  // namespace common
