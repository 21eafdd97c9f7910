#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace recommender::actuate {

// Where the API server is and how to authenticate. Empty fields are filled from the pod's
// service account by InCluster().
struct KubeClientOptions {
  std::string api_url;     // https://host:port; empty: KUBERNETES_SERVICE_HOST/_PORT
  std::string token_file;  // re-read at every request: Kubernetes rotates the token
  std::string ca_file;
  std::string namespace_file;
  common::Duration timeout = std::chrono::seconds{10};
  int max_attempts = 4;  // per call, for 429, 5xx and transport failures
  common::Duration max_backoff = std::chrono::seconds{30};
};

inline constexpr std::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// Fills the empty fields of `options` from the environment and the service-account directory.
// Empty api_url in the result: not in a cluster and no --kubernetes.api-url.
KubeClientOptions InCluster(KubeClientOptions options);

struct KubeResponse {
  int status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;                            // transport failure; empty otherwise
  std::optional<common::Duration> retry_after;  // the Retry-After header (ParseRetryAfter)
  int attempts = 1;
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // "429", "409", "5xx", "transport", "4xx" for counters; "" when ok.
  std::string Reason() const;
};

// Pure: the delay a Retry-After header value asks for (RFC 9110 §10.2.3): delay-seconds
// ("120"), or an HTTP-date in the IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT") taken
// against `now`; a date already past is 0, a delay beyond `cap` (or too large to represent) is
// `cap`. Surrounding spaces are ignored; anything else malformed (negative or fractional
// seconds, another date form, an invalid calendar day) is nullopt.
std::optional<common::Duration> ParseRetryAfter(std::string_view value, common::TimePoint now,
                                                common::Duration cap);

// Pure: whether a response is worth retrying and after how long: 429 and 5xx and transport
// failures, after Retry-After when given, else 0.5 s doubled per attempt, at most `max_backoff`.
// 409 is not retried here: the caller re-reads the object first.
std::optional<common::Duration> RetryDelay(const KubeResponse& response, int attempt,
                                           common::Duration max_backoff);

// A Kubernetes API client on libcurl: bearer token, CA, JSON bodies. Thread-safe.
class KubeClient {
 public:
  using Sleep = std::function<void(common::Duration)>;
  // `sleep` waits between retries; tests pass one that records instead of waiting. `clock`
  // dates Retry-After; it must outlive the client.
  KubeClient(KubeClientOptions options, Sleep sleep, const common::Clock& clock);

  // One call with retries (RetryDelay). `path` starts with "/".
  KubeResponse Call(std::string_view method, const std::string& path, std::string_view body = {},
                    std::string_view content_type = {}) const;

  // A watch: GET `path` (which carries watch=1) and calls on_line for every newline-terminated
  // event as it arrives. Returns when the server ends the stream, on an error, or once `stop` is
  // set (checked at least every second). No retries.
  KubeResponse Stream(const std::string& path, const std::function<void(std::string_view)>& on_line,
                      const std::atomic<bool>& stop) const;

  const KubeClientOptions& options() const { return options_; }

 private:
  KubeResponse Once(std::string_view method, const std::string& path, std::string_view body,
                    std::string_view content_type,
                    const std::function<void(std::string_view)>* on_line,
                    const std::atomic<bool>* stop) const;

  KubeClientOptions options_;
  Sleep sleep_;
  const common::Clock& clock_;
};

}  // namespace recommender::actuate
