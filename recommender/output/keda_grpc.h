#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

struct KedaGrpcOptions {
  std::string listen_address;  // ":9098", "127.0.0.1:0", "[::]:9098"
  int max_streams = 100;       // open StreamIsActive calls; more get RESOURCE_EXHAUSTED
  common::Duration idle_time = std::chrono::minutes{5};
  // Values of a snapshot older than this are UNAVAILABLE (the loop stopped publishing).
  common::Duration max_age = std::chrono::minutes{2};
  // TLS when cert_file is set. With client_ca_file, client certificates it signed are verified;
  // require_client_cert refuses connections without one.
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool require_client_cert = false;
};

// KEDA's ExternalScaler gRPC service (recommender/output/externalscaler.proto, contracts.md §2.1
// and §13) over the published snapshots: IsActive, StreamIsActive, GetMetricSpec and GetMetrics;
// StreamMetricSpec answers UNIMPLEMENTED. Reads never wait for the recommender loop; streams wake
// on every Publish and once a second (idleness is a matter of time).
class KedaGrpcServer {
 public:
  // Listens at once; throws std::runtime_error when it cannot (bad address, port taken, TLS
  // files unreadable). Registers on `snapshots`' publish hook, which the destructor clears.
  KedaGrpcServer(KedaGrpcOptions options, SnapshotHolder& snapshots, const common::Clock& clock);
  ~KedaGrpcServer();
  KedaGrpcServer(const KedaGrpcServer&) = delete;
  KedaGrpcServer& operator=(const KedaGrpcServer&) = delete;

  int port() const;
  // Ends every open stream with OK and stops accepting calls; returns when all calls are done.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recommender::output
