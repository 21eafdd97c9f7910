#include "recommender/actuate/kube_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <system_error>

#include "common/version.h"
#include "recommender/checkpoint/checkpoint.h"

namespace recommender::actuate {
namespace {

constexpr size_t kMaxBody = 64 << 20;

std::string Trimmed(const std::string& path) {
  std::string error;
  const std::optional<std::string> text = ReadSmallFile(path, 1 << 20, &error);
  if (!text) return "";
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text->substr(first, text->find_last_not_of(" \t\r\n") - first + 1);
}

struct Transfer {
  KubeResponse* response;
  const std::function<void(std::string_view)>* on_line;
  const std::atomic<bool>* stop;
  std::string pending;  // a streamed event not yet ended by a newline
  bool too_large = false;
};

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (t->on_line == nullptr) {
    if (t->response->body.size() + bytes > kMaxBody) {
      t->too_large = true;
      return 0;
    }
    t->response->body.append(data, bytes);
    return bytes;
  }
  t->pending.append(data, bytes);
  size_t start = 0;
  for (size_t nl; (nl = t->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) (*t->on_line)(std::string_view(t->pending).substr(start, nl - start));
  }
  t->pending.erase(0, start);
  if (t->pending.size() > kMaxBody) {
    t->too_large = true;
    return 0;
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string_view value = line.substr(kName.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
      value.remove_suffix(1);
    }
    // Delay-seconds only; the HTTP-date form falls back to the client's own backoff.
    int seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0) {
      t->response->retry_after = std::chrono::seconds{seconds};
    }
  }
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<Transfer*>(user);
  return t->stop != nullptr && t->stop->load() ? 1 : 0;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

KubeClientOptions InCluster(KubeClientOptions options) {
  const std::string dir(kServiceAccountDir);
  if (options.api_url.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (host != nullptr && *host != '\0') {
      const std::string h(host);
      // An IPv6 service address needs brackets in a URL.
      options.api_url = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                        (port != nullptr && *port != '\0' ? port : "443");
    }
  }
  if (options.token_file.empty()) options.token_file = dir + "/token";
  // Out of a cluster without --kubernetes.ca-file, the system's roots are trusted.
  if (options.ca_file.empty() && options.api_url.rfind("https://", 0) == 0 &&
      access((dir + "/ca.crt").c_str(), R_OK) == 0) {
    options.ca_file = dir + "/ca.crt";
  }
  if (options.namespace_file.empty()) options.namespace_file = dir + "/namespace";
  return options;
}

std::string KubeResponse::Reason() const {
  if (!error.empty()) return "transport";
  if (ok()) return "";
  if (status == 409 || status == 410 || status == 429 || status == 404) {
    return std::to_string(status);
  }
  return status >= 500 ? "5xx" : "4xx";
}

std::optional<common::Duration> RetryDelay(const KubeResponse& response, int attempt,
                                           common::Duration max_backoff) {
  const bool retryable =
      !response.error.empty() || response.status == 429 || response.status >= 500;
  if (!retryable) return std::nullopt;
  common::Duration delay =
      response.retry_after.value_or(std::chrono::milliseconds{500} * (1 << std::min(attempt, 16)));
  return std::min(delay, max_backoff);
}

KubeClient::KubeClient(KubeClientOptions options, Sleep sleep)
    : options_(std::move(options)), sleep_(std::move(sleep)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

KubeResponse KubeClient::Call(std::string_view method, const std::string& path,
                              std::string_view body, std::string_view content_type) const {
  for (int attempt = 0;; ++attempt) {
    KubeResponse r = Once(method, path, body, content_type, nullptr, nullptr);
    r.attempts = attempt + 1;
    const std::optional<common::Duration> delay = RetryDelay(r, attempt, options_.max_backoff);
    if (!delay || attempt + 1 >= options_.max_attempts) return r;
    sleep_(*delay);
  }
}

KubeResponse KubeClient::Stream(const std::string& path,
                                const std::function<void(std::string_view)>& on_line,
                                const std::atomic<bool>& stop) const {
  return Once("GET", path, {}, {}, &on_line, &stop);
}

KubeResponse KubeClient::Once(std::string_view method, const std::string& path,
                              std::string_view body, std::string_view content_type,
                              const std::function<void(std::string_view)>* on_line,
                              const std::atomic<bool>* stop) const {
  KubeResponse response;
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(),
                                                                   &curl_easy_cleanup);
  if (!handle) {
    response.error = "curl_easy_init failed";
    return response;
  }
  CURL* curl = handle.get();
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  const auto add = [&headers](const std::string& line) {
    if (curl_slist* grown = curl_slist_append(headers.get(), line.c_str())) {
      static_cast<void>(headers.release());
      headers.reset(grown);
    }
  };
  add("Accept: application/json");
  if (const std::string token = Trimmed(options_.token_file); !token.empty()) {
    add("Authorization: Bearer " + token);
  }
  if (!content_type.empty()) add("Content-Type: " + std::string(content_type));
  add("Expect:");
  const std::string url = options_.api_url + path;
  const std::string verb(method);
  static const std::string user_agent = std::string("queuelens-recommender/") + common::kVersion;
  Transfer transfer{&response, on_line, stop};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, verb.c_str());
  if (!body.empty() || verb != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (on_line == nullptr) {
    curl_easy_setopt(
        curl, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(options_.timeout).count()));
  } else {
    // A watch lasts as long as the server keeps it (its timeoutSeconds); only connecting is
    // bounded, and a stop request aborts it through the progress callback.
    curl_easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(options_.timeout).count()));
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());

  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  if (transfer.too_large) {
    response.error = "response larger than " + std::to_string(kMaxBody) + " bytes";
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && stop != nullptr && stop->load()) {
    response.status = 200;  // stopped on request: a normal end of the watch
  } else if (rc != CURLE_OK) {
    response.error = verb + " " + path + ": " + (error[0] != '\0' ? error : curl_easy_strerror(rc));
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
      response.error += " (" + std::generic_category().message(static_cast<int>(os_errno)) + ")";
    }
  }
  return response;
}

}  // namespace recommender::actuate
