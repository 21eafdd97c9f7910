#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace tests {

// The first executable `name` in a directory of PATH, as a shell would run it; empty if none.
inline std::string FindProgram(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string candidate = std::string(dirs.substr(0, colon)) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return "";
}

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr: empty when promtool has nothing to say
};

// `promtool check metrics` (Debian package prometheus) over `text`; nullopt when promtool is not
// on PATH. The text goes through a temporary file named after `tag` and the process.
inline std::optional<PromtoolResult> PromtoolCheckMetrics(const std::string& text,
                                                          std::string_view tag) {
  const std::string promtool = FindProgram("promtool");
  if (promtool.empty()) return std::nullopt;
  const char* tmp = std::getenv("TMPDIR");
  const std::string in = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                         "/queuelens_promtool_" + std::string(tag) + "_" +
                         std::to_string(::getpid());
  if (FILE* f = std::fopen(in.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  PromtoolResult r;
  if (FILE* pipe = ::popen((promtool + " check metrics < " + in + " 2>&1").c_str(), "r")) {
    char chunk[512];
    while (const size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) r.output.append(chunk, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::remove(in.c_str());
  return r;
}

}  // namespace tests
