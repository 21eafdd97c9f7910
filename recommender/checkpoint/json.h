#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/policies/proposal.h"
#include "recommender/policies/timed_value.h"

// Checkpoint helpers shared by the policy and safety memories: times as integer nanoseconds since
// the epoch, NaN as null, and a strict reader (every key must be present with the right type, so a
// truncated or edited checkpoint is reported instead of half-restored).
namespace recommender::checkpoint::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Double(Writer& w, const char* key, double value);
void Time(Writer& w, const char* key, common::TimePoint t);
void TimedValues(Writer& w, const char* key, const std::deque<policies::TimedValue>& values);
void Doubles(Writer& w, const char* key, const std::deque<double>& values);
void WriteTerms(Writer& w, const char* key, const policies::Terms& terms);

// Reads fields of one JSON object; the first problem is kept as "<where>.<key>: <what>" and
// every later call is a no-op.
class ObjectReader {
 public:
  ObjectReader(const rapidjson::Value& value, std::string where);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void Double(const char* key, double& out);
  void Int(const char* key, int& out);
  void Uint64(const char* key, uint64_t& out);
  void Bool(const char* key, bool& out);
  void Time(const char* key, common::TimePoint& out);
  void TimedValues(const char* key, std::deque<policies::TimedValue>& out);
  void Doubles(const char* key, std::deque<double>& out);
  void ReadTerms(const char* key, policies::Terms& out);
  // The member object `key`, or nullptr (with an error) if it is missing or not an object.
  const rapidjson::Value* Object(const char* key);
  // The member array `key`, or nullptr (with an error).
  const rapidjson::Value* Array(const char* key);
  void Fail(std::string_view key, std::string_view what);
  // "<where>.<key>", the `where` of a reader for the member object `key`.
  std::string Path(std::string_view key) const;
  // Takes over a member reader's first problem, if it has one.
  void Adopt(const ObjectReader& member);

 private:
  const rapidjson::Value* Member(const char* key);

  const rapidjson::Value& value_;
  std::string where_;
  std::string error_;
};

}  // namespace recommender::checkpoint::json
