#include "exporter/spans/otlp_encoding.h"

#include <charconv>

namespace exporter::spans {
namespace wire {

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

size_t TagSize(uint32_t field) { return VarintSize(uint64_t{field} << 3); }

size_t LenFieldSize(uint32_t field, size_t length) {
  return TagSize(field) + VarintSize(length) + length;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutTag(std::string& out, uint32_t field, uint32_t wire_type) {
  PutVarint(out, (uint64_t{field} << 3) | wire_type);
}

void PutLenHeader(std::string& out, uint32_t field, size_t length) {
  PutTag(out, field, kLen);
  PutVarint(out, length);
}

void PutBytes(std::string& out, uint32_t field, std::string_view bytes) {
  PutLenHeader(out, field, bytes.size());
  out.append(bytes);
}

void PutFixed64(std::string& out, uint32_t field, uint64_t v) {
  PutTag(out, field, kFixed64);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(v & 0xff));
    v >>= 8;
  }
}

void AppendDecimal(std::string& out, int64_t v) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

void AppendQuotedDecimal(std::string& out, int64_t v) {
  out.push_back('"');
  AppendDecimal(out, v);
  out.push_back('"');
}

}  // namespace wire

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      switch (c) {
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          out.append("\\u00");
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
      }
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace exporter::spans
