#include "recommender/output/keda_grpc.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "recommender/output/externalscaler.grpc.pb.h"
#include "recommender/output/keda_scaler.h"

namespace recommender::output {
namespace {

namespace es = ::externalscaler;

// Streams re-evaluate at least this often: idleness starts with time, not with a pass, and a
// cancelled stream is noticed within it.
constexpr auto kStreamTick = std::chrono::seconds{1};
// Stop() waits this long for calls to return before cancelling them.
constexpr auto kShutdownGrace = std::chrono::seconds{5};

grpc::Status ToGrpc(const ScalerStatus& s) {
  switch (s.code) {
    case ScalerCode::kOk:
      return grpc::Status::OK;
    case ScalerCode::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, s.message};
    case ScalerCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, s.message};
    case ScalerCode::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, s.message};
  }
  return {grpc::StatusCode::INTERNAL, s.message};
}

ScalerStatus Resolve(const es::ScaledObjectRef& ref, ScalerTarget* out) {
  const std::map<std::string, std::string, std::less<>> metadata(ref.scalermetadata().begin(),
                                                                 ref.scalermetadata().end());
  return ResolveTarget(ref.name(), ref.namespace_(), metadata, out);
}

std::string ReadPem(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    throw std::runtime_error("cannot read the gRPC " + std::string(what) + " " + path);
  }
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> Credentials(const KedaGrpcOptions& o) {
  if (o.cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc_ssl_client_certificate_request_type request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  if (o.require_client_cert) {
    request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else if (!o.client_ca_file.empty()) {
    request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  grpc::SslServerCredentialsOptions ssl(request);
  ssl.pem_key_cert_pairs.push_back(
      {ReadPem(o.key_file, "TLS key"), ReadPem(o.cert_file, "TLS certificate")});
  if (!o.client_ca_file.empty()) ssl.pem_root_certs = ReadPem(o.client_ca_file, "client CA");
  return grpc::SslServerCredentials(ssl);
}

// ":9098" (the form of the other listen flags) means every IPv4 and IPv6 address to gRPC.
std::string GrpcAddress(const std::string& address) {
  return !address.empty() && address[0] == ':' ? "[::]" + address : address;
}

}  // namespace

class KedaGrpcServer::Impl final : public es::ExternalScaler::Service {
 public:
  Impl(KedaGrpcOptions options, SnapshotHolder& snapshots, const common::Clock& clock)
      : options_(std::move(options)),
        snapshots_(snapshots),
        clock_(clock),
        tracker_(options_.idle_time) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(GrpcAddress(options_.listen_address), Credentials(options_), &port_);
    builder.RegisterService(this);
    // Each open stream holds a thread of the synchronous server; leave room for unary calls.
    grpc::ResourceQuota quota("queuelens-keda-grpc");
    quota.SetMaxThreads(options_.max_streams + 16);
    builder.SetResourceQuota(quota);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      throw std::runtime_error("cannot listen for gRPC on " + options_.listen_address);
    }
    snapshots_.SetOnPublish([this] { OnPublish(); });
  }

  ~Impl() override {
    snapshots_.SetOnPublish(nullptr);
    Stop();
  }

  int port() const { return port_; }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
  }

  grpc::Status IsActive(grpc::ServerContext*, const es::ScaledObjectRef* ref,
                        es::IsActiveResponse* out) override {
    ScalerTarget target;
    if (ScalerStatus s = Resolve(*ref, &target); !s.ok()) return ToGrpc(s);
    const Evaluation e = Evaluate(target);
    if (!e.activity.ok()) return ToGrpc(e.activity);
    out->set_result(e.active);
    return grpc::Status::OK;
  }

  grpc::Status GetMetricSpec(grpc::ServerContext*, const es::ScaledObjectRef* ref,
                             es::GetMetricSpecResponse* out) override {
    ScalerTarget target;
    if (ScalerStatus s = Resolve(*ref, &target); !s.ok()) return ToGrpc(s);
    // Only the workload's existence matters here: KEDA asks on reconcile, maybe before a value.
    if (snapshots_.Get()->Find(target.key.k8s_namespace, target.key.workload) == nullptr) {
      return ToGrpc({ScalerCode::kNotFound,
                     "unknown workload " + target.key.k8s_namespace + "/" + target.key.workload});
    }
    es::MetricSpec* spec = out->add_metricspecs();
    spec->set_metricname(target.metric_name);
    spec->set_targetsize(IntegerValue(target.target));
    spec->set_targetsizefloat(target.target);
    return grpc::Status::OK;
  }

  grpc::Status GetMetrics(grpc::ServerContext*, const es::GetMetricsRequest* request,
                          es::GetMetricsResponse* out) override {
    ScalerTarget target;
    if (ScalerStatus s = Resolve(request->scaledobjectref(), &target); !s.ok()) return ToGrpc(s);
    if (!MatchesMetricName(request->metricname(), target)) {
      return ToGrpc(
          {ScalerCode::kInvalidArgument,
           "metric \"" + request->metricname() + "\" is not this trigger's " + target.metric_name});
    }
    const Evaluation e = Evaluate(target);
    if (!e.value.status.ok()) return ToGrpc(e.value.status);
    es::MetricValue* value = out->add_metricvalues();
    value->set_metricname(request->metricname());
    value->set_metricvalue(IntegerValue(e.value.value));
    value->set_metricvaluefloat(e.value.value);
    return grpc::Status::OK;
  }

  // Sends the activity at once, then on every change of activity or of the trigger's value (so
  // KEDA acts on it without waiting for its polling interval). A workload whose inputs go missing
  // is not pushed until they are back; one that disappears ends the stream with NOT_FOUND.
  grpc::Status StreamIsActive(grpc::ServerContext* context, const es::ScaledObjectRef* ref,
                              grpc::ServerWriter<es::IsActiveResponse>* writer) override {
    ScalerTarget target;
    if (ScalerStatus s = Resolve(*ref, &target); !s.ok()) return ToGrpc(s);
    if (open_streams_.fetch_add(1) >= options_.max_streams) {
      open_streams_.fetch_sub(1);
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "at most " + std::to_string(options_.max_streams) +
                  " StreamIsActive calls are open (--grpc.max-streams)"};
    }
    grpc::Status status = Stream(*context, target, *writer);
    open_streams_.fetch_sub(1);
    return status;
  }

 private:
  struct Evaluation {
    ScalerStatus activity;  // of `active`
    bool active = true;
    ScalerReading value;  // the trigger's value; `view` is not kept (the snapshot is released)
  };

  Evaluation Evaluate(const ScalerTarget& target) {
    const std::shared_ptr<const Snapshot> snapshot = snapshots_.Get();
    const common::TimePoint now = clock_.Now();
    const ScalerReading inputs = ReadActivityInputs(*snapshot, target.key, now, options_.max_age);
    Evaluation e{.activity = inputs.status,
                 .value = ReadScalerMetric(*snapshot, target, now, options_.max_age)};
    if (inputs.status.ok()) {
      std::lock_guard lock(tracker_mu_);
      e.active = tracker_.IsActive(*inputs.view, now);
    }
    e.value.view = nullptr;
    return e;
  }

  // On the loop's thread, after each pass: records the request rates and wakes the streams.
  void OnPublish() {
    const std::shared_ptr<const Snapshot> snapshot = snapshots_.Get();
    {
      std::lock_guard lock(tracker_mu_);
      tracker_.Observe(*snapshot, clock_.Now());
    }
    {
      std::lock_guard lock(mu_);
      ++generation_;
    }
    wake_.notify_all();
  }

  grpc::Status Stream(grpc::ServerContext& context, const ScalerTarget& target,
                      grpc::ServerWriter<es::IsActiveResponse>& writer) {
    std::optional<PushedState> last;
    uint64_t seen = 0;
    for (bool first = true;; first = false) {
      {
        std::unique_lock lock(mu_);
        if (!first) {
          wake_.wait_for(lock, kStreamTick, [&] { return stopping_ || generation_ != seen; });
        }
        if (stopping_) return grpc::Status::OK;
        seen = generation_;
      }
      if (context.IsCancelled()) return grpc::Status::CANCELLED;
      const Evaluation e = Evaluate(target);
      if (e.activity.code == ScalerCode::kNotFound || (!e.activity.ok() && !last)) {
        return ToGrpc(e.activity);
      }
      if (!e.activity.ok()) continue;  // held: no activity is made up while inputs are missing
      const PushedState state{
          .active = e.active,
          .value = e.value.status.ok() ? std::optional(e.value.value) : std::nullopt};
      if (!ShouldPush(last, state)) continue;
      es::IsActiveResponse response;
      response.set_result(state.active);
      if (!writer.Write(response)) return grpc::Status::CANCELLED;
      last = state;
    }
  }

  const KedaGrpcOptions options_;
  SnapshotHolder& snapshots_;
  const common::Clock& clock_;

  std::mutex tracker_mu_;
  ActivityTracker tracker_;

  std::mutex mu_;  // guards stopping_ and generation_
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t generation_ = 0;  // publishes seen
  std::atomic<int> open_streams_{0};

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

KedaGrpcServer::KedaGrpcServer(KedaGrpcOptions options, SnapshotHolder& snapshots,
                               const common::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), snapshots, clock)) {}

KedaGrpcServer::~KedaGrpcServer() = default;

int KedaGrpcServer::port() const { return impl_->port(); }

void KedaGrpcServer::Stop() { impl_->Stop(); }

}  // namespace recommender::output
