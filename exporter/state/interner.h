#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exporter::state {

// Maps label strings (service, operation, pod, namespace) to small ids so that buffered spans and
// series keys are plain integers and the hot path compares and hashes integers, not strings.
// Id 0 is the empty string. Unused ids are reclaimed by Sweep(), so hostile streams of unique names
// cannot grow it without bound once the series that used them expire.
class StringInterner {
 public:
  StringInterner();

  uint32_t Intern(std::string_view s);
  std::string_view Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return index_.size() + 1; }

  // Frees every id whose entry in `used` is false (ids beyond used.size() count as unused).
  void Sweep(const std::vector<bool>& used);
  // One past the largest id handed out; size a `used` vector with it.
  uint32_t IdLimit() const { return static_cast<uint32_t>(strings_.size()); }

 private:
  // deque: elements never move, so the string_view keys of index_ stay valid.
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, uint32_t> index_;
  std::vector<uint32_t> free_;
};

}  // namespace exporter::state
