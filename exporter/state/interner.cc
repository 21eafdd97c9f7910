#include "exporter/state/interner.h"

namespace exporter::state {

StringInterner::StringInterner() { strings_.emplace_back(); }

uint32_t StringInterner::Intern(std::string_view s) {
  if (s.empty()) return 0;
  if (auto it = index_.find(s); it != index_.end()) return it->second;
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    strings_[id].assign(s);
  } else {
    id = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
  }
  index_.emplace(std::string_view(strings_[id]), id);
  return id;
}

void StringInterner::Sweep(const std::vector<bool>& used) {
  for (uint32_t id = 1; id < strings_.size(); ++id) {
    if (strings_[id].empty() || (id < used.size() && used[id])) continue;
    index_.erase(std::string_view(strings_[id]));
    strings_[id].clear();
    strings_[id].shrink_to_fit();
    free_.push_back(id);
  }
}

}  // namespace exporter::state
