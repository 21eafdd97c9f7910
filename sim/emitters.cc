#include "sim/emitters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

namespace sim {
namespace {

std::string Hex(uint64_t v, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && v != 0; --i, v >>= 4) {
    out[static_cast<size_t>(i)] = "0123456789abcdef"[v & 15];
  }
  return out;
}

uint64_t InodeOf(uint32_t replica) { return 1000 + uint64_t{replica}; }
std::string_view QosOf(const Replica& r) { return r.guaranteed ? "guaranteed" : "burstable"; }

uint64_t Nanos(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e9)); }

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

void AppendNumber(std::string& out, double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  out.append(buf, static_cast<size_t>(n));
}

constexpr uint64_t kRandomnessMask = (uint64_t{1} << 56) - 1;

}  // namespace

SpanSampler::SpanSampler(double probability) : probability_(probability) {
  if (probability >= 1) return;
  // 2^56 − round(p·2^56): 1 − p in doubles would lose p's low bits.
  threshold_ = (uint64_t{1} << 56) - static_cast<uint64_t>(std::llround(probability * 0x1p56));
  std::string hex = Hex(threshold_, 14);
  while (hex.size() > 1 && hex.back() == '0') hex.pop_back();
  trace_state_ = "ot=th:" + hex;
  sampling_ = exporter::spans::ParseThreshold(hex);
}

bool SpanSampler::Keeps(const exporter::spans::TraceId& trace) const {
  return (DeriveSeed(trace.hi, trace.lo) & kRandomnessMask) >= threshold_;
}

void SpanSampler::Apply(exporter::spans::SpanBatch& batch) const {
  if (trace_state_.empty()) return;
  std::erase_if(batch.mutable_spans(),
                [this](const exporter::spans::Span& s) { return !Keeps(s.trace_id); });
  for (exporter::spans::Span& s : batch.mutable_spans()) s.SetSampling(sampling_);
}

