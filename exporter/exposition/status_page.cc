#include "exporter/exposition/status_page.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "common/html.h"
#include "exporter/state/interference.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace exporter::exposition {

std::string SamplingDescription(double probability, spans::SamplingMethod method) {
  if (!std::isfinite(probability)) return "no requests in the window";
  char percent[32];
  // Enough digits to tell 1 % from 1.5 % and 0.01 % from 0.
  std::snprintf(percent, sizeof percent, "%.3g", probability * 100);
  return std::string("sampled at ") + percent + " % (" +
         std::string(spans::SamplingMethodName(method)) + ")";
}

std::string RenderStatusPage(const state::StateSnapshot& snap, std::string_view extra) {
  std::string out;
  out.reserve(16 * 1024);
  common::AppendStatusPageHead(out, "queuelens exporter", "h2{margin-bottom:.2em}.m{color:#555}",
                               {"/metrics", "/api/v1/services", "/healthz"});
  char window[64];
  std::snprintf(window, sizeof window, "%.0f s", snap.window_seconds);

  // Group operations under their service.
  std::map<std::tuple<std::string_view, std::string_view>,
           std::vector<const state::StateSnapshot::Operation*>>
      ops;
  for (const auto& o : snap.operations) ops[{o.k8s_namespace, o.service}].push_back(&o);

  if (snap.services.empty()) out += "<p>No requests seen yet.</p>\n";
  for (const auto& s : snap.services) {
    out += "<h2>";
    if (!s.k8s_namespace.empty()) {
      common::AppendHtmlEscaped(out, s.k8s_namespace);
      out += "/";
    }
    common::AppendHtmlEscaped(out, s.service);
    out += "</h2>\n<p class=\"m\">over the last ";
    out += window;
    out += ": arrival rate " + common::HtmlNumber(s.arrival_rate) + "/s · in flight " +
           common::HtmlNumber(s.inflight) + " · queue length " +
           common::HtmlNumber(s.queue_length) + " · mean exclusive " +
           common::HtmlMilliseconds(s.mean_exclusive) + " · uncongested service time " +
           common::HtmlMilliseconds(s.uncongested) + " · exclusive p50/p95/p99 " +
           common::HtmlMilliseconds(s.window_exclusive.p50) + " / " +
           common::HtmlMilliseconds(s.window_exclusive.p95) + " / " +
           common::HtmlMilliseconds(s.window_exclusive.p99) + " · " +
           SamplingDescription(s.sampling_probability, s.sampling_method) + ", " +
           std::to_string(s.window_sampled) + " spans</p>\n<table>";
    common::AppendHtmlRow(
        out, {"operation", "requests", "errors", "in window", "p50", "p95", "p99"}, true);
    for (const auto* o : ops[{s.k8s_namespace, s.service}]) {
      common::AppendHtmlRow(out, {o->operation, common::HtmlNumber(o->requests),
                                  common::HtmlNumber(o->errors), std::to_string(o->window_requests),
                                  common::HtmlMilliseconds(o->window_duration.p50),
                                  common::HtmlMilliseconds(o->window_duration.p95),
                                  common::HtmlMilliseconds(o->window_duration.p99)});
    }
    common::AppendHtmlRow(
        out, {"all", common::HtmlNumber(s.requests), "", common::HtmlNumber(s.window_requests),
              common::HtmlMilliseconds(s.window_duration.p50),
              common::HtmlMilliseconds(s.window_duration.p95),
              common::HtmlMilliseconds(s.window_duration.p99)});
    out += "</table>\n";
  }

  if (!snap.instances.empty()) {
    out += "<h2>Instances</h2>\n<table>";
    common::AppendHtmlRow(out, {"service", "instance", "requests", "rate /s", "mean exclusive"},
                          true);
    for (const auto& i : snap.instances) {
      common::AppendHtmlRow(out, {i.service, i.instance, common::HtmlNumber(i.requests),
                                  common::HtmlNumber(i.window_rate),
                                  common::HtmlMilliseconds(i.window_mean_exclusive)});
    }
    out += "</table>\n";
  }
  if (!snap.edges.empty()) {
    out += "<h2>Call graph</h2>\n<table>";
    common::AppendHtmlRow(out, {"client", "server", "calls"}, true);
    for (const auto& e : snap.edges)
      common::AppendHtmlRow(out, {e.client, e.server, common::HtmlNumber(e.calls)});
    out += "</table>\n";
  }
  const auto& st = snap.stats;
  out += "<h2>Pipeline</h2>\n<table>";
  common::AppendHtmlRow(out, {"traces buffered", std::to_string(st.buffered_traces)});
  common::AppendHtmlRow(out, {"spans buffered", std::to_string(st.buffered_spans)});
  common::AppendHtmlRow(out, {"traces finished", std::to_string(st.traces_finished)});
  common::AppendHtmlRow(out, {"traces evicted early", std::to_string(st.traces_evicted)});
  common::AppendHtmlRow(out,
                        {"spans dropped (trace cap)", std::to_string(st.spans_dropped_trace_cap)});
  common::AppendHtmlRow(
      out,
      {"series (operation/service/instance/edge)",
       std::to_string(st.operations.series) + " / " + std::to_string(st.services.series) + " / " +
           std::to_string(st.instances.series) + " / " + std::to_string(st.edges.series)});
  out += "</table>\n";
  out += extra;
  out += "</body></html>\n";
  return out;
}

