#include "exporter/state/interner.h"

#include <algorithm>
#include <functional>

namespace exporter::state {

StringInterner::StringInterner() { entries_.emplace_back(); }

uint32_t StringInterner::Intern(std::string_view s) {
  if (s.empty()) return 0;
  if (auto it = index_.find(s); it != index_.end()) {
    ++entries_[it->second].refs;
    return it->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    entries_[id].text.assign(s);
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.push_back({std::string(s), 0});
  }
  entries_[id].refs = 1;
  bytes_ += s.size();
  index_.emplace(std::string_view(entries_[id].text), id);
  return id;
}

void StringInterner::Ref(uint32_t id) {
  if (id != 0) ++entries_[id].refs;
}

void StringInterner::Release(uint32_t id) {
  if (id == 0) return;
  Entry& e = entries_[id];
  if (--e.refs > 0) return;
  index_.erase(std::string_view(e.text));
  bytes_ -= e.text.size();
  // Give the characters back, not just the length: names can be up to --span.max-label-bytes.
  std::string().swap(e.text);
  free_.push_back(id);
}

void StringInterner::Compact() {
  while (entries_.size() > 1 && entries_.back().refs == 0) entries_.pop_back();
  std::erase_if(free_, [this](uint32_t id) { return id >= entries_.size(); });
  std::sort(free_.begin(), free_.end(), std::greater<>());
  free_.shrink_to_fit();
  entries_.shrink_to_fit();
  // unordered_map never shrinks its bucket array on erase; a burst of names would keep it.
  if (index_.bucket_count() > 4 * index_.size() + 64) index_.rehash(0);
}

}  // namespace exporter::state
