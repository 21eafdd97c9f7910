#include "exporter/kernel/parsers.h"

#include <charconv>
#include <limits>

namespace exporter::kernel {
namespace {

constexpr uint64_t kNanosPerMicro = 1000;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the next '\n'-terminated line (the last line may lack the newline).
std::string_view NextLine(std::string_view& text) {
  const size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

// Splits off the next whitespace-separated field; empty when none is left.
std::string_view NextField(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  size_t j = i;
  while (j < text.size() && !IsSpace(text[j])) ++j;
  std::string_view field = text.substr(i, j - i);
  text.remove_prefix(j);
  return field;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view s) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseU64(std::string_view s) { return ParseNumber<uint64_t>(s); }

// Microseconds as nanoseconds; nullopt when they do not fit 64 bits (a corrupt file, not a
// counter to wrap).
std::optional<uint64_t> MicrosToNanos(uint64_t us) {
  if (us > std::numeric_limits<uint64_t>::max() / kNanosPerMicro) return std::nullopt;
  return us * kNanosPerMicro;
}

// "key value" lines. Calls fn(key, value) for each; false when a line is not "key <uint64>".
template <typename Fn>
bool ForEachKeyValue(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    std::string_view key = NextField(line);
    if (key.empty()) continue;  // blank line
    const auto value = ParseU64(NextField(line));
    if (!value || !NextField(line).empty()) return false;
    fn(key, *value);
  }
  return true;
}

// "total=<µs>" in a PSI line.
std::optional<uint64_t> PressureTotal(std::string_view line) {
  for (std::string_view f = NextField(line); !f.empty(); f = NextField(line)) {
    if (f.substr(0, 6) == "total=") {
      const auto us = ParseU64(f.substr(6));
      if (!us) return std::nullopt;
      return MicrosToNanos(*us);
    }
  }
  return std::nullopt;
}

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<TaskSchedstat> ParseTaskSchedstat(std::string_view text) {
  const auto run = ParseU64(NextField(text));
  const auto wait = ParseU64(NextField(text));
  const auto slices = ParseU64(NextField(text));
  if (!run || !wait || !slices || !NextField(text).empty()) return std::nullopt;
  return TaskSchedstat{*run, *wait, *slices};
}

std::optional<NodeSchedstat> ParseNodeSchedstat(std::string_view text) {
  NodeSchedstat out;
  bool version_ok = false;
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    const std::string_view tag = NextField(line);
    if (tag == "version") {
      const auto v = ParseU64(NextField(line));
      // 15 dropped the yield counters; 16 and 17 changed domain lines only. cpu lines of other
      // versions have other fields, so they are not guessed at.
      if (!v || *v < 15 || *v > 17) return std::nullopt;
      version_ok = true;
    } else if (tag.substr(0, 3) == "cpu") {
      if (!version_ok) return std::nullopt;
      uint64_t fields[9];
      for (uint64_t& f : fields) {
        const auto v = ParseU64(NextField(line));
        if (!v) return std::nullopt;
        f = *v;
      }
      out.run_ns += fields[6];
      out.wait_ns += fields[7];
      out.timeslices += fields[8];
      ++out.cpus;
    }
  }
  if (!version_ok) return std::nullopt;
  return out;
}

std::optional<Pressure> ParsePressure(std::string_view text) {
  Pressure out;
  bool some = false;
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    const std::string_view tag = NextField(line);
    if (tag == "some" || tag == "full") {
      const auto total = PressureTotal(line);
      if (!total) return std::nullopt;
      if (tag == "some") {
        out.some_ns = *total;
        some = true;
      } else {
        out.full_ns = *total;
      }
    } else if (!tag.empty()) {
      return std::nullopt;
    }
  }
  if (!some) return std::nullopt;
  return out;
}

