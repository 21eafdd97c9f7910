// The cgroup, procfs and sysfs files the kernel collector reads (exporter/kernel/parsers.h),
// each parser over the same bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "exporter/kernel/parsers.h"
#include "tests/fuzz/fuzz_check.h"

namespace kernel = exporter::kernel;

namespace {

// Microsecond counters become nanoseconds; a value that cannot be converted must not wrap.
bool WholeMicros(const std::optional<uint64_t>& ns) { return !ns || *ns % 1000 == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)kernel::ParseTaskSchedstat(text);
  if (const auto node = kernel::ParseNodeSchedstat(text)) QL_FUZZ_CHECK(node->cpus >= 0);

  if (const auto psi = kernel::ParsePressure(text)) {
    QL_FUZZ_CHECK(WholeMicros(psi->some_ns));
    QL_FUZZ_CHECK(WholeMicros(psi->full_ns));
  }
  if (const auto v2 = kernel::ParseCpuStatV2(text)) {
    QL_FUZZ_CHECK(v2->usage_ns.has_value());
    QL_FUZZ_CHECK(WholeMicros(v2->usage_ns));
    QL_FUZZ_CHECK(WholeMicros(v2->throttled_ns));
  }
  if (const auto v1 = kernel::ParseCpuStatV1(text)) QL_FUZZ_CHECK(v1->periods.has_value());
  (void)kernel::ParseCpuacctUsage(text);

  if (const auto quota = kernel::ParseCpuMax(text)) {
    QL_FUZZ_CHECK(quota->period_us > 0);
    const std::optional<double> cores = kernel::LimitCores(*quota);
    QL_FUZZ_CHECK(cores.has_value() == (quota->quota_us > 0));
    if (cores) QL_FUZZ_CHECK(*cores > 0);
  }
  (void)kernel::ParseSingleInt(text);

  std::vector<int32_t> ids = {7};
  (void)kernel::ParseIdList(text, ids);
  for (const int32_t id : ids) QL_FUZZ_CHECK(id > 0);

  if (const auto hostname = kernel::FindEnv(text, "HOSTNAME")) {
    // A view into the environment block, never past its end.
    QL_FUZZ_CHECK(hostname->data() >= text.data() &&
                  hostname->data() + hostname->size() <= text.data() + text.size());
  }

  if (const auto cpus = kernel::ParseCpuList(text)) QL_FUZZ_CHECK(*cpus > 0);

  for (const kernel::Mount& m : kernel::ParseMountinfo(text)) {
    QL_FUZZ_CHECK(!m.fs_type.empty());
    QL_FUZZ_CHECK(m.root.size() <= text.size() && m.mount_point.size() <= text.size());
  }
  return 0;
}
