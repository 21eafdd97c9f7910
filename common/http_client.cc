#include "common/http_client.h"

#include <curl/curl.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

#include "common/version.h"

namespace common {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* body;
  size_t max_bytes;
  bool too_large = false;
};

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t bytes = size * count;
  if (sink->body->size() + bytes > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // makes curl abort the transfer
  }
  sink->body->append(data, bytes);
  return bytes;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Headers = std::unique_ptr<curl_slist, SlistDeleter>;

// The token in `path` without surrounding whitespace; "" when unreadable.
std::string ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
}

HttpResult InitFailed() {
  HttpResult result;
  result.error = "curl_easy_init failed";
  return result;
}

// Runs a request on a configured handle with the options every request shares.
HttpResult Perform(CURL* curl, const std::string& url, const HttpClientOptions& options) {
  HttpResult result;
  Sink sink{&result.body, options.max_body_bytes};
  char error[CURL_ERROR_SIZE] = "";
  static const std::string user_agent = std::string("queuelens/") + kVersion;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
  curl_easy_setopt(
      curl, CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(options.timeout).count()));
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  if (options.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  if (sink.too_large) {
    result.error = "response larger than " + std::to_string(options.max_body_bytes) + " bytes";
    result.body.clear();
  } else if (rc != CURLE_OK) {
    result.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    // curl's text says "Couldn't connect to server"; the errno says why.
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
      result.error += " (" + std::generic_category().message(static_cast<int>(os_errno)) + ")";
    }
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` dies here
  return result;
}

// Idle easy handles, kept so that their connection caches survive between polls.
class HandlePool {
 public:
  HandlePool() = default;
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;
  ~HandlePool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        curl_easy_reset(h);  // clears options, keeps live connections
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

 private:
  static constexpr size_t kMaxIdle = 4;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::string HttpResult::Describe(std::string_view url) const {
  std::string out = "GET ";
  out += url;
  return error.empty() ? out + " answered HTTP " + std::to_string(status) : out + ": " + error;
}

HttpGet MakeCurlHttpGet(HttpClientOptions options) {
  InitCurlOnce();
  auto pool = std::make_shared<HandlePool>();
  return [pool, options = std::move(options)](const std::string& url) {
    CURL* curl = pool->Acquire();
    if (curl == nullptr) return InitFailed();
    Headers headers;
    if (!options.bearer_token_file.empty()) {
      if (const std::string token = ReadToken(options.bearer_token_file); !token.empty()) {
        headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str()));
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
      }
    }
    HttpResult result = Perform(curl, url, options);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);  // `headers` dies here
    pool->Release(curl);
    return result;
  };
}

HttpResult HttpPost(const std::string& url, std::string_view body, std::string_view content_type,
                    const HttpClientOptions& options,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  InitCurlOnce();
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                 &curl_easy_cleanup);
  if (!curl) return InitFailed();
  Headers headers;
  const auto add_header = [&headers](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown) {
      static_cast<void>(headers.release());
      headers.reset(grown);
    }
  };
  add_header("Content-Type: " + std::string(content_type));
  add_header("Expect:");  // no 100-continue round trip before large bodies
  for (const auto& [name, value] : extra_headers)
    add_header(std::string(name).append(": ").append(value));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  return Perform(curl.get(), url, options);
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace common
