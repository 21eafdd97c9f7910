#include "common/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>

namespace common {
namespace {

// zlib counts in uInt; feed and drain in slices that fit.
constexpr size_t kMaxSlice = UINT_MAX;
constexpr size_t kOutChunk = 64 * 1024;

}  // namespace

GunzipStatus Gunzip(std::string_view in, size_t max_out_bytes, std::string& out) {
  out.clear();
  z_stream zs{};
  // 15 + 32: the largest window, and detect a gzip or zlib header automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return GunzipStatus::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  size_t in_left = in.size();
  GunzipStatus status = GunzipStatus::kCorrupt;
  while (true) {
    if (zs.avail_in == 0) {
      zs.avail_in = static_cast<uInt>(std::min(in_left, kMaxSlice));
      in_left -= zs.avail_in;
    }
    // One byte past the limit tells "exactly at the limit" apart from "too large".
    const size_t room = max_out_bytes - out.size();
    const size_t chunk = room < kOutChunk ? room + 1 : kOutChunk;
    const size_t before = out.size();
    out.resize(before + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    zs.avail_out = static_cast<uInt>(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(before + chunk - zs.avail_out);
    if (out.size() > max_out_bytes) {
      out.resize(max_out_bytes);
      status = GunzipStatus::kTooLarge;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && in_left == 0) {
        status = GunzipStatus::kOk;
        break;
      }
      // Another gzip member follows (what `cat a.gz b.gz` produces).
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR
    if (zs.avail_in == 0 && in_left == 0 && zs.avail_out != 0) break;  // truncated input
  }
  inflateEnd(&zs);
  return status;
}

std::string Gzip(std::string_view in, int level) {
  z_stream zs{};
  // 15 + 16: the largest window with a gzip wrapper; 8 is zlib's default memory level.
  if (deflateInit2(&zs, std::clamp(level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::bad_alloc();  // with valid arguments, only allocation can fail
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  size_t in_left = in.size();
  size_t out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0) {
      zs.avail_in = static_cast<uInt>(std::min(in_left, kMaxSlice));
      in_left -= zs.avail_in;
    }
    if (zs.avail_out == 0) {
      zs.avail_out = static_cast<uInt>(std::min(out_left, kMaxSlice));
      out_left -= zs.avail_out;
    }
    rc = deflate(&zs, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
  }
  out.resize(out.size() - out_left - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace common
