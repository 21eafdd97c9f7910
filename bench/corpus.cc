#include "bench/corpus.h"

#include <charconv>
#include <cmath>
#include <numbers>
#include <string_view>
#include <utility>

#include "exporter/spans/ids.h"

namespace bench {
namespace {

using exporter::spans::AppendJsonString;
using exporter::spans::OtlpAttribute;
using exporter::spans::SpanKind;
using exporter::spans::TraceId;

// xoshiro256** seeded through splitmix64: small, fast, and the same everywhere, unlike the
// standard library's distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : state_) {
      seed += 0x9e3779b97f4a7c15;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      s = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  uint64_t NonZero() {
    uint64_t v;
    do v = Next();
    while (v == 0);
    return v;
  }

  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }
  uint64_t Below(uint64_t n) { return Next() % n; }
  double Exponential(double mean) { return -std::log1p(-Uniform()) * mean; }

  // Log-normal with the given mean: service times are skewed right.
  double LogNormal(double mean, double sigma) {
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    return mean * std::exp(sigma * z - sigma * sigma / 2);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

enum Service : uint32_t {
  kFrontend,
  kSearch,
  kGeo,
  kRate,
  kProfile,
  kRecommendation,
  kUser,
  kReservation,
  kServiceCount,
};

constexpr std::string_view kServiceNames[kServiceCount] = {
    "frontend", "search", "geo", "rate", "profile", "recommendation", "user", "reservation",
};
constexpr uint32_t kPodsPerService[kServiceCount] = {3, 2, 2, 2, 3, 2, 1, 3};

constexpr int64_t kMicro = 1000;

// Builds one trace. Times advance in whole microseconds; every child lies inside its parent.
class TraceBuilder {
 public:
  TraceBuilder(Rng& rng, const CorpusOptions& options, const std::vector<uint32_t>* pods,
               CorpusTrace& trace)
      : rng_(rng), options_(options), pods_(pods), trace_(trace) {}

  void Request(int64_t start) {
    const double pick = rng_.Uniform();
    if (pick < 0.60) {
      Search(start);
    } else if (pick < 0.99) {
      Recommend(start);
    } else if (pick < 0.995) {
      Login(start);
    } else {
      Reserve(start);
    }
  }

 private:
  // Exclusive time of a handler step, from the µs means of algorithms.md §6.1.
  int64_t Work(double mean_us) {
    return static_cast<int64_t>(std::llround(rng_.LogNormal(mean_us, 0.5))) * kMicro;
  }
  int64_t Network() { return (20 + static_cast<int64_t>(rng_.Exponential(60))) * kMicro; }

  uint32_t PickPod(Service service) {
    const std::vector<uint32_t>& pods = pods_[service];
    return pods[rng_.Below(pods.size())];
  }

  size_t AddSpan(size_t parent, uint32_t process, std::string operation, SpanKind kind,
                 int64_t start) {
    CorpusSpan& s = trace_.spans.emplace_back();
    s.span_id = rng_.NonZero();
    s.parent_span_id = parent == kNoParent ? 0 : trace_.spans[parent].span_id;
    s.process = process;
    s.operation = std::move(operation);
    s.kind = kind;
    s.start_unix_nano = start;
    s.end_unix_nano = start;
    return trace_.spans.size() - 1;
  }

  CorpusSpan& At(size_t index) { return trace_.spans[index]; }

  // A handler gets its server span, its pod and its start, and returns when it finished.
  using Handler = int64_t (TraceBuilder::*)(size_t, uint32_t, int64_t);

  void Root(std::string_view method, std::string_view path, std::string url, int64_t start,
            Handler body) {
    const uint32_t pod = PickPod(kFrontend);
    const size_t root =
        AddSpan(kNoParent, pod, "HTTP " + std::string(method) + " " + std::string(path),
                SpanKind::kServer, start);
    const int64_t end = (this->*body)(root, pod, start + Work(40));
    failed_ = failed_ || rng_.Chance(options_.error_ratio);
    CorpusSpan& s = At(root);
    s.end_unix_nano = end + Work(30);
    s.error = failed_;
    s.tags = {
        {"component", std::string("net/http")},
        {"http.method", std::string(method)},
        {"http.url", std::move(url)},
        {"http.status_code", int64_t{failed_ ? 500 : 200}},
        {"net.peer.ip", "10.244.0." + std::to_string(1 + rng_.Below(250))},
    };
  }

  // A gRPC call: a client span in the caller, a server span in a pod of the callee.
  int64_t Call(size_t parent, uint32_t caller_pod, Service callee, std::string_view package,
               std::string_view method, int64_t start, Handler handler) {
    std::string operation = "/" + std::string(package) + "/" + std::string(method);
    const size_t client = AddSpan(parent, caller_pod, operation, SpanKind::kClient, start);
    const uint32_t pod = PickPod(callee);
    const size_t server =
        AddSpan(client, pod, std::move(operation), SpanKind::kServer, start + Network());
    const int64_t served = (this->*handler)(server, pod, At(server).start_unix_nano);
    const bool failed = rng_.Chance(options_.error_ratio);
    failed_ = failed_ || failed;
    const auto grpc_tags = [&](bool is_client) {
      std::vector<OtlpAttribute> tags = {
          {"component", std::string("gRPC")},
          {"rpc.grpc.status_code", int64_t{failed ? 13 : 0}},
      };
      if (is_client) {
        tags.push_back({"peer.service", std::string(kServiceNames[callee])});
      } else {
        tags.push_back({"net.peer.ip", "10.244.1." + std::to_string(1 + rng_.Below(250))});
      }
      return tags;
    };
    CorpusSpan& s = At(server);
    s.end_unix_nano = served;
    s.error = failed;
    s.tags = grpc_tags(false);
    CorpusSpan& c = At(client);
    c.end_unix_nano = served + Network();
    c.error = failed;
    c.tags = grpc_tags(true);
    return c.end_unix_nano;
  }

  // A memcached or MongoDB client span of `duration_us` mean.
  int64_t Db(size_t parent, uint32_t pod, std::string_view system, std::string_view operation,
             std::string_view peer, int64_t start, double duration_us) {
    const size_t span = AddSpan(parent, pod, std::string(system) + " " + std::string(operation),
                                SpanKind::kClient, start);
    CorpusSpan& s = At(span);
    s.end_unix_nano = start + Work(duration_us);
    const bool mongo = system == "mongodb";
    s.tags = {
        {"db.system", std::string(system)},
        {"db.operation", std::string(operation)},
        {"peer.service", std::string(peer)},
        {"net.peer.port", int64_t{mongo ? 27017 : 11211}},
    };
    return s.end_unix_nano;
  }

  // Cache read; on a miss, the database read and an asynchronous cache fill that overlaps the
  // rest of the handler (the handler's end is stretched to cover it).
  int64_t Cached(size_t parent, uint32_t pod, std::string_view backend, int64_t t,
                 int64_t& async_end) {
    t = Db(parent, pod, "memcached", "GetMulti", "memcached-" + std::string(backend), t, 150);
    if (!rng_.Chance(options_.cache_miss_ratio)) return t;
    t = Db(parent, pod, "mongodb", "find", "mongodb-" + std::string(backend), t, 700);
    const int64_t fill =
        Db(parent, pod, "memcached", "Set", "memcached-" + std::string(backend), t + Work(10), 120);
    if (fill > async_end) async_end = fill;
    return t;
  }

  void Search(int64_t start) {
    Root("GET", "/hotels", "/hotels?inDate=2015-04-09&outDate=2015-04-10&lat=37.7749&lon=-122.4194",
         start, &TraceBuilder::FrontendSearch);
  }
  int64_t FrontendSearch(size_t root, uint32_t pod, int64_t t) {
    t = Call(root, pod, kSearch, "search.Search", "Nearby", t, &TraceBuilder::SearchNearby);
    t += Work(300);
    t = Call(root, pod, kReservation, "reservation.Reservation", "CheckAvailability", t,
             &TraceBuilder::CheckAvailability);
    t += Work(300);
    t = Call(root, pod, kProfile, "profile.Profile", "GetProfiles", t, &TraceBuilder::GetProfiles);
    return t;
  }
  int64_t SearchNearby(size_t server, uint32_t pod, int64_t t) {
    t += Work(300);
    t = Call(server, pod, kGeo, "geo.Geo", "Nearby", t, &TraceBuilder::GeoNearby);
    t += Work(200);
    t = Call(server, pod, kRate, "rate.Rate", "GetRates", t, &TraceBuilder::GetRates);
    return t + Work(300);
  }
  int64_t GeoNearby(size_t, uint32_t, int64_t t) { return t + Work(2500); }
  int64_t GetRates(size_t server, uint32_t pod, int64_t t) {
    int64_t async_end = 0;
    t = Cached(server, pod, "rate", t + Work(1000), async_end);
    t += Work(1000);
    return t > async_end ? t : async_end;
  }
  int64_t CheckAvailability(size_t server, uint32_t pod, int64_t t) {
    int64_t async_end = 0;
    t = Cached(server, pod, "reserve", t + Work(3000), async_end);
    t += Work(3000);
    return t > async_end ? t : async_end;
  }
  int64_t GetProfiles(size_t server, uint32_t pod, int64_t t) {
    t = Db(server, pod, "memcached", "GetMulti", "memcached-profile", t + Work(300), 150);
    if (rng_.Chance(options_.cache_miss_ratio)) {
      // One FindOne per missed hotel, in parallel; the handler waits for all of them.
      const int misses = 1 + static_cast<int>(rng_.Below(3));
      int64_t joined = t;
      for (int i = 0; i < misses; ++i) {
        const int64_t end = Db(server, pod, "mongodb", "findOne", "mongodb-profile",
                               t + static_cast<int64_t>(i) * 5 * kMicro, 600);
        if (end > joined) joined = end;
      }
      t = Db(server, pod, "memcached", "Set", "memcached-profile", joined + Work(10), 120);
    }
    return t + Work(400);
  }

  void Recommend(int64_t start) {
    Root("GET", "/recommendations", "/recommendations?require=rate&lat=37.7749&lon=-122.4194",
         start, &TraceBuilder::FrontendRecommend);
  }
  int64_t FrontendRecommend(size_t root, uint32_t pod, int64_t t) {
    t = Call(root, pod, kRecommendation, "recommendation.Recommendation", "GetRecommendations", t,
             &TraceBuilder::GetRecommendations);
    t += Work(300);
    return Call(root, pod, kProfile, "profile.Profile", "GetProfiles", t,
                &TraceBuilder::GetProfiles);
  }
  int64_t GetRecommendations(size_t, uint32_t, int64_t t) { return t + Work(300); }

  void Login(int64_t start) {
    Root("POST", "/user", "/user?username=Cornell_1&password=1111111111", start,
         &TraceBuilder::FrontendLogin);
  }
  int64_t FrontendLogin(size_t root, uint32_t pod, int64_t t) {
    return Call(root, pod, kUser, "user.User", "CheckUser", t, &TraceBuilder::CheckUser);
  }
  int64_t CheckUser(size_t, uint32_t, int64_t t) { return t + Work(200); }

  void Reserve(int64_t start) {
    Root("POST", "/reservation",
         "/reservation?inDate=2015-04-09&outDate=2015-04-11&hotelId=42&customerName=Cornell_1"
         "&username=Cornell_1&password=1111111111&number=1",
         start, &TraceBuilder::FrontendReserve);
  }
  int64_t FrontendReserve(size_t root, uint32_t pod, int64_t t) {
    t = Call(root, pod, kUser, "user.User", "CheckUser", t, &TraceBuilder::CheckUser);
    t += Work(100);
    return Call(root, pod, kReservation, "reservation.Reservation", "MakeReservation", t,
                &TraceBuilder::MakeReservation);
  }
  int64_t MakeReservation(size_t server, uint32_t pod, int64_t t) {
    const int nights = 1 + static_cast<int>(rng_.Below(3));
    for (int night = 0; night < nights; ++night) {
      t = Db(server, pod, "memcached", "Get", "memcached-reserve", t + Work(100), 120);
      if (rng_.Chance(options_.cache_miss_ratio)) {
        t = Db(server, pod, "mongodb", "find", "mongodb-reservation", t, 700);
      }
      t = Db(server, pod, "memcached", "Get", "memcached-reserve", t, 120);
      if (rng_.Chance(options_.cache_miss_ratio)) {
        t = Db(server, pod, "mongodb", "findOne", "mongodb-reservation", t, 600);
      }
      t = Db(server, pod, "memcached", "Set", "memcached-reserve", t, 120);
    }
    t = Db(server, pod, "mongodb", "insertOne", "mongodb-reservation", t, 900);
    return t + Work(200);
  }

  static constexpr size_t kNoParent = ~size_t{0};

  Rng& rng_;
  const CorpusOptions& options_;
  const std::vector<uint32_t>* pods_;  // process indexes per Service
  CorpusTrace& trace_;
  bool failed_ = false;
};

std::string PodName(std::string_view service, Rng& rng) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string name(service);
  name += '-';
  for (int i = 0; i < 10; ++i) name += kAlphabet[rng.Below(sizeof(kAlphabet) - 1)];
  name += '-';
  for (int i = 0; i < 5; ++i) name += kAlphabet[rng.Below(sizeof(kAlphabet) - 1)];
  return name;
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

// One Jaeger tag; Jaeger types are string, bool, int64, float64.
void AppendJaegerTag(std::string& out, const OtlpAttribute& tag) {
  out.append("{\"key\":");
  AppendJsonString(out, tag.key);
  if (const auto* s = std::get_if<std::string>(&tag.value)) {
    out.append(",\"type\":\"string\",\"value\":");
    AppendJsonString(out, *s);
  } else if (const auto* b = std::get_if<bool>(&tag.value)) {
    out.append(*b ? ",\"type\":\"bool\",\"value\":true" : ",\"type\":\"bool\",\"value\":false");
  } else if (const auto* i = std::get_if<int64_t>(&tag.value)) {
    out.append(",\"type\":\"int64\",\"value\":");
    AppendInt(out, *i);
  } else {
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof(buf), std::get<double>(tag.value));
    out.append(",\"type\":\"float64\",\"value\":");
    out.append(buf, result.ptr);
  }
  out.push_back('}');
}

std::string_view KindTag(SpanKind kind) {
  switch (kind) {
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kUnspecified:
      break;
  }
  return "";
}

}  // namespace

