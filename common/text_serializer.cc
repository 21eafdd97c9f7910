#include "common/text_serializer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace common {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Room for any double or 64-bit integer from std::to_chars ("-2.2250738585072014e-308" is 24).
constexpr size_t kNumberChars = 32;

// Writes through a raw pointer into `out`, growing it in large steps, and trims it to the
// written size when done. Each line reserves its worst case once instead of appending piecewise.
class Buffer {
 public:
  explicit Buffer(std::string& out) : out_(out), size_(out.size()) {}
  ~Buffer() { out_.resize(size_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  char* Reserve(size_t n) {
    if (out_.size() - size_ < n) {
      // Take all the capacity a reused buffer already has in one step.
      out_.resize(std::max({size_ + n, out_.capacity(), 2 * out_.size(), size_t{1} << 16}));
    }
    return out_.data() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<size_t>(end - out_.data()); }

 private:
  std::string& out_;
  size_t size_;
};

struct Bytes16 {
  char bytes[16];
};

template <class T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <class T>
void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// memcpy for the short pieces of a metric line, inlined: two overlapping fixed-size moves
// instead of a library call per label name and value.
inline char* Put(char* p, std::string_view s) {
  const char* src = s.data();
  const size_t n = s.size();
  if (n > 16 && n <= 32) {
    const auto head = Load<Bytes16>(src);
    const auto tail = Load<Bytes16>(src + n - 16);
    Store(p, head);
    Store(p + n - 16, tail);
  } else if (n >= 8 && n <= 16) {
    const auto head = Load<uint64_t>(src);
    const auto tail = Load<uint64_t>(src + n - 8);
    Store(p, head);
    Store(p + n - 8, tail);
  } else if (n >= 4 && n < 8) {
    const auto head = Load<uint32_t>(src);
    const auto tail = Load<uint32_t>(src + n - 4);
    Store(p, head);
    Store(p + n - 4, tail);
  } else if (n > 0 && n < 4) {
    p[0] = src[0];
    p[n / 2] = src[n / 2];
    p[n - 1] = src[n - 1];
  } else if (n > 32) {
    std::memcpy(p, src, n);
  }
  return p + n;
}

// Whether a 64-bit word holds byte b (the classic "has zero byte" test on w ^ b...b).
constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighs = 0x8080808080808080;
inline uint64_t HasByte(uint64_t w, uint8_t b) {
  const uint64_t x = w ^ (kOnes * b);
  return (x - kOnes) & ~x & kHighs;
}

// Non-zero if the word holds a byte that needs escaping: \\, " or newline.
inline uint64_t Special(uint64_t w) {
  return HasByte(w, '\\') | HasByte(w, '"') | HasByte(w, '\n');
}

// Copies `s` to `p` like Put() and tells whether it needs escaping, testing the very words it
// moves. (Reading the copy back instead stalls: the load spans several smaller stores.)
inline bool PutAndScan(char* p, std::string_view s) {
  const char* src = s.data();
  const size_t n = s.size();
  uint64_t hit = 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      const auto w = Load<uint64_t>(src + i);
      Store(p + i, w);
      hit |= Special(w);
    }
    const auto last = Load<uint64_t>(src + n - 8);  // overlaps the previous word
    Store(p + n - 8, last);
    hit |= Special(last);
  } else if (n >= 4) {
    const auto head = Load<uint32_t>(src);
    const auto tail = Load<uint32_t>(src + n - 4);
    Store(p, head);
    Store(p + n - 4, tail);
    hit = Special(uint64_t{head} << 32 | tail);
  } else if (n > 0) {
    const auto a = static_cast<uint8_t>(src[0]);
    const auto b = static_cast<uint8_t>(src[n / 2]);
    const auto c = static_cast<uint8_t>(src[n - 1]);
    p[0] = src[0];
    p[n / 2] = src[n / 2];
    p[n - 1] = src[n - 1];
    hit = Special(uint64_t{a} | uint64_t{b} << 8 | uint64_t{c} << 16);  // zero bytes never match
  }
  return hit != 0;
}

// Label values escape \\ " and newline; HELP text escapes only \\ and newline. Needs 2 * size.
char* PutEscaped(char* p, std::string_view s, bool quotes) {
  if (!PutAndScan(p, s)) return p + s.size();
  for (char c : s) {
    if (c == '\\' || (c == '"' && quotes)) {
      *p++ = '\\';
      *p++ = c;
    } else if (c == '\n') {
      *p++ = '\\';
      *p++ = 'n';
    } else {
      *p++ = c;
    }
  }
  return p;
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Decimal digits, two at a time from the end.
char* PutNumber(char* p, uint64_t v) {
  int digits = 1;
  for (uint64_t x = v; x >= 10; x /= 10) ++digits;
  char* end = p + digits;
  char* q = end;
  while (v >= 100) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[2 * (v % 100)], 2);
    v /= 100;
  }
  if (v >= 10) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[2 * v], 2);
  } else {
    *--q = static_cast<char>('0' + v);
  }
  return end;
}

