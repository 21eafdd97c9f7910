#include "exporter/spans/ids.h"

#include <array>

namespace exporter::spans {
namespace {

constexpr uint8_t kBad = 0xff;

constexpr std::array<uint8_t, 256> MakeHexTable() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<uint8_t>(c - 'A' + 10);
  return t;
}

// Both alphabets at once: '+' and '-' are 62, '/' and '_' are 63.
constexpr std::array<uint8_t, 256> MakeBase64Table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<uint8_t>(c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 26);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0' + 52);
  t['+'] = t['-'] = 62;
  t['/'] = t['_'] = 63;
  return t;
}

constexpr auto kHex = MakeHexTable();
constexpr auto kBase64 = MakeBase64Table();
constexpr char kHexDigits[] = "0123456789abcdef";

// Parses 1 to 16 hex digits; false on any other character. Branch-free per digit: a bad
// character sets bits above the low nibble, checked once at the end.
bool ParseHex64(std::string_view s, uint64_t& value) {
  uint64_t v = 0;
  uint8_t seen = 0;
  for (char c : s) {
    const uint8_t d = kHex[static_cast<uint8_t>(c)];
    seen |= d;
    v = (v << 4) | (d & 0xf);
  }
  if ((seen & 0xf0) != 0) return false;
  value = v;
  return true;
}

// Decodes base64 into at most 16 bytes; returns the byte count, or 0 when malformed.
size_t DecodeBase64(std::string_view s, std::array<uint8_t, 16>& out) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1 || s.size() > 24) return 0;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const uint8_t d = kBase64[static_cast<uint8_t>(c)];
    if (d == kBad) return 0;
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == out.size()) return 0;
      out[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  return n;
}

uint64_t LoadBigEndian(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void StoreBigEndian(uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

void AppendHex64(uint64_t v, std::string& out) {
  char buf[16];
  for (int i = 15; i >= 0; --i) {
    buf[i] = kHexDigits[v & 0xf];
    v >>= 4;
  }
  out.append(buf, sizeof(buf));
}

}  // namespace

std::optional<TraceId> ParseTraceId(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.size() <= 32) {
    TraceId id;
    const size_t lo_digits = text.size() < 16 ? text.size() : 16;
    if (ParseHex64(text.substr(0, text.size() - lo_digits), id.hi) &&
        ParseHex64(text.substr(text.size() - lo_digits), id.lo)) {
      return id;
    }
  }
  std::array<uint8_t, 16> bytes;
  switch (DecodeBase64(text, bytes)) {
    case 8:
      return TraceId{0, LoadBigEndian(bytes.data())};
    case 16:
      return TraceId{LoadBigEndian(bytes.data()), LoadBigEndian(bytes.data() + 8)};
    default:
      return std::nullopt;
  }
}

std::optional<uint64_t> ParseSpanId(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t id;
  if (text.size() <= 16 && ParseHex64(text, id)) return id;
  std::array<uint8_t, 16> bytes;
  if (DecodeBase64(text, bytes) == 8) return LoadBigEndian(bytes.data());
  return std::nullopt;
}

std::optional<TraceId> TraceIdFromBytes(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return TraceId{LoadBigEndian(p), LoadBigEndian(p + 8)};
}

std::optional<uint64_t> SpanIdFromBytes(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  return LoadBigEndian(reinterpret_cast<const uint8_t*>(bytes.data()));
}

std::array<char, 16> TraceIdToBytes(const TraceId& id) {
  std::array<char, 16> out;
  StoreBigEndian(id.hi, out.data());
  StoreBigEndian(id.lo, out.data() + 8);
  return out;
}

std::array<char, 8> SpanIdToBytes(uint64_t id) {
  std::array<char, 8> out;
  StoreBigEndian(id, out.data());
  return out;
}

std::string FormatTraceId(const TraceId& id) {
  std::string out;
  out.reserve(32);
  AppendHex64(id.hi, out);
  AppendHex64(id.lo, out);
  return out;
}

std::string FormatSpanId(uint64_t id) {
  std::string out;
  out.reserve(16);
  AppendHex64(id, out);
  return out;
}

}  // namespace exporter::spans
