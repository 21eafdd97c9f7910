#pragma once

#include <string_view>

// Every metric name the exporter serves, with its HELP text, in one place: rename or re-document a
// metric here. HELP says how each value is derived.
namespace exporter::exposition {

struct MetricName {
  std::string_view name;
  std::string_view help;
};

// From spans (exporter/state). Every count, sum, rate and weight derived from spans is an adjusted
// count: a request sampled at probability p counts 1/p (README "Sampled traces").
inline constexpr MetricName kRequests{
    "queuelens_requests_total",
    "Requests served, counted when their trace is finished. A request to a service is a server or "
    "consumer span of it, or a span whose parent is absent or belongs to another service. Each "
    "counts its adjusted count 1/p (p: its sampling probability from the span's tracestate "
    "ot=th or ot=p, the Jaeger root's sampler.param, else --sampling.default-probability)."};
inline constexpr MetricName kRequestsSampled{
    "queuelens_requests_sampled_total",
    "Request spans seen, each counted once whatever its sampling probability: the effective "
    "sample size behind queuelens_requests_total."};
inline constexpr MetricName kSamplingProbability{
    "queuelens_sampling_probability",
    "Effective mean sampling probability of the service's requests over the sliding window: "
    "request spans seen divided by their adjusted count (sum of 1/p). Absent when the window "
    "is empty."};
inline constexpr MetricName kSamplingUnknown{
    "queuelens_spans_sampling_unknown_total",
    "Request spans whose adjusted count is unknown: a sampler without a fixed probability (Jaeger "
    "ratelimiting) or a malformed ot=th/ot=p. They count once, or as the default probability "
    "with --sampling.unknown=use-default."};
inline constexpr MetricName kRequestErrors{
    "queuelens_request_errors_total",
    "Requests whose span has OTLP status ERROR or the Jaeger tag error=true."};
inline constexpr MetricName kRequestDuration{
    "queuelens_request_duration_seconds",
    "Request span duration. rate(_sum)/rate(_count) is the mean response time; rate(_sum) alone "
    "is the mean number of requests in flight (Little's law) and aggregates across exporters."};
inline constexpr MetricName kExclusiveDuration{
    "queuelens_exclusive_duration_seconds",
    "Exclusive (self) time of each request: its duration minus the union of the intervals covered "
    "by descendant spans of other services, clipped at 0. rate(_sum) is the mean number of "
    "requests "
    "being worked on or queued inside this service."};
inline constexpr MetricName kInflight{
    "queuelens_inflight_requests",
    "Mean requests in flight at the service over the sliding window: the sum of the durations of "
    "requests finished in the window divided by the window length (Little's law, L = lambda * W)."};
inline constexpr MetricName kQueueLength{
    "queuelens_queue_length",
    "Mean requests queued at the service over the sliding window: arrival rate times "
    "max(0, mean exclusive time - uncongested service time) (Little's law on the queueing delay)."};
inline constexpr MetricName kUncongested{
    "queuelens_uncongested_service_time_seconds",
    "Uncongested service time: a low quantile (--queue.uncongested-quantile) of exclusive time "
    "over "
    "the long horizon (--queue.horizon); exclusive time above it is counted as queueing."};
inline constexpr MetricName kServiceLatency{
    "queuelens_service_latency_seconds",
    "Request duration per service: quantiles over the sliding window from a relative-error sketch; "
    "_sum and _count are cumulative. Quantiles do not aggregate across exporters."};
inline constexpr MetricName kServiceExclusiveLatency{
    "queuelens_service_exclusive_latency_seconds",
    "Exclusive time per service: quantiles over the sliding window from a relative-error sketch; "
    "_sum and _count are cumulative."};
inline constexpr MetricName kInstanceRequests{
    "queuelens_instance_requests_total",
    "Requests served per instance (k8s.pod.name, else host name, else service.instance.id)."};
inline constexpr MetricName kInstanceDuration{
    "queuelens_instance_duration_seconds_total",
    "Sum of the durations (span end minus start) of the requests served per instance; its rate "
    "divided by the request rate is the instance's mean latency, the load-shifting policy's "
    "per-instance input."};
inline constexpr MetricName kInstanceExclusive{
    "queuelens_instance_exclusive_seconds_total",
    "Sum of the exclusive time of the requests served per instance; divided by the request rate it "
    "is the instance's mean exclusive time, whose spread across instances shows imbalance."};
inline constexpr MetricName kInstanceExclusiveMean{
    "queuelens_instance_exclusive_mean_seconds",
    "Mean exclusive time of the requests an instance finished in the sliding window."};
inline constexpr MetricName kCalls{
    "queuelens_calls_total",
    "Call-graph edges: requests to the server service whose parent span belongs to the client "
    "service."};

inline constexpr MetricName kServiceImbalance{
    "queuelens_service_instance_imbalance_ratio",
    "Imbalance across a service's instances: the largest windowed mean exclusive time of an "
    "instance divided by the median over the instances (1 = balanced). Only for services with two "
    "or more instances that finished requests in the sliding window."};

// From the kernel (exporter/kernel), per container: labels namespace, pod, container. Without
// the kubelet's pod list, pod is the container's HOSTNAME (else the pod UID) and container the
// short container id; cgroups selected by --kernel.cgroup-include have container = cgroup path.
// Counters keep increasing across container restarts and recreated cgroups.
inline constexpr MetricName kContainerRunqueueWait{
    "queuelens_container_runqueue_wait_seconds_total",
    "Time the container's threads were runnable but waited for a CPU: the second field of "
    "/proc/<pid>/task/<tid>/schedstat summed over every thread listed in the cgroup "
    "(cgroup.threads, or tasks on v1), exited threads included; with --kernel.taskstats the "
    "same sum per process of cgroup.procs from taskstats cpu_delay_total. Divided by the rate "
    "of queuelens_container_timeslices_total it is the mean run-queue wait per timeslice."};
inline constexpr MetricName kContainerTimeslices{
    "queuelens_container_timeslices_total",
    "Times the container's threads were put on a CPU: the third field of their schedstat "
    "(taskstats cpu_count), summed like queuelens_container_runqueue_wait_seconds_total."};
inline constexpr MetricName kContainerCpuUsage{
    "queuelens_container_cpu_usage_seconds_total",
    "CPU time used by the container's cgroup: cpu.stat usage_usec (cgroup v2) or cpuacct.usage "
    "(v1)."};
inline constexpr MetricName kContainerCpuPeriods{
    "queuelens_container_cpu_periods_total",
    "CFS bandwidth periods that elapsed while the cgroup was runnable: cpu.stat nr_periods "
    "(present where the cpu controller applies)."};
inline constexpr MetricName kContainerCpuThrottledPeriods{
    "queuelens_container_cpu_throttled_periods_total",
    "CFS periods in which the cgroup was throttled: cpu.stat nr_throttled. Its increase over that "
    "of queuelens_container_cpu_periods_total is the throttled-period ratio."};
inline constexpr MetricName kContainerCpuThrottledSeconds{
    "queuelens_container_cpu_throttled_seconds_total",
    "Time the cgroup's runnable tasks were held back by its CFS quota: cpu.stat throttled_usec "
    "(v2) or throttled_time (v1)."};
inline constexpr MetricName kContainerCpuLimit{
    "queuelens_container_cpu_limit_cores",
    "CFS bandwidth limit in cores: quota / period from cpu.max (v2) or cpu.cfs_quota_us / "
    "cpu.cfs_period_us (v1). Absent when unlimited."};
inline constexpr MetricName kContainerPressureWaiting{
    "queuelens_container_cpu_pressure_waiting_seconds_total",
    "Time at least one task of the cgroup waited for a CPU: the \"some\" total of its "
    "cpu.pressure (PSI; cgroup v2, or the unified mirror of a hybrid host)."};
inline constexpr MetricName kContainerPressureStalled{
    "queuelens_container_cpu_pressure_stalled_seconds_total",
    "Time all non-idle tasks of the cgroup waited for a CPU at once, mostly throttling: the "
    "\"full\" total of its cpu.pressure (kernels 5.13 and later)."};
inline constexpr MetricName kContainerInterference{
    "queuelens_container_interference_ratio",
    "Share of the container's runnable time spent waiting for a CPU over the sliding window "
    "(--window.length): the increase of the run-queue wait divided by that of wait plus on-CPU "
    "time, both summed over the threads' schedstat. Absent until two collections saw the "
    "container, and while none of its threads ran in the window."};

// From the kernel, per node.
inline constexpr MetricName kNodeCpuPressureWaiting{
    "queuelens_node_cpu_pressure_waiting_seconds_total",
    "Time at least one task on the node waited for a CPU: the \"some\" total of "
    "/proc/pressure/cpu."};
inline constexpr MetricName kNodeRunqueueWait{
    "queuelens_node_runqueue_wait_seconds_total",
    "Time tasks waited on the node's run queues, summed over CPUs: field 8 of the cpu lines of "
    "/proc/schedstat (absent without CONFIG_SCHEDSTATS)."};
inline constexpr MetricName kNodeCpus{
    "queuelens_node_cpus",
    "Online CPUs: /sys/devices/system/cpu/online, else the cpu lines of /proc/schedstat."};

// Health of kernel collection.
inline constexpr MetricName kKernelSourceSuccess{
    "queuelens_kernel_source_success",
    "1 when the source's part of its last kernel collection had no error, else 0 (discovery: also "
    "0 when no cgroup hierarchy was found). discovery and kubelet run every "
    "--kernel.discovery-interval, the others every --kernel.interval; skipped items are counted "
    "in queuelens_kernel_errors_total."};
inline constexpr MetricName kKernelSourceDuration{
    "queuelens_kernel_source_duration_seconds",
    "Wall time the source's part of its last kernel collection took."};
inline constexpr MetricName kKernelErrors{
    "queuelens_kernel_errors_total",
    "Items kernel collection skipped, by source and reason (missing, permission, vanished: the "
    "cgroup was removed, io, malformed, pid_reused: a thread's counters went down, fetch: the "
    "kubelet did not answer, over_limit: cgroups a discovery found beyond "
    "--kernel.max-containers)."};
inline constexpr MetricName kKernelContainers{
    "queuelens_kernel_containers", "Containers (cgroups) read by the last kernel collection."};
inline constexpr MetricName kKernelThreads{
    "queuelens_kernel_threads",
    "Threads tracked over all containers (processes with task_counters=\"taskstats\" on "
    "queuelens_kernel_info); a thread's schedstat is re-read when its container's CPU usage "
    "grew by more than the threads already read account for."};
inline constexpr MetricName kKernelIdleContainers{
    "queuelens_kernel_idle_containers",
    "Containers whose threads (processes, with task_counters=\"taskstats\") the last kernel "
    "collection did not read because the cgroup's CPU usage had not grown past what their last "
    "reads account for (a task's run-queue counters move only while it runs)."};
inline constexpr MetricName kKernelThreadsRead{
    "queuelens_kernel_threads_read",
    "Thread schedstat files the last kernel collection read (processes asked, with "
    "task_counters=\"taskstats\"): per container that used CPU, the most active threads first "
    "until their run time growth accounts for the cgroup's usage growth (with taskstats every "
    "known process at once), and every thread when it does not or at a discovery."};
inline constexpr MetricName kKernelOpenFiles{
    "queuelens_kernel_open_files",
    "Kernel statistics files held open and re-read with pread (--kernel.keep-files-open)."};
inline constexpr MetricName kKernelCollections{"queuelens_kernel_collections_total",
                                               "Kernel collections run."};
inline constexpr MetricName kKernelInfo{
    "queuelens_kernel_info",
    "Always 1; cgroup_mode is the cgroup layout found in mountinfo (v1, v2, hybrid or none), "
    "task_counters where the run-queue counters come from: schedstat (one file per thread) or "
    "taskstats (one netlink query per process, --kernel.taskstats)."};

// The per-container Captains (exporter/state/captains.h), present with --captain.enabled.
inline constexpr MetricName kContainerRecommendedCpu{
    "queuelens_container_recommended_cpu_cores",
    "CPU limit in cores proposed by this node's Autothrottle Captain for the container: every "
    "100 ms cpu.stat sample feeds a throttled-period ring; each second it scales the limit up "
    "by 1 + (r - 3t) when the throttled ratio r exceeds 3 x the target t, else down to "
    "max(limit / 2, max usage + margin x stdev over 5 s) when that is below 0.9 x limit."};
inline constexpr MetricName kContainerCaptainTarget{
    "queuelens_container_captain_throttle_target_ratio",
    "Throttled-period ratio the container's Captain steers to: the recommender's Tower target "
    "for its workload (GET --recommender.url/api/v1/targets), else --captain.default-target."};
inline constexpr MetricName kContainerCaptainThrottledRatio{
    "queuelens_container_captain_throttled_ratio",
    "Throttled CFS periods per 100 ms tick since the Captain's last decision (its r), from "
    "cpu.stat nr_throttled increments."};
inline constexpr MetricName kContainerCaptainMargin{
    "queuelens_container_captain_margin",
    "The Captain's scale-down margin in standard deviations of usage: starts at 3 and integrates "
    "r - t at every decision, never below 0."};
inline constexpr MetricName kContainerCaptainAction{
    "queuelens_container_captain_action_info",
    "Always 1; action is the Captain's last decision: hold, scale_up, scale_down or rollback."};

// What the Captains wrote to cgroups (exporter/state/captain_applier.h), with --captain.apply.
inline constexpr MetricName kCaptainAppliedCpu{
    "queuelens_captain_applied_cpu_cores",
    "CPU limit in cores in effect for a container whose pod opted in (annotation "
    "queuelens.io/cpu-control: captain): quota / period of cpu.max (v2) or cpu.cfs_quota_us / "
    "cpu.cfs_period_us (v1) after the Captain's last write, its limit clamped to [max("
    "--captain.min-cpu, captain-min-cpu annotation), captain-max-cpu annotation or node CPUs]."};
inline constexpr MetricName kCaptainWrites{
    "queuelens_captain_writes_total",
    "Quota writes to cgroup files that succeeded; kind is limit (a Captain's limit that differed "
    "from the quota read) or restore (the original quota written back on opt-out or shutdown)."};
inline constexpr MetricName kCaptainWriteErrors{
    "queuelens_captain_write_errors_total",
    "Quota writes that failed, by reason: read_only (EROFS), permission (EACCES, EPERM), "
    "vanished (the cgroup was removed), invalid (the kernel refused the value) or io."};
inline constexpr MetricName kCaptainResizes{
    "queuelens_captain_resizes_total",
    "Times a quota read was not the one the Captain last wrote (the kubelet resized the pod): "
    "the new value became the original and the container's Captain restarted from it."};

// Health of the span pipeline.
inline constexpr MetricName kTracesBuffered{"queuelens_traces_buffered",
                                            "Traces collecting spans before they are finished."};
inline constexpr MetricName kSpansBuffered{"queuelens_spans_buffered",
                                           "Spans held by traces that are not finished yet."};
inline constexpr MetricName kTracesFinished{
    "queuelens_traces_finished_total",
    "Traces finished, after their wait (--trace.wait) or early by eviction."};
inline constexpr MetricName kTracesEvicted{
    "queuelens_traces_evicted_total",
    "Traces finished before their wait was over because the buffer reached --trace.max-traces or "
    "--trace.max-spans; late spans of these traces are counted as separate traces."};
inline constexpr MetricName kTraceSpansDropped{
    "queuelens_trace_spans_dropped_total",
    "Spans dropped because their trace already held --trace.max-spans-per-trace spans."};
inline constexpr MetricName kSeries{"queuelens_series",
                                    "Series currently tracked per family of span-derived series."};
inline constexpr MetricName kSeriesOverflow{
    "queuelens_series_overflow_total",
    "Updates folded into the family's __overflow__ series because it reached --series.max."};
inline constexpr MetricName kSeriesExpired{
    "queuelens_series_expired_total", "Series dropped after no update for --series.idle-timeout."};
inline constexpr MetricName kInternedLabels{
    "queuelens_interned_label_values",
    "Distinct label values (service, operation, instance, namespace) held in memory: those of "
    "buffered spans and of live series, the empty value and __overflow__ included. A value is "
    "freed when the last span or series using it is gone, so this follows --trace.max-spans "
    "and --series.max, not the names ever seen."};
inline constexpr MetricName kInternedLabelBytes{
    "queuelens_interned_label_bytes",
    "Bytes of the label values counted by queuelens_interned_label_values (each at most "
    "--span.max-label-bytes)."};

// Sources and the process (kept in the prometheus::Registry).
inline constexpr MetricName kSpansReceived{"queuelens_spans_received_total",
                                           "Spans accepted from a source into the pipeline."};
inline constexpr MetricName kSpansDropped{
    "queuelens_spans_dropped_total",
    "Spans a source received but did not accept, by reason (invalid_span: no trace id, span id or "
    "readable fields; queue_full: the state thread was behind; end_before_start; "
    "duration_too_long: end - start above --span.max-duration; start_too_old: started more than "
    "--span.max-age before it was received, replayed files exempt)."};
inline constexpr MetricName kSpanLabelsSanitized{
    "queuelens_span_labels_sanitized_total",
    "Span label values repaired before use, counted once per span, label (service, operation, "
    "instance, namespace) and reason (truncated: cut to --span.max-label-bytes at a UTF-8 "
    "code-point boundary; control_character: a C0, DEL or C1 control replaced by U+FFFD; "
    "invalid_utf8: a byte that is not UTF-8 replaced by U+FFFD)."};
inline constexpr MetricName kSourceFailures{
    "queuelens_source_failures_total",
    "Payloads or fetches a source could not use at all, by reason (malformed, too_large, "
    "unsupported_media_type, queue_full, fetch_error, read_error)."};
inline constexpr MetricName kSourceUp{
    "queuelens_source_up", "1 when the source's last attempt to reach its backend succeeded."};
inline constexpr MetricName kBuildInfo{"queuelens_build_info",
                                       "Always 1; labels carry the queuelens version."};
inline constexpr MetricName kScrapeDuration{
    "queuelens_scrape_duration_seconds",
    "Time taken to build the previous /metrics answer (snapshot, families, text)."};

}  // namespace exporter::exposition
