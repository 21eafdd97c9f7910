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
// Id 0 is the empty string and is never freed. Every other id is reference counted: buffered
// spans and series keys each hold a reference, and a string is freed the moment its last holder
// lets go, so a stream of unique names (which overflow the series cap or expire) keeps no more
// strings than the spans and series that still use them.
class StringInterner {
 public:
  StringInterner();

  // The id of `s`, with one reference taken for the caller.
  uint32_t Intern(std::string_view s);
  // One more reference to a live id; Release() gives one back and frees the string at zero.
  // Inline: every buffered span takes and gives back a reference per label.
  void Ref(uint32_t id) {
    if (id != 0) ++refs_[id];
  }
  void Release(uint32_t id) {
    if (id != 0 && --refs_[id] == 0) Free(id);
  }

  std::string_view Get(uint32_t id) const { return strings_[id]; }
  uint32_t Refs(uint32_t id) const { return refs_[id]; }
  size_t size() const { return index_.size() + 1; }  // live strings, the empty one included
  size_t bytes() const { return bytes_; }            // characters held by live strings
  // Slots allocated for ids, live and free.
  size_t slots() const { return strings_.size(); }

  // Returns memory freed strings left behind: trailing free slots and index buckets far beyond
  // the live count. Free ids are then reused lowest first, so the tail keeps emptying.
  void Compact();

 private:
  // Forgets the string of an id whose last reference went.
  void Free(uint32_t id);

  // deque: elements never move, so the string_view keys of index_ stay valid.
  std::deque<std::string> strings_;
  // Apart from the strings: counting touches only this dense array, once per span and label.
  std::vector<uint32_t> refs_;
  std::unordered_map<std::string_view, uint32_t> index_;
  std::vector<uint32_t> free_;  // popped from the back
  size_t bytes_ = 0;
};

}  // namespace exporter::state
