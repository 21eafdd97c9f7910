#include "recommender/checkpoint/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/checkpoint/policy_state.h"
#include "recommender/checkpoint/safety_state.h"

namespace recommender {
namespace {

constexpr std::string_view kFormat = "queuelens-recommender-checkpoint";
// 2 added the state of queue_balancing, hab, vpa and SHOWAR's baseline, and the Tower's minute.
constexpr int kVersion = 2;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Series = model::WorkloadState::Series;

void String(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

int64_t Nanos(common::TimePoint t) { return t.time_since_epoch().count(); }

// One workload as read from the file, before anything is applied.
struct PendingWorkload {
  model::WorkloadKey key;
  std::vector<std::pair<Series, std::vector<model::Window::Point>>> series;
  WorkloadMemory memory;
};

std::optional<Series> SeriesByName(std::string_view name) {
  for (size_t s = 0; s < model::WorkloadState::kSeriesCount; ++s) {
    if (model::WorkloadState::SeriesName(static_cast<Series>(s)) == name) {
      return static_cast<Series>(s);
    }
  }
  return std::nullopt;
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

bool ReadWorkload(const rapidjson::Value& v, size_t index, PendingWorkload& out,
                  std::string* error) {
  const std::string where = "workloads[" + std::to_string(index) + "]";
  const rapidjson::Value* ns = Member(v, "namespace");
  const rapidjson::Value* name = Member(v, "workload");
  const rapidjson::Value* series = Member(v, "series");
  const rapidjson::Value* policy_state = Member(v, "policies");
  const rapidjson::Value* safety = Member(v, "safety");
  if (!ns || !ns->IsString() || !name || !name->IsString() || !series || !series->IsObject() ||
      !policy_state || !safety) {
    *error = where + ": needs namespace, workload, series, policies and safety";
    return false;
  }
  out.key = {ns->GetString(), name->GetString()};
  for (const auto& m : series->GetObject()) {
    const std::optional<Series> s = SeriesByName(m.name.GetString());
    if (!s || !m.value.IsArray()) {
      *error = where + ".series." + m.name.GetString() + ": unknown series or not an array";
      return false;
    }
    std::vector<model::Window::Point> points;
    points.reserve(m.value.Size());
    for (const auto& p : m.value.GetArray()) {
      if (!p.IsArray() || p.Size() != 2 || !p[0].IsInt64() || !p[1].IsNumber()) {
        *error = where + ".series." + m.name.GetString() + ": points must be [ns, value]";
        return false;
      }
      points.push_back({common::TimePoint{common::Duration{p[0].GetInt64()}}, p[1].GetDouble()});
    }
    out.series.emplace_back(*s, std::move(points));
  }
  std::string why;
  if (!checkpoint::ReadPolicyState(*policy_state, out.memory.policies, &why) ||
      !checkpoint::ReadSafetyState(*safety, out.memory.safety, &why)) {
    *error = where + ": " + why;
    return false;
  }
  return true;
}

}  // namespace

std::string WriteCheckpoint(const model::Model& model, const policies::Tower& tower,
                            const Memories& memories, common::TimePoint now) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("format");
  String(w, kFormat);
  w.Key("version");
  w.Int(kVersion);
  w.Key("saved_at");
  w.Int64(Nanos(now));
  w.Key("tower");
  checkpoint::WriteTowerState(tower, w);
  w.Key("workloads");
  w.StartArray();
  for (size_t i = 0; i < model.size(); ++i) {
    const model::WorkloadKey& key = model.configs()[i].key;
    w.StartObject();
    w.Key("namespace");
    String(w, key.k8s_namespace);
    w.Key("workload");
    String(w, key.workload);
    w.Key("series");
    w.StartObject();
    for (size_t s = 0; s < model::WorkloadState::kSeriesCount; ++s) {
      const model::Window& window = model.state(i).series(static_cast<Series>(s));
      if (window.empty()) continue;
      w.Key(model::WorkloadState::SeriesName(static_cast<Series>(s)).data());
      w.StartArray();
      for (const model::Window::Point& p : window.Points()) {
        w.StartArray();
        w.Int64(Nanos(p.t));
        w.Double(p.v);
        w.EndArray();
      }
      w.EndArray();
    }
    w.EndObject();
    auto memory = memories.find(key);
    const WorkloadMemory fresh;
    const WorkloadMemory& m = memory == memories.end() ? fresh : memory->second;
    w.Key("policies");
    checkpoint::WritePolicyState(m.policies, w);
    w.Key("safety");
    checkpoint::WriteSafetyState(m.safety, w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool ReadCheckpoint(std::string_view text, model::Model& model, policies::Tower& tower,
                    Memories& memories, RestoreReport* report, std::string* error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    *error = std::string("not JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  const rapidjson::Value* format = Member(doc, "format");
  const rapidjson::Value* version = Member(doc, "version");
  if (!format || !format->IsString() || format->GetString() != kFormat) {
    *error = "not a queuelens recommender checkpoint";
    return false;
  }
  if (!version || !version->IsInt() || version->GetInt() != kVersion) {
    *error = "unsupported checkpoint version (this build reads " + std::to_string(kVersion) + ")";
    return false;
  }
  const rapidjson::Value* tower_state = Member(doc, "tower");
  const rapidjson::Value* workloads = Member(doc, "workloads");
  if (!tower_state || !workloads || !workloads->IsArray()) {
    *error = "missing tower or workloads";
    return false;
  }
  policies::Tower restored_tower(tower.options());
  if (!checkpoint::ReadTowerState(*tower_state, restored_tower, error)) return false;
  std::vector<PendingWorkload> pending(workloads->Size());
  for (rapidjson::SizeType i = 0; i < workloads->Size(); ++i) {
    if (!ReadWorkload((*workloads)[i], i, pending[i], error)) return false;
  }

  RestoreReport r;
  tower = std::move(restored_tower);
  for (PendingWorkload& p : pending) {
    const std::optional<size_t> index = model.Restore(p.key);
    if (!index) {
      ++r.skipped;
      continue;
    }
    for (const auto& [series, points] : p.series) {
      model::Window& window = model.state(*index).series(series);
      for (const model::Window::Point& point : points) window.Add(point.t, point.v);
    }
    memories[p.key] = std::move(p.memory);
    ++r.workloads;
  }
  if (report != nullptr) *report = r;
  return true;
}

bool WriteFileAtomically(const std::string& path, std::string_view data, std::string* error) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    *error = "cannot sync " + tmp + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  // The rename is durable once the directory entry is.
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

std::optional<std::string> ReadSmallFile(const std::string& path, size_t max_bytes,
                                         std::string* error) {
  error->clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string out;
  char buf[64 << 10];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      *error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  return out;
}

}  // namespace recommender