std::optional<CpuStat> ParseCpuStatV2(std::string_view text) {
  CpuStat out;
  bool fits = true;
  const bool ok = ForEachKeyValue(text, [&out, &fits](std::string_view key, uint64_t v) {
    if (key == "usage_usec") {
      out.usage_ns = MicrosToNanos(v);
      fits = fits && out.usage_ns;
    } else if (key == "nr_periods") {
      out.periods = v;
    } else if (key == "nr_throttled") {
      out.throttled_periods = v;
    } else if (key == "throttled_usec") {
      out.throttled_ns = MicrosToNanos(v);
      fits = fits && out.throttled_ns;
    }
  });
  if (!ok || !fits || !out.usage_ns) return std::nullopt;
  return out;
}

std::optional<CpuStat> ParseCpuStatV1(std::string_view text) {
  CpuStat out;
  const bool ok = ForEachKeyValue(text, [&out](std::string_view key, uint64_t v) {
    if (key == "nr_periods") {
      out.periods = v;
    } else if (key == "nr_throttled") {
      out.throttled_periods = v;
    } else if (key == "throttled_time") {
      out.throttled_ns = v;
    }
  });
  if (!ok || !out.periods) return std::nullopt;
  return out;
}

std::optional<uint64_t> ParseCpuacctUsage(std::string_view text) { return ParseU64(Trim(text)); }

std::optional<CpuQuota> ParseCpuMax(std::string_view text) {
  const std::string_view max = NextField(text);
  const auto period = ParseNumber<int64_t>(NextField(text));
  if (!period || *period <= 0 || !NextField(text).empty()) return std::nullopt;
  if (max == "max") return CpuQuota{-1, *period};
  const auto quota = ParseNumber<int64_t>(max);
  if (!quota || *quota <= 0) return std::nullopt;
  return CpuQuota{*quota, *period};
}

std::optional<int64_t> ParseSingleInt(std::string_view text) {
  return ParseNumber<int64_t>(Trim(text));
}

std::optional<double> LimitCores(const CpuQuota& quota) {
  if (quota.quota_us < 0 || quota.period_us <= 0) return std::nullopt;
  return static_cast<double>(quota.quota_us) / static_cast<double>(quota.period_us);
}

size_t ParseIdList(std::string_view text, std::vector<int32_t>& out) {
  out.clear();
  size_t malformed = 0;
  while (!text.empty()) {
    const std::string_view line = Trim(NextLine(text));
    if (line.empty()) continue;
    const auto id = ParseNumber<int32_t>(line);
    if (id && *id > 0) {
      out.push_back(*id);
    } else {
      ++malformed;
    }
  }
  return malformed;
}

std::optional<std::string_view> FindEnv(std::string_view environ, std::string_view key) {
  while (!environ.empty()) {
    const size_t end = environ.find('\0');
    const std::string_view entry = environ.substr(0, end);
    environ.remove_prefix(end == std::string_view::npos ? environ.size() : end + 1);
    if (entry.size() > key.size() && entry.substr(0, key.size()) == key &&
        entry[key.size()] == '=') {
      return entry.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

std::optional<int> ParseCpuList(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  int count = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view range = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    const size_t dash = range.find('-');
    const auto first = ParseNumber<int>(range.substr(0, dash));
    const auto last =
        dash == std::string_view::npos ? first : ParseNumber<int>(range.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    // In 64 bits: "0-2147483647" holds more CPUs than an int counts.
    const int64_t n = int64_t{*last} - *first + 1;
    if (n > std::numeric_limits<int>::max() - count) return std::nullopt;
    count += static_cast<int>(n);
  }
  return count;
}

std::vector<Mount> ParseMountinfo(std::string_view text) {
  std::vector<Mount> out;
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    std::string_view fields[5];
    for (std::string_view& f : fields) f = NextField(line);
    if (fields[4].empty()) continue;
    // Optional fields ("shared:1", "master:2") run up to a lone "-".
    std::string_view f = NextField(line);  // mount options
    do {
      f = NextField(line);
    } while (!f.empty() && f != "-");
    if (f != "-") continue;
    const std::string_view fs_type = NextField(line);
    NextField(line);  // mount source
    const std::string_view super_options = NextField(line);
    if (fs_type.empty()) continue;
    out.push_back({Unescape(fields[3]), Unescape(fields[4]), std::string(fs_type),
                   std::string(super_options)});
  }
  return out;
}

}  // namespace exporter::kernel
