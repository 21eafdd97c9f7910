#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/http_server.h"

namespace common {

// The limits every listener of a binary shares, as --web.* flags: how many connections it
// holds and how long each phase of a request may take. Defaults are those of
// HttpServer::Options.
struct HttpServerFlags {
  HttpServer::Options limits;

  void Register(FlagSet& flags);
  void Validate(std::vector<std::string>& problems) const;
  // Options for one listener with these limits.
  HttpServer::Options For(std::string listen_address, int64_t threads) const;

 private:
  // The flag's target (FlagSet has no size_t integers), in step with limits.max_connections.
  int64_t max_connections_ = static_cast<int64_t>(HttpServer::Options{}.max_connections);
};

}  // namespace common
