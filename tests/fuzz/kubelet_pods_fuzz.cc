// The kubelet's GET /pods answer, as the pod mapper fetches and reads it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/kernel/pod_mapping.h"
#include "tests/fuzz/fuzz_check.h"

namespace kernel = exporter::kernel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<kernel::KubeletPods> pods = kernel::ParseKubeletPods(body, &error);
  QL_FUZZ_CHECK(pods.has_value() == error.empty());

  kernel::PodMapper mapper(kernel::FsRoot("/nonexistent"), "http://kubelet/pods",
                           [&body](const std::string&) {
                             return common::HttpResult{.status = 200, .body = body, .error = {}};
                           });
  const kernel::PodMapper::RefreshResult refresh = mapper.RefreshFromKubelet();
  QL_FUZZ_CHECK(refresh.ok == pods.has_value());
  if (!pods) return 0;
  // Every container of the list is named by it.
  for (const auto& [uid, pod] : *pods) {
    for (const auto& [id, name] : pod.containers) {
      const kernel::PodMapper::Result r = mapper.Resolve({.pod_uid = uid, .container_id = id});
      QL_FUZZ_CHECK(r.final);
      QL_FUZZ_CHECK(r.labels.pod == pod.name);
      QL_FUZZ_CHECK(r.labels.k8s_namespace == pod.k8s_namespace);
    }
  }
  return 0;
}