std::string RenderInterferenceSection(const state::StateSnapshot& spans,
                                      const state::KernelSnapshot* kernel) {
  std::string out;
  auto opt = [](const std::optional<double>& v) {
    return v ? common::HtmlNumber(*v) : std::string("–");
  };
  auto opt_ms = [](const std::optional<double>& v) {
    return v ? common::HtmlMilliseconds(*v) : std::string("–");
  };
  auto ratio = [](const std::optional<double>& v) {
    if (!v) return std::string("–");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", *v * 100);
    return std::string(buf);
  };

  const std::vector<state::InstanceImbalance> imbalances = state::ComputeInstanceImbalance(spans);
  if (!imbalances.empty()) {
    out +=
        "<h2>Instance imbalance</h2>\n<p class=\"m\">largest mean exclusive time of an "
        "instance over the median of the service's instances</p>\n<table>";
    common::AppendHtmlRow(out, {"service", "instances", "max / median"}, true);
    for (const auto& b : imbalances) {
      common::AppendHtmlRow(out,
                            {b.service, std::to_string(b.instances), common::HtmlNumber(b.ratio)});
    }
    out += "</table>\n";
  }
  if (kernel == nullptr) return out;

  const std::vector<state::PodView> pods = state::JoinPods(spans, *kernel);
  if (!pods.empty()) {
    out +=
        "<h2>Pods: spans and kernel</h2>\n<p class=\"m\">pods on this node that serve "
        "traced requests, over the last window: CPU summed over the pod's containers, the other "
        "kernel columns from its worst container</p>\n<table>";
    common::AppendHtmlRow(out,
                          {"pod", "service", "rate /s", "mean exclusive", "containers", "CPU cores",
                           "throttled", "run-queue wait / slice", "interference"},
                          true);
    for (const auto& p : pods) {
      std::string services;
      double rate = 0, weighted_exclusive = 0;
      for (const auto* i : p.instances) {
        if (!services.empty()) services += ", ";
        services += i->service;
        rate += i->window_rate;
        if (std::isfinite(i->window_mean_exclusive)) {
          weighted_exclusive += i->window_rate * i->window_mean_exclusive;
        }
      }
      // Per pod: CPU summed over its containers; the other columns show its worst container.
      double cores = 0;
      bool any_cores = false;
      std::optional<double> throttled, wait_per_slice, interference;
      auto worst = [](std::optional<double>& acc, const std::optional<double>& v) {
        if (v) acc = std::max(acc.value_or(0), *v);
      };
      for (const auto* c : p.containers) {
        if (c->cpu_usage_cores) {
          cores += *c->cpu_usage_cores;
          any_cores = true;
        }
        worst(throttled, c->throttled_ratio);
        worst(wait_per_slice, c->wait_per_timeslice_seconds);
        worst(interference, c->interference_ratio);
      }
      common::AppendHtmlRow(
          out, {p.k8s_namespace.empty() ? p.pod : p.k8s_namespace + "/" + p.pod, services,
                common::HtmlNumber(rate),
                rate > 0 ? common::HtmlMilliseconds(weighted_exclusive / rate) : "–",
                std::to_string(p.containers.size()), any_cores ? common::HtmlNumber(cores) : "–",
                ratio(throttled), opt_ms(wait_per_slice), ratio(interference)});
    }
    out += "</table>\n";
  }

  // With taskstats the run-queue counters are per process, and so are the task counts.
  const std::string_view tasks = kernel->task_counters == "taskstats" ? "processes" : "threads";
  out += "<h2>Containers on this node</h2>\n<p class=\"m\">cgroup mode " + kernel->cgroup_mode +
         " · " + std::to_string(kernel->containers.size()) + " containers · " +
         std::to_string(kernel->threads) + " " + std::string(tasks) + " (" + kernel->task_counters +
         ")";
  if (kernel->node.cpus > 0) out += " · " + std::to_string(kernel->node.cpus) + " CPUs";
  out += "</p>\n<table>";
  common::AppendHtmlRow(out,
                        {"namespace", "pod", "container", "QoS", "runtime", tasks, "CPU cores",
                         "limit", "throttled", "run-queue wait / slice", "interference", "cgroup"},
                        true);
  for (const auto& c : kernel->containers) {
    common::AppendHtmlRow(
        out, {c.k8s_namespace, c.pod, c.container, c.qos, c.runtime, std::to_string(c.threads),
              opt(c.cpu_usage_cores), opt(c.limit_cores), ratio(c.throttled_ratio),
              opt_ms(c.wait_per_timeslice_seconds), ratio(c.interference_ratio), c.cgroup});
  }
  out += "</table>\n<h2>Kernel collection</h2>\n<table>";
  common::AppendHtmlRow(out, {"source", "success", "duration"}, true);
  for (const auto& s : kernel->sources) {
    common::AppendHtmlRow(
        out, {s.name, s.success ? "yes" : "no", common::HtmlMilliseconds(s.duration_seconds)});
  }
  for (const auto& e : kernel->errors) {
    common::AppendHtmlRow(out, {e.source + " errors: " + e.reason, std::to_string(e.count), ""});
  }
  out += "</table>\n";
  return out;
}