char* PutNumber(char* p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return PutNumber(p, ~static_cast<uint64_t>(v) + 1);
  }
  return PutNumber(p, static_cast<uint64_t>(v));
}

char* PutNumber(char* p, double v) {
  if (std::isnan(v)) return Put(p, "NaN");
  if (std::isinf(v)) return Put(p, v > 0 ? "+Inf" : "-Inf");
  const double magnitude = std::abs(v);
  // Counters and counts are usually whole numbers: print them as integers, which is both faster
  // and nicer than the shortest form ("100000", not "1e+05").
  if (magnitude < 0x1p53) {
    const auto whole = static_cast<int64_t>(v);
    if (static_cast<double>(whole) == v) return PutNumber(p, whole);
  }
  // Most other values are short decimals (0.25, 12.5, 0.0421). Below 2^22 a double's spacing is
  // under 1e-9, so at most one decimal with nine fraction digits reads back as v, and when
  // scaled / 1e9 == v it is that one: IEEE division rounds exactly as parsing the text does.
  // Dropping its trailing zeros then gives the shortest form, and from 1e-3 up std::to_chars
  // would not pick exponent notation either, so the text is the same.
  if (magnitude >= 1e-3 && magnitude < 0x1p22) {
    // Adding and removing 2^52 rounds to an integer without a libm call (the product < 2^52).
    const double scaled = (magnitude * 1e9 + 0x1p52) - 0x1p52;
    if (scaled / 1e9 == magnitude) {
      const auto nanos = static_cast<uint64_t>(scaled);
      if (v < 0) *p++ = '-';
      p = PutNumber(p, nanos / 1'000'000'000);
      uint64_t fraction = nanos % 1'000'000'000;
      int digits = 9;
      while (fraction % 10 == 0) {
        fraction /= 10;
        --digits;
      }
      *p++ = '.';
      char* end = p + digits;
      for (char* q = end; q != p;) {
        *--q = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
      }
      return end;
    }
  }
  return std::to_chars(p, p + kNumberChars, v).ptr;
}

size_t LabelsBound(const Labels& labels) {
  size_t n = 0;
  for (const auto& l : labels) n += l.name.size() + 2 * l.value.size() + 4;
  return n;
}

// name="value",... without braces.
char* PutLabels(char* p, const Labels& labels) {
  bool first = true;
  for (const auto& l : labels) {
    if (!first) *p++ = ',';
    first = false;
    p = Put(p, l.name);
    *p++ = '=';
    *p++ = '"';
    p = PutEscaped(p, l.value, /*quotes=*/true);
    *p++ = '"';
  }
  return p;
}

char* PutTimestamp(char* p, int64_t timestamp_ms) {
  if (timestamp_ms == 0) return p;
  *p++ = ' ';
  return PutNumber(p, timestamp_ms);
}

// Counter, gauge and untyped: one line, labels rendered straight into the output.
void PutSimple(Buffer& buf, const std::string& name, const ClientMetric& m, double value) {
  char* p = buf.Reserve(name.size() + LabelsBound(m.label) + 2 * kNumberChars + 4);
  p = Put(p, name);
  if (!m.label.empty()) {
    *p++ = '{';
    p = PutLabels(p, m.label);
    *p++ = '}';
  }
  *p++ = ' ';
  p = PutNumber(p, value);
  p = PutTimestamp(p, m.timestamp_ms);
  *p++ = '\n';
  buf.Commit(p);
}

// Lines of a histogram or summary share one pre-rendered label block; `extra` is a complete
// label such as le="0.5" or empty.
template <class Value>
void PutSample(Buffer& buf, std::string_view name, std::string_view suffix, std::string_view labels,
               std::string_view extra, Value value, int64_t timestamp_ms) {
  char* p = buf.Reserve(name.size() + suffix.size() + labels.size() + extra.size() +
                        2 * kNumberChars + 6);
  p = Put(p, name);
  p = Put(p, suffix);
  if (!labels.empty() || !extra.empty()) {
    *p++ = '{';
    p = Put(p, labels);
    if (!labels.empty() && !extra.empty()) *p++ = ',';
    p = Put(p, extra);
    *p++ = '}';
  }
  *p++ = ' ';
  p = PutNumber(p, value);
  p = PutTimestamp(p, timestamp_ms);
  *p++ = '\n';
  buf.Commit(p);
}

void RenderLabels(const Labels& labels, std::string& block) {
  block.resize(LabelsBound(labels));
  block.resize(static_cast<size_t>(PutLabels(block.data(), labels) - block.data()));
}

// `name="<number>"`, e.g. le="0.25".
void RenderBound(std::string_view label, double bound, std::string& out) {
  out.resize(label.size() + kNumberChars + 3);
  char* p = out.data();
  p = Put(p, label);
  *p++ = '=';
  *p++ = '"';
  p = PutNumber(p, bound);
  *p++ = '"';
  out.resize(static_cast<size_t>(p - out.data()));
}

// Per-call scratch space. Histograms of one family nearly always share bucket bounds, so the
// rendered le="..." labels are kept and only re-rendered when a bound differs.
struct Scratch {
  std::string labels;
  std::string extra;
  std::vector<double> bounds;
  std::vector<std::string> le;
};

void PutHistogram(Buffer& buf, const std::string& name, const ClientMetric& m, Scratch& s) {
  const auto& h = m.histogram;
  RenderLabels(m.label, s.labels);
  PutSample(buf, name, "_count", s.labels, {}, h.sample_count, m.timestamp_ms);
  PutSample(buf, name, "_sum", s.labels, {}, h.sample_sum, m.timestamp_ms);
  if (s.le.size() < h.bucket.size()) {
    s.le.resize(h.bucket.size());
    s.bounds.resize(h.bucket.size(), std::numeric_limits<double>::quiet_NaN());
  }
  for (size_t i = 0; i < h.bucket.size(); ++i) {
    const double bound = h.bucket[i].upper_bound;
    if (!(s.bounds[i] == bound)) {
      RenderBound("le", bound, s.le[i]);
      s.bounds[i] = bound;
    }
    PutSample(buf, name, "_bucket", s.labels, s.le[i], h.bucket[i].cumulative_count,
              m.timestamp_ms);
  }
  if (h.bucket.empty() || h.bucket.back().upper_bound != std::numeric_limits<double>::infinity()) {
    PutSample(buf, name, "_bucket", s.labels, R"(le="+Inf")", h.sample_count, m.timestamp_ms);
  }
}

void PutSummary(Buffer& buf, const std::string& name, const ClientMetric& m, Scratch& s) {
  const auto& summary = m.summary;
  RenderLabels(m.label, s.labels);
  PutSample(buf, name, "_count", s.labels, {}, summary.sample_count, m.timestamp_ms);
  PutSample(buf, name, "_sum", s.labels, {}, summary.sample_sum, m.timestamp_ms);
  for (const auto& q : summary.quantile) {
    RenderBound("quantile", q.quantile, s.extra);
    PutSample(buf, name, "", s.labels, s.extra, q.value, m.timestamp_ms);
  }
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

void PutComment(Buffer& buf, std::string_view keyword, const std::string& name,
                std::string_view text, bool escape) {
  char* p = buf.Reserve(keyword.size() + name.size() + 2 * text.size() + 4);
  p = Put(p, "# ");
  p = Put(p, keyword);
  *p++ = ' ';
  p = Put(p, name);
  *p++ = ' ';
  p = escape ? PutEscaped(p, text, /*quotes=*/false) : Put(p, text);
  *p++ = '\n';
  buf.Commit(p);
}

}  // namespace

void AppendText(const std::vector<MetricFamily>& families, std::string& out) {
  Buffer buf(out);
  Scratch scratch;
  for (const MetricFamily& family : families) {
    if (!family.help.empty()) PutComment(buf, "HELP", family.name, family.help, true);
    PutComment(buf, "TYPE", family.name, TypeName(family.type), false);
    for (const ClientMetric& m : family.metric) {
      switch (family.type) {
        case MetricType::Counter:
          PutSimple(buf, family.name, m, m.counter.value);
          break;
        case MetricType::Gauge:
          PutSimple(buf, family.name, m, m.gauge.value);
          break;
        case MetricType::Untyped:
          PutSimple(buf, family.name, m, m.untyped.value);
          break;
        case MetricType::Summary:
          PutSummary(buf, family.name, m, scratch);
          break;
        case MetricType::Histogram:
          PutHistogram(buf, family.name, m, scratch);
          break;
      }
    }
  }
}

}  // namespace common
