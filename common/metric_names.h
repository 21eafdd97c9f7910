#pragma once

#include <string_view>

// The metrics every queuelens binary serves about its own HTTP listeners, with their HELP.
namespace common {

struct HttpMetricName {
  std::string_view name;
  std::string_view help;
};

inline constexpr HttpMetricName kHttpConnections{
    "queuelens_http_connections",
    "Connections open now on the listener: accepted and not yet closed by the server's I/O loop."};
inline constexpr HttpMetricName kHttpConnectionsAccepted{
    "queuelens_http_connections_accepted_total", "Connections accepted on the listener."};
inline constexpr HttpMetricName kHttpConnectionsRefused{
    "queuelens_http_connections_refused_total",
    "Connections closed as soon as they were accepted because --web.max-connections were open."};
inline constexpr HttpMetricName kHttpRequests{"queuelens_http_requests_total",
                                              "Complete requests handed to a handler."};
inline constexpr HttpMetricName kHttpRejected{
    "queuelens_http_rejected_requests_total",
    "Requests the server answered itself with an error status, without running a handler: "
    "malformed heads or bodies, bodies over the route's limit, incomplete bodies at "
    "--web.body-timeout, heads incomplete at --web.header-timeout, the body budget exhausted."};
inline constexpr HttpMetricName kHttpTimeouts{
    "queuelens_http_timeouts_total",
    "Connections ended because a phase ran out of time: phase=\"header\" (TLS handshake and "
    "request head, --web.header-timeout), \"body\" (--web.body-timeout), \"write\" "
    "(--web.write-timeout), \"idle\" (keep-alive with no further request, --web.idle-timeout)."};
inline constexpr HttpMetricName kHttpTlsHandshakeFailures{
    "queuelens_http_tls_handshake_failures_total",
    "TLS handshakes that failed: untrusted client certificates, plain HTTP on a TLS port, scans."};
inline constexpr HttpMetricName kHttpBodyBytes{
    "queuelens_http_request_body_bytes",
    "Request body bytes buffered now until their handlers finish, against "
    "--web.max-buffered-body-bytes."};

}  // namespace common
