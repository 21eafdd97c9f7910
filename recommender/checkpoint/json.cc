#include "recommender/checkpoint/json.h"

#include <cmath>
#include <limits>
#include <utility>

namespace recommender::checkpoint::json {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void Number(Writer& w, double value) {
  // JSON has no NaN or infinity; RapidJSON's writer refuses them.
  if (std::isfinite(value)) {
    w.Double(value);
  } else {
    w.Null();
  }
}

bool ReadNumber(const rapidjson::Value& v, double& out) {
  if (v.IsNull()) {
    out = kNaN;
    return true;
  }
  if (!v.IsNumber()) return false;
  out = v.GetDouble();
  return true;
}

}  // namespace

void Double(Writer& w, const char* key, double value) {
  w.Key(key);
  Number(w, value);
}

void Time(Writer& w, const char* key, common::TimePoint t) {
  w.Key(key);
  w.Int64(t.time_since_epoch().count());
}

void TimedValues(Writer& w, const char* key, const std::deque<policies::TimedValue>& values) {
  w.Key(key);
  w.StartArray();
  for (const policies::TimedValue& v : values) {
    w.StartArray();
    w.Int64(v.t.time_since_epoch().count());
    Number(w, v.value);
    w.EndArray();
  }
  w.EndArray();
}

void Doubles(Writer& w, const char* key, const std::deque<double>& values) {
  w.Key(key);
  w.StartArray();
  for (double v : values) Number(w, v);
  w.EndArray();
}

void WriteTerms(Writer& w, const char* key, const policies::Terms& terms) {
  w.Key(key);
  w.StartArray();
  for (const auto& [name, value] : terms) {
    w.StartArray();
    w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    Number(w, value);
    w.EndArray();
  }
  w.EndArray();
}

ObjectReader::ObjectReader(const rapidjson::Value& value, std::string where)
    : value_(value), where_(std::move(where)) {
  if (!value_.IsObject()) error_ = where_ + ": not an object";
}

void ObjectReader::Fail(std::string_view key, std::string_view what) {
  if (!ok()) return;
  error_ = where_;
  error_ += '.';
  error_ += key;
  error_ += ": ";
  error_ += what;
}

std::string ObjectReader::Path(std::string_view key) const {
  std::string path = where_;
  path += '.';
  path += key;
  return path;
}

void ObjectReader::Adopt(const ObjectReader& member) {
  if (ok() && !member.ok()) error_ = member.error_;
}

const rapidjson::Value* ObjectReader::Member(const char* key) {
  if (!ok()) return nullptr;
  const auto it = value_.FindMember(key);
  if (it == value_.MemberEnd()) {
    Fail(key, "missing");
    return nullptr;
  }
  return &it->value;
}

void ObjectReader::Double(const char* key, double& out) {
  const rapidjson::Value* v = Member(key);
  if (v != nullptr && !ReadNumber(*v, out)) Fail(key, "not a number");
}

void ObjectReader::Int(const char* key, int& out) {
  const rapidjson::Value* v = Member(key);
  if (v == nullptr) return;
  if (!v->IsInt()) return Fail(key, "not an integer");
  out = v->GetInt();
}

void ObjectReader::Uint64(const char* key, uint64_t& out) {
  const rapidjson::Value* v = Member(key);
  if (v == nullptr) return;
  if (!v->IsUint64()) return Fail(key, "not an unsigned integer");
  out = v->GetUint64();
}

void ObjectReader::Bool(const char* key, bool& out) {
  const rapidjson::Value* v = Member(key);
  if (v == nullptr) return;
  if (!v->IsBool()) return Fail(key, "not a boolean");
  out = v->GetBool();
}

void ObjectReader::Time(const char* key, common::TimePoint& out) {
  const rapidjson::Value* v = Member(key);
  if (v == nullptr) return;
  if (!v->IsInt64()) return Fail(key, "not a time in nanoseconds");
  out = common::TimePoint{common::Duration{v->GetInt64()}};
}

void ObjectReader::TimedValues(const char* key, std::deque<policies::TimedValue>& out) {
  const rapidjson::Value* v = Array(key);
  if (v == nullptr) return;
  std::deque<policies::TimedValue> values;
  for (const rapidjson::Value& item : v->GetArray()) {
    policies::TimedValue tv;
    if (!item.IsArray() || item.Size() != 2 || !item[0].IsInt64() ||
        !ReadNumber(item[1], tv.value)) {
      return Fail(key, "entries must be [nanoseconds, number]");
    }
    tv.t = common::TimePoint{common::Duration{item[0].GetInt64()}};
    values.push_back(tv);
  }
  out = std::move(values);
}

void ObjectReader::Doubles(const char* key, std::deque<double>& out) {
  const rapidjson::Value* v = Array(key);
  if (v == nullptr) return;
  std::deque<double> values;
  for (const rapidjson::Value& item : v->GetArray()) {
    double d = 0;
    if (!ReadNumber(item, d)) return Fail(key, "entries must be numbers");
    values.push_back(d);
  }
  out = std::move(values);
}

void ObjectReader::ReadTerms(const char* key, policies::Terms& out) {
  const rapidjson::Value* v = Array(key);
  if (v == nullptr) return;
  policies::Terms terms;
  for (const rapidjson::Value& item : v->GetArray()) {
    double d = 0;
    if (!item.IsArray() || item.Size() != 2 || !item[0].IsString() || !ReadNumber(item[1], d)) {
      return Fail(key, "entries must be [name, number]");
    }
    terms.emplace_back(std::string(item[0].GetString(), item[0].GetStringLength()), d);
  }
  out = std::move(terms);
}

const rapidjson::Value* ObjectReader::Object(const char* key) {
  const rapidjson::Value* v = Member(key);
  if (v != nullptr && !v->IsObject()) {
    Fail(key, "not an object");
    return nullptr;
  }
  return v;
}

const rapidjson::Value* ObjectReader::Array(const char* key) {
  const rapidjson::Value* v = Member(key);
  if (v != nullptr && !v->IsArray()) {
    Fail(key, "not an array");
    return nullptr;
  }
  return v;
}

}  // namespace recommender::checkpoint::json
