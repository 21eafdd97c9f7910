#pragma once

#include <string_view>

// Every metric name the exporter serves, with its HELP text, in one place: rename or re-document a
// metric here. HELP says how each value is derived.
namespace exporter::exposition {

struct MetricName {
  std::string_view name;
  std::string_view help;
};

// From spans (exporter/state).
inline constexpr MetricName kRequests{
    "queuelens_requests_total",
    "Requests served, counted when their trace is finished. A request to a service is a server or "
    "consumer span of it, or a span whose parent is absent or belongs to another service."};
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
    "by descendant spans of other services, clipped at 0. rate(_sum) is the mean number of requests "
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
    "Uncongested service time: a low quantile (--queue.uncongested-quantile) of exclusive time over "
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

// Health of the span pipeline.
inline constexpr MetricName kTracesBuffered{
    "queuelens_traces_buffered", "Traces collecting spans before they are finished."};
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
    "queuelens_series_expired_total",
    "Series dropped after no update for --series.idle-timeout."};

// Sources and the process (kept in the prometheus::Registry).
inline constexpr MetricName kSpansReceived{"queuelens_spans_received_total",
                                           "Spans accepted from a source into the pipeline."};
inline constexpr MetricName kSpansDropped{
    "queuelens_spans_dropped_total",
    "Spans a source received but did not accept, by reason (invalid_span: no trace id, span id or "
    "readable fields; queue_full: the state thread was behind)."};
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
