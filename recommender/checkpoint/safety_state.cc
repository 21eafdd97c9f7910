#include "recommender/checkpoint/safety_state.h"

#include <cmath>
#include <optional>
#include <utility>

namespace recommender::checkpoint {
namespace {

void WriteOptional(json::Writer& w, const char* key, std::optional<double> v) {
  w.Key(key);
  if (v && std::isfinite(*v)) {
    w.Double(*v);
  } else {
    w.Null();
  }
}

void ReadOptional(json::ObjectReader& r, const char* key, std::optional<double>& out) {
  double v = 0;
  r.Double(key, v);
  out = std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

void WriteChannel(const combine::ChannelMemory& m, json::Writer& w) {
  w.StartObject();
  WriteOptional(w, "last_good", m.last_good);
  WriteOptional(w, "last_output", m.last_output);
  json::TimedValues(w, "window", m.window);
  w.EndObject();
}

void ReadChannel(json::ObjectReader& parent, const char* key, combine::ChannelMemory& m) {
  const rapidjson::Value* v = parent.Object(key);
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path(key));
  ReadOptional(r, "last_good", m.last_good);
  ReadOptional(r, "last_output", m.last_output);
  r.TimedValues("window", m.window);
  parent.Adopt(r);
}

}  // namespace

void WriteSafetyState(const combine::SafetyMemory& memory, json::Writer& w) {
  w.StartObject();
  w.Key("replicas");
  WriteChannel(memory.replicas, w);
  w.Key("cpu");
  WriteChannel(memory.cpu, w);
  w.EndObject();
}

bool ReadSafetyState(const rapidjson::Value& value, combine::SafetyMemory& memory,
                     std::string* error) {
  json::ObjectReader r(value, "safety_state");
  combine::SafetyMemory m;
  ReadChannel(r, "replicas", m.replicas);
  ReadChannel(r, "cpu", m.cpu);
  if (!r.ok()) {
    if (error != nullptr) *error = r.error();
    return false;
  }
  memory = std::move(m);
  return true;
}

}  // namespace recommender::checkpoint
