#include "common/http_flags.h"

#include <algorithm>

namespace common {

void HttpServerFlags::Register(FlagSet& flags) {
  max_connections_ = static_cast<int64_t>(limits.max_connections);
  flags.Int("web.max-connections", &max_connections_,
            "Open connections per listener; further ones are closed at once (the soft descriptor "
            "limit is raised to the hard one, and caps this)");
  flags.Duration("web.header-timeout", &limits.header_timeout,
                 "Time from a connection's start, or a further request's first byte, to the end "
                 "of the request head (TLS handshake included); over it: 408 and close");
  flags.Duration("web.body-timeout", &limits.body_timeout,
                 "Time to receive a request body; over it: 400 and close, nothing of it counted");
  flags.Duration("web.idle-timeout", &limits.idle_timeout,
                 "How long a keep-alive connection may wait for its next request");
  flags.Duration("web.write-timeout", &limits.write_timeout,
                 "Time to write one response to a client that stopped reading");
  flags.Bytes("web.max-buffered-body-bytes", &limits.max_buffered_body_bytes,
              "Request bodies held per listener until their handlers finish; a request beyond "
              "gets 503 with Retry-After");
}

void HttpServerFlags::Validate(std::vector<std::string>& problems) const {
  if (max_connections_ <= 0) problems.push_back("--web.max-connections must be positive");
  const auto positive = [&](Duration d, const char* name) {
    if (d <= Duration::zero()) problems.push_back(std::string("--") + name + " must be positive");
  };
  positive(limits.header_timeout, "web.header-timeout");
  positive(limits.body_timeout, "web.body-timeout");
  positive(limits.idle_timeout, "web.idle-timeout");
  positive(limits.write_timeout, "web.write-timeout");
  if (limits.max_buffered_body_bytes == 0) {
    problems.push_back("--web.max-buffered-body-bytes must be positive");
  }
}

HttpServer::Options HttpServerFlags::For(std::string listen_address, int64_t threads) const {
  HttpServer::Options options = limits;
  options.listen_address = std::move(listen_address);
  options.threads = static_cast<int>(threads);
  options.max_connections = static_cast<size_t>(std::max<int64_t>(1, max_connections_));
  return options;
}

}  // namespace common
