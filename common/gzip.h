#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace common {

enum class GunzipStatus { kOk, kTooLarge, kCorrupt };

// Inflates a gzip (including concatenated members) or zlib stream into `out`, replacing its
// contents. Stops with kTooLarge as soon as the output would exceed `max_out_bytes`, so a small
// compressed body cannot expand without bound; `out` then holds the first max_out_bytes.
GunzipStatus Gunzip(std::string_view in, size_t max_out_bytes, std::string& out);

// Compresses `in` as one gzip member. Level 1 trades ratio for speed, which suits /metrics.
std::string Gzip(std::string_view in, int level = 1);

}  // namespace common
