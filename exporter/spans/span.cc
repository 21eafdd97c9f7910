#include "exporter/spans/span.h"

#include <cstring>

namespace exporter::spans {

std::string_view SpanBatch::Store(std::string_view s) {
  if (s.empty()) return {};
  // Find room in the current block, else move to the next one (reusing blocks kept by Clear()).
  while (current_ < blocks_.size() && used_ + s.size() > blocks_[current_].size) {
    ++current_;
    used_ = 0;
  }
  if (current_ == blocks_.size()) {
    const size_t size = s.size() > kBlockSize ? s.size() : kBlockSize;
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    used_ = 0;
  }
  char* dst = blocks_[current_].data.get() + used_;
  std::memcpy(dst, s.data(), s.size());
  used_ += s.size();
  return {dst, s.size()};
}

size_t SpanBatch::ArenaBytes() const {
  size_t total = 0;
  for (const Block& block : blocks_) total += block.size;
  return total;
}

void SpanBatch::Clear() {
  spans_.clear();
  current_ = 0;
  used_ = 0;
}

}  // namespace exporter::spans