std::string RenderServicesJson(const state::StateSnapshot& snap) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  // JSON has no NaN: missing values are null.
  auto num = [&w](double v) {
    if (std::isfinite(v)) {
      w.Double(v);
    } else {
      w.Null();
    }
  };
  auto quantiles = [&](const char* key, const state::StateSnapshot::Quantiles& q) {
    w.Key(key);
    w.StartObject();
    w.Key("p50");
    num(q.p50);
    w.Key("p95");
    num(q.p95);
    w.Key("p99");
    num(q.p99);
    w.EndObject();
  };
  w.StartObject();
  w.Key("windowSeconds");
  w.Double(snap.window_seconds);
  w.Key("services");
  w.StartArray();
  // Services and instances are both sorted by (namespace, service): walk them together.
  size_t next_instance = 0;
  for (const auto& s : snap.services) {
    w.StartObject();
    w.Key("namespace");
    w.String(s.k8s_namespace.c_str(), static_cast<rapidjson::SizeType>(s.k8s_namespace.size()));
    w.Key("service");
    w.String(s.service.c_str(), static_cast<rapidjson::SizeType>(s.service.size()));
    w.Key("requests");
    num(s.requests);
    w.Key("requestsSampled");
    w.Uint64(s.requests_sampled);
    w.Key("windowRequests");
    num(s.window_requests);
    w.Key("windowSampled");
    w.Uint64(s.window_sampled);
    w.Key("samplingProbability");
    num(s.sampling_probability);
    w.Key("samplingMethod");
    const std::string_view method = spans::SamplingMethodName(s.sampling_method);
    w.String(method.data(), static_cast<rapidjson::SizeType>(method.size()));
    w.Key("arrivalRate");
    num(s.arrival_rate);
    w.Key("inflight");
    num(s.inflight);
    w.Key("queueLength");
    num(s.queue_length);
    w.Key("meanExclusiveSeconds");
    num(s.mean_exclusive);
    w.Key("uncongestedSeconds");
    num(s.uncongested);
    quantiles("durationSeconds", s.window_duration);
    quantiles("exclusiveSeconds", s.window_exclusive);
    w.Key("instances");
    w.StartArray();
    const auto key = std::tie(s.k8s_namespace, s.service);
    for (; next_instance < snap.instances.size(); ++next_instance) {
      const auto& i = snap.instances[next_instance];
      const auto instance_key = std::tie(i.k8s_namespace, i.service);
      if (instance_key < key) continue;
      if (key < instance_key) break;
      w.StartObject();
      w.Key("instance");
      w.String(i.instance.c_str(), static_cast<rapidjson::SizeType>(i.instance.size()));
      w.Key("requests");
      num(i.requests);
      w.Key("rate");
      num(i.window_rate);
      w.Key("meanExclusiveSeconds");
      num(i.window_mean_exclusive);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("edges");
  w.StartArray();
  for (const auto& e : snap.edges) {
    w.StartObject();
    w.Key("client");
    w.String(e.client.c_str(), static_cast<rapidjson::SizeType>(e.client.size()));
    w.Key("server");
    w.String(e.server.c_str(), static_cast<rapidjson::SizeType>(e.server.size()));
    w.Key("calls");
    num(e.calls);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace exporter::exposition
