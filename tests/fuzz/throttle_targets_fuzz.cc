// The recommender's GET /api/v1/targets answer, as the exporter's targets poller reads it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/sources/targets_poller.h"
#include "exporter/spans/otlp_encoding.h"
#include "exporter/state/captains.h"
#include "tests/fuzz/fuzz_check.h"

namespace state = exporter::state;

namespace {

std::string ToJson(const state::ThrottleTargets& targets) {
  std::string out = "{\"targets\":[";
  for (size_t i = 0; i < targets.entries.size(); ++i) {
    const state::ThrottleTargets::Entry& e = targets.entries[i];
    if (i > 0) out += ',';
    out += "{\"namespace\":";
    exporter::spans::AppendJsonString(out, e.k8s_namespace);
    out += ",\"workload\":";
    exporter::spans::AppendJsonString(out, e.workload);
    out += ",\"container\":";
    exporter::spans::AppendJsonString(out, e.container);
    char number[32];
    std::snprintf(number, sizeof number, "%.17g", e.target);
    out += ",\"throttleTarget\":";
    out += number;
    out += '}';
  }
  return out + "]}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<state::ThrottleTargets> targets =
      exporter::sources::ParseThrottleTargets(body, &error);
  QL_FUZZ_CHECK(targets.has_value() == error.empty());
  if (!targets) return 0;
  for (const state::ThrottleTargets::Entry& e : targets->entries) {
    QL_FUZZ_CHECK(e.target >= 0 && e.target <= 1);
    // A pod of the workload finds a target of its namespace.
    const double found =
        targets->For(e.k8s_namespace, e.workload + "-5d9f8-x7k2q", e.container, -1);
    QL_FUZZ_CHECK(found >= 0 && found <= 1);
  }

  // Written back as JSON, the targets read the same.
  std::string again_error;
  const std::optional<state::ThrottleTargets> again =
      exporter::sources::ParseThrottleTargets(ToJson(*targets), &again_error);
  QL_FUZZ_CHECK(again.has_value());
  QL_FUZZ_CHECK(again->entries.size() == targets->entries.size());
  for (size_t i = 0; i < again->entries.size(); ++i) {
    const state::ThrottleTargets::Entry& a = targets->entries[i];
    const state::ThrottleTargets::Entry& b = again->entries[i];
    QL_FUZZ_CHECK(a.k8s_namespace == b.k8s_namespace && a.workload == b.workload &&
                  a.container == b.container && a.target == b.target);
  }
  return 0;
}