void AppendLabelValue(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

ContainerIdentity IdentityOf(const Simulation& sim, uint32_t replica) {
  const Replica& r = sim.replicas()[replica];
  const uint64_t a = DeriveSeed(sim.epoch_nanos(), replica);
  const uint64_t b = DeriveSeed(a, 1);
  ContainerIdentity id;
  // A version-4-shaped UUID; the container id is four more derived words.
  id.pod_uid = Hex(a >> 32, 8) + "-" + Hex((a >> 16) & 0xffff, 4) + "-4" + Hex(a & 0xfff, 3) +
               "-8" + Hex(b >> 52, 3) + "-" + Hex(b & 0xffffffffffffULL, 12);
  for (uint64_t k = 2; k < 6; ++k) id.container_id += Hex(DeriveSeed(a, k), 16);
  id.qos = QosOf(r);
  std::string uid_ = id.pod_uid;
  for (char& c : uid_) c = c == '-' ? '_' : c;
  id.cgroup =
      id.qos == "guaranteed"
          ? "/kubepods.slice/kubepods-pod" + uid_ + ".slice"
          : "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice";
  id.cgroup += "/cri-containerd-" + id.container_id + ".scope";
  id.inode = InodeOf(replica);
  return id;
}

void FillKernelSample(Simulation& sim, exporter::kernel::KernelSample& out) {
  out.cgroup_mode = "v2";
  const App& app = sim.app();
  // Entries are overwritten in place: their strings keep their buffers, and an entry that already
  // names the replica keeps its identity, which costs more to build than the rest together.
  size_t n = 0;
  for (uint32_t i = 0; i < sim.replicas().size(); ++i) {
    const Replica& r = sim.replicas()[i];
    if (r.state == ReplicaState::kGone) continue;
    const ContainerCounters k = sim.Counters(i);
    if (n == out.containers.size()) out.containers.emplace_back();
    exporter::kernel::KernelSample::Container& c = out.containers[n++];
    if (c.cgroup_inode != InodeOf(i) || c.qos != QosOf(r) || c.pod != r.pod) {
      ContainerIdentity id = IdentityOf(sim, i);
      c.cgroup = std::move(id.cgroup);
      c.cgroup_inode = id.inode;
      c.pod_uid = std::move(id.pod_uid);
      c.container_id = std::move(id.container_id);
      c.qos = std::move(id.qos);
      c.pod = r.pod;
    }
    c.k8s_namespace = app.k8s_namespace;
    c.container = app.services[r.service].name;
    c.runtime = "containerd";
    c.usage_ns = Nanos(k.usage_seconds);
    c.periods = k.periods;
    c.throttled_periods = k.throttled_periods;
    c.throttled_ns = Nanos(k.throttled_seconds);
    c.pressure_some_ns = Nanos(k.pressure_some_seconds);
    c.pressure_full_ns = Nanos(k.pressure_full_seconds);
    const double limit = sim.cpu().Limit(r.container);
    c.limit_cores = limit > 0 ? std::optional<double>(limit) : std::nullopt;
    c.has_tasks = true;
    c.run_ns = Nanos(k.usage_seconds);
    c.wait_ns = Nanos(k.run_delay_seconds);
    c.timeslices = static_cast<uint64_t>(k.timeslices);
    c.threads = static_cast<size_t>(app.services[r.service].threads);
  }
  out.containers.resize(n);
}

std::string KubeletPodList(const Simulation& sim) {
  const App& app = sim.app();
  std::string out = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[";
  bool first = true;
  for (uint32_t i = 0; i < sim.replicas().size(); ++i) {
    const Replica& r = sim.replicas()[i];
    if (r.state == ReplicaState::kGone) continue;
    const ContainerIdentity id = IdentityOf(sim, i);
    out += first ? "" : ",";
    first = false;
    out += "{\"metadata\":{\"name\":" + JsonString(r.pod) +
           ",\"namespace\":" + JsonString(app.k8s_namespace) +
           ",\"uid\":" + JsonString(id.pod_uid) +
           "},\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":" +
           JsonString(app.services[r.service].name) + ",\"containerID\":\"containerd://" +
           id.container_id +
           "\",\"ready\":" + (r.state == ReplicaState::kReady ? "true" : "false") + "}]}}";
  }
  return out + "]}\n";
}

std::string KubeStateMetricsText(const Simulation& sim) {
  const App& app = sim.app();
  std::string out;
  auto series = [&](std::string_view name,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                    double value) {
    out.append(name);
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out.push_back(',');
      first = false;
      out.append(k).append("=\"");
      AppendLabelValue(out, v);
      out.push_back('"');
    }
    out.append("} ");
    AppendNumber(out, value);
    out.push_back('\n');
  };
  out.append("# TYPE kube_deployment_status_replicas gauge\n");
  for (uint32_t s = 0; s < app.services.size(); ++s) {
    series("kube_deployment_status_replicas",
           {{"namespace", app.k8s_namespace}, {"deployment", app.services[s].name}},
           sim.Replicas(s));
  }
  out.append("# TYPE kube_deployment_status_replicas_ready gauge\n");
  for (uint32_t s = 0; s < app.services.size(); ++s) {
    series("kube_deployment_status_replicas_ready",
           {{"namespace", app.k8s_namespace}, {"deployment", app.services[s].name}},
           sim.ReadyReplicas(s));
  }
  for (const bool limits : {false, true}) {
    const std::string_view name =
        limits ? "kube_pod_container_resource_limits" : "kube_pod_container_resource_requests";
    out.append("# TYPE ").append(name).append(" gauge\n");
    for (const Replica& r : sim.replicas()) {
      if (r.state == ReplicaState::kGone) continue;
      // A request above the limit is not a valid pod spec: the request follows a lower limit.
      const double limit = sim.CpuLimit(r.service);
      const double request =
          limit > 0 ? std::min(limit, sim.CpuRequest(r.service)) : sim.CpuRequest(r.service);
      const double value = limits ? limit : request;
      if (value <= 0) continue;
      series(name,
             {{"namespace", app.k8s_namespace},
              {"pod", r.pod},
              {"container", app.services[r.service].name},
              {"resource", "cpu"},
              {"unit", "core"}},
             value);
    }
  }
  return out;
}

}  // namespace sim
