#include "exporter/kernel/pod_mapping.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "exporter/kernel/parsers.h"

namespace exporter::kernel {
namespace {

constexpr size_t kShortIdLength = 12;

std::string ShortId(const std::string& container_id) {
  return container_id.substr(0, kShortIdLength);
}

// "containerd://<id>" -> "<id>".
std::string_view StripScheme(std::string_view id) {
  const size_t sep = id.find("://");
  return sep == std::string_view::npos ? id : id.substr(sep + 3);
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<double> ParseCpuQuantity(std::string_view text) {
  double scale = 1;
  if (text.ends_with('m')) {
    text.remove_suffix(1);
    scale = 1e-3;
  }
  if (text.empty() ||
      !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.')) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0) {
    return std::nullopt;
  }
  return value * scale;
}

std::optional<KubeletPods> ParseKubeletPods(std::string_view json, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc)) {
    *error = std::string("pod list is not JSON: ") + simdjson::error_message(err);
    return std::nullopt;
  }
  simdjson::dom::array items;
  if (doc["items"].get(items)) {
    *error = "pod list has no \"items\" array";
    return std::nullopt;
  }
  KubeletPods out;
  for (simdjson::dom::element item : items) {
    std::string_view uid, name, ns;
    if (item["metadata"]["uid"].get(uid) || item["metadata"]["name"].get(name)) continue;
    if (item["metadata"]["namespace"].get(ns)) ns = {};
    KubeletPod& pod = out[std::string(uid)];
    pod.k8s_namespace = ns;
    pod.name = name;
    simdjson::dom::object annotations;
    if (!item["metadata"]["annotations"].get(annotations)) {
      std::string_view value;
      pod.cpu_control.captain =
          !annotations[kCpuControlAnnotation].get(value) && value == "captain";
      if (!annotations[kCaptainMinCpuAnnotation].get(value)) {
        pod.cpu_control.min_cores = ParseCpuQuantity(value);
      }
      if (!annotations[kCaptainMaxCpuAnnotation].get(value)) {
        pod.cpu_control.max_cores = ParseCpuQuantity(value);
      }
    }
    for (const char* key :
         {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"}) {
      simdjson::dom::array statuses;
      if (item["status"][key].get(statuses)) continue;
      for (simdjson::dom::element s : statuses) {
        std::string_view container_name, id;
        if (s["name"].get(container_name) || s["containerID"].get(id)) continue;
        pod.containers.emplace_back(StripScheme(id), container_name);
      }
    }
  }
  return out;
}

PodMapper::PodMapper(FsRoot procfs, std::string kubelet_url, common::HttpGet get)
    : procfs_(std::move(procfs)), kubelet_url_(std::move(kubelet_url)), get_(std::move(get)) {}

ReadStatus PodMapper::Learn(const PodContainer& container, int32_t pid) {
  const std::string& uid = container.pod_uid;
  if (pid <= 0 || kubelet_pods_.contains(uid) || learned_.contains(uid)) return ReadStatus::kOk;
  const std::string dir = std::to_string(pid);
  const ReadStatus status = ReadFile(procfs_.Path(dir + "/environ"), buf_);
  if (status != ReadStatus::kOk) {
    spdlog::debug("kernel: no environment of pid {} for pod {}: {}", pid, uid,
                  ReadStatusName(status));
    return status;
  }
  const auto hostname = FindEnv(buf_.view(), "HOSTNAME");
  if (!hostname || hostname->empty()) return ReadStatus::kOk;
  Learned learned{.k8s_namespace = {}, .name = std::string(*hostname)};
  if (ReadFile(procfs_.Path(dir + "/root/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
               buf_) == ReadStatus::kOk) {
    learned.k8s_namespace = Trimmed(buf_.view());
  }
  learned_.emplace(uid, std::move(learned));
  return ReadStatus::kOk;
}

PodMapper::Result PodMapper::Resolve(const PodContainer& container) const {
  Result r;
  r.labels.container = ShortId(container.container_id);
  if (const auto it = kubelet_pods_.find(container.pod_uid); it != kubelet_pods_.end()) {
    r.labels.k8s_namespace = it->second.k8s_namespace;
    r.labels.pod = it->second.name;
    for (const auto& [id, name] : it->second.containers) {
      if (id == container.container_id) {
        r.labels.container = name;
        r.final = true;
      }
    }
    return r;
  }
  if (const auto it = learned_.find(container.pod_uid); it != learned_.end()) {
    r.labels.k8s_namespace = it->second.k8s_namespace;
    r.labels.pod = it->second.name;
    r.final = !has_kubelet();
    return r;
  }
  r.labels.pod = container.pod_uid;
  return r;
}

PodMapper::RefreshResult PodMapper::RefreshFromKubelet() {
  RefreshResult result;
  const common::HttpResult r = get_(kubelet_url_);
  if (!r.ok()) {
    result.reason = "fetch";
    result.error = r.Describe(kubelet_url_);
    return result;
  }
  std::optional<KubeletPods> pods = ParseKubeletPods(r.body, &result.error);
  if (!pods) {
    result.reason = "malformed";
    return result;
  }
  kubelet_pods_ = std::move(*pods);
  result.ok = true;
  return result;
}

const KubeletPod* PodMapper::KubeletPodOf(const std::string& uid) const {
  const auto it = kubelet_pods_.find(uid);
  return it == kubelet_pods_.end() ? nullptr : &it->second;
}

void PodMapper::Retain(const std::unordered_set<std::string>& uids) {
  std::erase_if(learned_, [&uids](const auto& kv) { return !uids.contains(kv.first); });
}

}  // namespace exporter::kernel