size_t Corpus::SpanCount() const {
  size_t n = 0;
  for (const CorpusTrace& t : traces) n += t.spans.size();
  return n;
}

Corpus GenerateCorpus(const CorpusOptions& options) {
  Rng rng(options.seed);
  Corpus corpus;
  std::vector<uint32_t> pods[kServiceCount];
  for (uint32_t service = 0; service < kServiceCount; ++service) {
    for (uint32_t i = 0; i < kPodsPerService[service]; ++i) {
      pods[service].push_back(static_cast<uint32_t>(corpus.processes.size()));
      const size_t n = corpus.processes.size();
      corpus.processes.push_back(CorpusProcess{
          std::string(kServiceNames[service]),
          PodName(kServiceNames[service], rng),
          "10.244." + std::to_string(1 + n / 200) + "." + std::to_string(2 + n % 200),
      });
    }
  }
  corpus.traces.reserve(options.traces);
  // Start on a whole microsecond so that every time survives Jaeger's µs resolution.
  int64_t start = options.start_unix_nano / kMicro * kMicro;
  const double mean_gap_us = 1e6 / options.requests_per_second;
  for (size_t i = 0; i < options.traces; ++i) {
    CorpusTrace& trace = corpus.traces.emplace_back();
    trace.trace_id = TraceId{rng.Next(), rng.NonZero()};
    TraceBuilder(rng, options, pods, trace).Request(start);
    start += static_cast<int64_t>(rng.Exponential(mean_gap_us)) * kMicro;
  }
  return corpus;
}

