#include "recommender/actuate/kube_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
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
  std::string pending;      // a streamed event not yet ended by a newline
  std::string retry_after;  // the header's value, parsed once the response is complete
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
    t->retry_after = value;
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

namespace {

// "Sun", "Nov", ...: the index of `text` in `names`, or -1.
template <size_t N>
int IndexOf(std::string_view text, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<int>(i);
  }
  return -1;
}

// Exactly `digits` decimal digits at `text[at]`.
std::optional<int> Digits(std::string_view text, size_t at, size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  int v = 0;
  for (size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7): fixed width, GMT only.
// In seconds: a year up to 9999 overflows no nanosecond clock this way.
std::optional<std::chrono::sys_seconds> ParseImfFixdate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  const int weekday = IndexOf(text.substr(0, 3), kDays);
  const int month = IndexOf(text.substr(8, 3), kMonths);
  const auto day = Digits(text, 5, 2), year = Digits(text, 12, 4);
  const auto hour = Digits(text, 17, 2), minute = Digits(text, 20, 2), second = Digits(text, 23, 2);
  if (weekday < 0 || month < 0 || !day || !year || !hour || !minute || !second) return std::nullopt;
  // 60 is a leap second, which the date form allows.
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(month + 1)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  const std::chrono::sys_days days(date);
  if (std::chrono::weekday(days).c_encoding() != static_cast<unsigned>(weekday)) {
    return std::nullopt;
  }
  return std::chrono::sys_seconds(days) + std::chrono::hours{*hour} +
         std::chrono::minutes{*minute} + std::chrono::seconds{*second};
}

}  // namespace

std::optional<common::Duration> ParseRetryAfter(std::string_view value, common::TimePoint now,
                                                common::Duration cap) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds: 1*DIGIT, so a value too large for any integer is still a (huge) delay.
    int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range ||
        seconds >= std::chrono::duration_cast<std::chrono::seconds>(cap).count()) {
      return cap;
    }
    return std::min<common::Duration>(std::chrono::seconds{seconds}, cap);
  }
  const std::optional<std::chrono::sys_seconds> at = ParseImfFixdate(value);
  if (!at) return std::nullopt;
  const auto now_s = std::chrono::floor<std::chrono::seconds>(now);
  if (*at <= now_s) return common::Duration::zero();
  if (*at - now_s >= std::chrono::duration_cast<std::chrono::seconds>(cap)) return cap;
  return std::min<common::Duration>(common::TimePoint(*at) - now, cap);
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

KubeClient::KubeClient(KubeClientOptions options, Sleep sleep, const common::Clock& clock)
    : options_(std::move(options)), sleep_(std::move(sleep)), clock_(clock) {
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
  if (!transfer.retry_after.empty()) {
    response.retry_after =
        ParseRetryAfter(transfer.retry_after, clock_.Now(), options_.max_backoff);
  }
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
