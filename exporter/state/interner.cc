#include "exporter/state/interner.h"

#include <algorithm>
#include <functional>

namespace exporter::state {

StringInterner::StringInterner() {
  strings_.emplace_back();
  refs_.push_back(0);
}

uint32_t StringInterner::Intern(std::string_view s) {
  if (s.empty()) return 0;
  if (auto it = index_.find(s); it != index_.end()) {
    ++refs_[it->second];
    return it->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    strings_[id].assign(s);
  } else {
    id = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
    refs_.push_back(0);
  }
  refs_[id] = 1;
  bytes_ += s.size();
  index_.emplace(std::string_view(strings_[id]), id);
  return id;
}

void StringInterner::Free(uint32_t id) {
  std::string& text = strings_[id];
  index_.erase(std::string_view(text));
  bytes_ -= text.size();
  // Give the characters back, not just the length: names can be up to --span.max-label-bytes.
  std::string().swap(text);
  free_.push_back(id);
}

void StringInterner::Compact() {
  while (strings_.size() > 1 && refs_[strings_.size() - 1] == 0) {
    strings_.pop_back();
    refs_.pop_back();
  }
  std::erase_if(free_, [this](uint32_t id) { return id >= strings_.size(); });
  std::sort(free_.begin(), free_.end(), std::greater<>());
  free_.shrink_to_fit();
  strings_.shrink_to_fit();
  refs_.shrink_to_fit();
  // unordered_map never shrinks its bucket array on erase; a burst of names would keep it.
  if (index_.bucket_count() > 4 * index_.size() + 64) index_.rehash(0);
}

}  // namespace exporter::state