std::string ToJaegerJson(const Corpus& corpus) {
  std::string out = "{\"data\":[";
  std::vector<uint32_t> local;  // trace-local process number ("p1"...) by corpus process
  std::vector<uint32_t> order;  // corpus processes in order of first use
  local.assign(corpus.processes.size(), 0);
  for (size_t t = 0; t < corpus.traces.size(); ++t) {
    const CorpusTrace& trace = corpus.traces[t];
    const std::string trace_id = exporter::spans::FormatTraceId(trace.trace_id);
    for (uint32_t p : order) local[p] = 0;
    order.clear();
    if (t > 0) out.push_back(',');
    out.append("{\"traceID\":\"").append(trace_id).append("\",\"spans\":[");
    for (size_t i = 0; i < trace.spans.size(); ++i) {
      const CorpusSpan& s = trace.spans[i];
      if (local[s.process] == 0) {
        order.push_back(s.process);
        local[s.process] = static_cast<uint32_t>(order.size());
      }
      if (i > 0) out.push_back(',');
      out.append("{\"traceID\":\"").append(trace_id);
      out.append("\",\"spanID\":\"").append(exporter::spans::FormatSpanId(s.span_id));
      out.append("\",\"flags\":1,\"operationName\":");
      AppendJsonString(out, s.operation);
      out.append(",\"references\":[");
      if (s.parent_span_id != 0) {
        out.append("{\"refType\":\"CHILD_OF\",\"traceID\":\"").append(trace_id);
        out.append("\",\"spanID\":\"").append(exporter::spans::FormatSpanId(s.parent_span_id));
        out.append("\"}");
      }
      out.append("],\"startTime\":");
      AppendInt(out, s.start_unix_nano / kMicro);
      out.append(",\"duration\":");
      AppendInt(out, (s.end_unix_nano - s.start_unix_nano) / kMicro);
      out.append(",\"tags\":[");
      AppendJaegerTag(out, {"span.kind", std::string(KindTag(s.kind))});
      for (const OtlpAttribute& tag : s.tags) {
        out.push_back(',');
        AppendJaegerTag(out, tag);
      }
      if (s.error) {
        out.push_back(',');
        AppendJaegerTag(out, {"error", true});
      }
      out.append("],\"logs\":[],\"processID\":\"p");
      AppendInt(out, local[s.process]);
      out.append("\",\"warnings\":null}");
    }
    out.append("],\"processes\":{");
    for (size_t i = 0; i < order.size(); ++i) {
      const CorpusProcess& p = corpus.processes[order[i]];
      if (i > 0) out.push_back(',');
      out.append("\"p");
      AppendInt(out, static_cast<int64_t>(i + 1));
      out.append("\":{\"serviceName\":");
      AppendJsonString(out, p.service);
      out.append(",\"tags\":[");
      AppendJaegerTag(out, {"hostname", p.pod});
      out.push_back(',');
      AppendJaegerTag(out, {"ip", p.ip});
      out.push_back(',');
      AppendJaegerTag(out, {"k8s.namespace.name", std::string(kCorpusNamespace)});
      out.push_back(',');
      AppendJaegerTag(out, {"k8s.pod.name", p.pod});
      out.append("]}");
    }
    out.append("},\"warnings\":null}");
  }
  out.append("],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
  return out;
}

std::vector<exporter::spans::OtlpResourceSpans> ToOtlpResources(const Corpus& corpus) {
  std::vector<exporter::spans::OtlpResourceSpans> resources(corpus.processes.size());
  for (size_t i = 0; i < corpus.processes.size(); ++i) {
    const CorpusProcess& p = corpus.processes[i];
    resources[i].resource = {
        {"service.name", p.service},
        {"host.name", p.pod},
        {"k8s.namespace.name", std::string(kCorpusNamespace)},
        {"k8s.pod.name", p.pod},
        {"telemetry.sdk.language", std::string("go")},
    };
    resources[i].scope_name = "github.com/delimitrou/DeathStarBench/hotelReservation";
  }
  for (const CorpusTrace& trace : corpus.traces) {
    for (const CorpusSpan& s : trace.spans) {
      exporter::spans::OtlpSpan& span = resources[s.process].spans.emplace_back();
      span.trace_id = trace.trace_id;
      span.span_id = s.span_id;
      span.parent_span_id = s.parent_span_id;
      span.name = s.operation;
      span.kind = s.kind;
      span.start_unix_nano = s.start_unix_nano;
      span.end_unix_nano = s.end_unix_nano;
      span.status = s.error ? exporter::spans::OtlpStatusCode::kError
                            : exporter::spans::OtlpStatusCode::kUnset;
      span.attributes = s.tags;
    }
  }
  std::erase_if(resources, [](const auto& r) { return r.spans.empty(); });
  return resources;
}

std::string ToOtlpJson(const Corpus& corpus) {
  return exporter::spans::ToOtlpJson(ToOtlpResources(corpus));
}

std::string ToOtlpProto(const Corpus& corpus) {
  return exporter::spans::ToOtlpProto(ToOtlpResources(corpus));
}

std::string Serialize(const Corpus& corpus, exporter::spans::SpanFormat format) {
  switch (format) {
    case exporter::spans::SpanFormat::kJaegerJson:
      return ToJaegerJson(corpus);
    case exporter::spans::SpanFormat::kOtlpJson:
      return ToOtlpJson(corpus);
    case exporter::spans::SpanFormat::kOtlpProto:
      return ToOtlpProto(corpus);
  }
  return {};
}

std::vector<exporter::spans::Span> ExpectedSpans(const Corpus& corpus) {
  std::vector<exporter::spans::Span> spans;
  spans.reserve(corpus.SpanCount());
  for (const CorpusTrace& trace : corpus.traces) {
    for (const CorpusSpan& s : trace.spans) {
      const CorpusProcess& p = corpus.processes[s.process];
      exporter::spans::Span& span = spans.emplace_back();
      span.trace_id = trace.trace_id;
      span.span_id = s.span_id;
      span.parent_span_id = s.parent_span_id;
      span.start_unix_nano = s.start_unix_nano;
      span.end_unix_nano = s.end_unix_nano;
      span.service = p.service;
      span.operation = s.operation;
      span.instance = p.pod;
      span.k8s_namespace = kCorpusNamespace;
      span.kind = s.kind;
      span.error = s.error;
    }
  }
  return spans;
}

}  // namespace bench
