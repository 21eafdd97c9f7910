#include "common/flags.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>

namespace common {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t scale;
};

// Longer suffixes first, so "ms" is not read as "m" followed by garbage.
constexpr Unit kDurationUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\u00b5s", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

constexpr Unit kByteUnits[] = {
    {"KiB", uint64_t{1} << 10},
    {"MiB", uint64_t{1} << 20},
    {"GiB", uint64_t{1} << 30},
    {"TiB", uint64_t{1} << 40},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
    {"B", 1},
};

// Reads "<digits>[.<digits>]" from the front of `text` and returns it times `scale` (rounded
// to an integer), or nullopt on bad syntax or overflow. `scale` comes from the suffix that
// `unit_of` finds right after the number.
template <class UnitOf>
std::optional<uint64_t> ReadScaled(std::string_view& text, UnitOf unit_of) {
  uint64_t whole = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), whole);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  std::string_view fraction;
  if (text.starts_with('.')) {
    size_t n = 1;
    while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
    fraction = text.substr(1, n - 1);
    if (fraction.empty()) return std::nullopt;
    text.remove_prefix(n);
  }
  const std::optional<uint64_t> scale = unit_of(text);
  if (!scale) return std::nullopt;
  uint64_t value = 0;
  if (__builtin_mul_overflow(whole, *scale, &value)) return std::nullopt;
  if (!fraction.empty()) {
    // The fractional part is below one unit, so a double holds it to well under 1 ns or 1 byte;
    // digits past the 18th cannot matter.
    fraction = fraction.substr(0, 18);
    uint64_t digits = 0;
    std::from_chars(fraction.data(), fraction.data() + fraction.size(), digits);
    const double f = static_cast<double>(digits) / std::pow(10.0, fraction.size());
    const auto extra = static_cast<uint64_t>(std::llround(f * static_cast<double>(*scale)));
    if (__builtin_add_overflow(value, extra, &value)) return std::nullopt;
  }
  return value;
}

// Matches one unit suffix at the front of `text` and consumes it.
std::optional<uint64_t> TakeUnit(std::string_view& text, const Unit* begin, const Unit* end) {
  for (const Unit* u = begin; u != end; ++u) {
    if (text.starts_with(u->suffix)) {
      text.remove_prefix(u->suffix.size());
      return u->scale;
    }
  }
  return std::nullopt;
}

std::string FormatDouble(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name == "help" || name.starts_with("no-")) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text == "0") return Duration::zero();
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  while (!text.empty()) {
    const auto part = ReadScaled(text, [](std::string_view& rest) {
      return TakeUnit(rest, std::begin(kDurationUnits), std::end(kDurationUnits));
    });
    if (!part || __builtin_add_overflow(total, *part, &total)) return std::nullopt;
  }
  if (total > static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max())) {
    return std::nullopt;
  }
  return Duration{static_cast<Duration::rep>(total)};
}

std::string FormatDuration(Duration d) {
  using std::chrono::hours;
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::seconds;
  if (d == Duration::zero()) return "0s";
  if (d < Duration::zero()) return "-" + FormatDuration(-d);
  if (d < seconds{1}) {
    if (d % milliseconds{1} == Duration::zero()) return std::to_string(d / milliseconds{1}) + "ms";
    if (d % microseconds{1} == Duration::zero()) return std::to_string(d / microseconds{1}) + "us";
    return std::to_string(d.count()) + "ns";
  }
  std::string out;
  if (d >= hours{1}) out += std::to_string(d / hours{1}) + "h";
  d %= hours{1};
  if (d >= minutes{1}) out += std::to_string(d / minutes{1}) + "m";
  d %= minutes{1};
  if (d > Duration::zero()) {
    out += std::to_string(d / seconds{1});
    if (const int64_t nanos = (d % seconds{1}).count(); nanos != 0) {
      std::string digits = std::to_string(nanos);
      digits.insert(0, 9 - digits.size(), '0');
      digits.erase(digits.find_last_not_of('0') + 1);
      out += "." + digits;
    }
    out += "s";
  }
  return out;
}

std::optional<size_t> ParseBytes(std::string_view text) {
  const auto bytes = ReadScaled(text, [](std::string_view& rest) -> std::optional<uint64_t> {
    if (rest.empty()) return 1;
    return TakeUnit(rest, std::begin(kByteUnits), std::end(kByteUnits));
  });
  if (!bytes || !text.empty() || *bytes > std::numeric_limits<size_t>::max()) return std::nullopt;
  return static_cast<size_t>(*bytes);
}

std::string FormatBytes(size_t bytes) {
  static constexpr Unit kBinary[] = {{"TiB", uint64_t{1} << 40},
                                     {"GiB", uint64_t{1} << 30},
                                     {"MiB", uint64_t{1} << 20},
                                     {"KiB", uint64_t{1} << 10}};
  for (const Unit& u : kBinary) {
    if (bytes != 0 && bytes % u.scale == 0) {
      return std::to_string(bytes / u.scale) + std::string(u.suffix);
    }
  }
  return std::to_string(bytes);
}

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::String(std::string name, std::string* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::StringList(std::string name, std::vector<std::string>* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::Int(std::string name, int64_t* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::Double(std::string name, double* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::Bool(std::string name, bool* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::Duration(std::string name, common::Duration* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}
void FlagSet::Bytes(std::string name, size_t* target, std::string help) {
  Add(std::move(name), target, std::move(help));
}

void FlagSet::Add(std::string name, Target target, std::string help) {
  if (!ValidName(name)) {
    throw std::invalid_argument("bad flag name \"" + name +
                                "\": use [a-z0-9._-], not \"help\" or a \"no-\" prefix");
  }
  if (Find(name)) throw std::invalid_argument("flag --" + name + " registered twice");
  std::string default_text;
  std::string value_hint;
  if (auto* s = std::get_if<std::string*>(&target)) {
    default_text = **s;
    value_hint = " <string>";
  } else if (auto* list = std::get_if<std::vector<std::string>*>(&target)) {
    default_text = Join(**list);
    value_hint = " <string> (repeatable)";
  } else if (auto* i = std::get_if<int64_t*>(&target)) {
    default_text = std::to_string(**i);
    value_hint = " <int>";
  } else if (auto* d = std::get_if<double*>(&target)) {
    default_text = FormatDouble(**d);
    value_hint = " <number>";
  } else if (auto* b = std::get_if<bool*>(&target)) {
    default_text = **b ? "true" : "false";
  } else if (auto* dur = std::get_if<common::Duration*>(&target)) {
    default_text = FormatDuration(**dur);
    value_hint = " <duration>";
  } else if (auto* bytes = std::get_if<size_t*>(&target)) {
    default_text = FormatBytes(**bytes);
    value_hint = " <bytes>";
  }
  flags_.push_back(Flag{std::move(name), target, std::move(help), std::move(default_text),
                        std::move(value_hint)});
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::Set(Flag& flag, std::string_view value, std::string* error) {
  const auto bad = [&](std::string_view expected) {
    *error = "invalid value " + Quoted(value) + " for --" + flag.name + ": expected " +
             std::string(expected);
    return false;
  };
  const char* const first = value.data();
  const char* const last = value.data() + value.size();
  if (auto* s = std::get_if<std::string*>(&flag.target)) {
    **s = value;
  } else if (auto* list = std::get_if<std::vector<std::string>*>(&flag.target)) {
    if (!flag.seen) (*list)->clear();
    (*list)->emplace_back(value);
  } else if (auto* i = std::get_if<int64_t*>(&flag.target)) {
    const auto [end, ec] = std::from_chars(first, last, **i);
    if (ec != std::errc{} || end != last || value.empty()) return bad("an integer");
  } else if (auto* d = std::get_if<double*>(&flag.target)) {
    double parsed = 0;
    const auto [end, ec] = std::from_chars(first, last, parsed);
    if (ec != std::errc{} || end != last || value.empty() || !std::isfinite(parsed)) {
      return bad("a number");
    }
    **d = parsed;
  } else if (auto* b = std::get_if<bool*>(&flag.target)) {
    if (value == "true" || value == "1") {
      **b = true;
    } else if (value == "false" || value == "0") {
      **b = false;
    } else {
      return bad("true or false");
    }
  } else if (auto* dur = std::get_if<common::Duration*>(&flag.target)) {
    const auto parsed = ParseDuration(value);
    if (!parsed) return bad("a duration such as 250ms, 5s, 1m30s or 1h");
    **dur = *parsed;
  } else if (auto* bytes = std::get_if<size_t*>(&flag.target)) {
    const auto parsed = ParseBytes(value);
    if (!parsed) return bad("a size such as 512, 64KiB, 4MiB or 1GB");
    **bytes = *parsed;
  }
  flag.seen = true;
  return true;
}

FlagSet::Outcome FlagSet::Parse(int argc, const char* const* argv, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), argv + i + 1, argv + argc);
      break;
    }
    if (arg == "--help" || arg == "-h") return Outcome::kHelp;
    if (arg == "-" || !arg.starts_with('-')) {
      positional_.emplace_back(arg);
      continue;
    }
    if (!arg.starts_with("--")) {
      *error = "unknown flag " + std::string(arg) + " (flags start with --)";
      return Outcome::kError;
    }
    const std::string_view body = arg.substr(2);
    const size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    const bool inline_value = eq != std::string_view::npos;
    Flag* flag = Find(name);
    if (!flag && name.starts_with("no-")) {
      Flag* negated = Find(name.substr(3));
      if (negated && std::holds_alternative<bool*>(negated->target)) {
        if (inline_value) {
          *error = "flag --" + std::string(name) + " takes no value";
          return Outcome::kError;
        }
        *std::get<bool*>(negated->target) = false;
        negated->seen = true;
        continue;
      }
    }
    if (!flag) {
      *error = "unknown flag --" + std::string(name);
      return Outcome::kError;
    }
    std::string_view value;
    if (inline_value) {
      value = body.substr(eq + 1);
    } else if (std::holds_alternative<bool*>(flag->target)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = "missing value for --" + flag->name;
      return Outcome::kError;
    }
    if (!Set(*flag, value, error)) return Outcome::kError;
  }
  return Outcome::kOk;
}

std::optional<int> FlagSet::ParseOrExitCode(int argc, const char* const* argv) {
  std::string error;
  switch (Parse(argc, argv, &error)) {
    case Outcome::kHelp:
      std::fputs(Usage().c_str(), stdout);
      return 0;
    case Outcome::kError:
      std::fprintf(stderr, "%s: %s\n(see --help)\n", program_.c_str(), error.c_str());
      return 2;
    case Outcome::kOk:
      break;
  }
  return std::nullopt;
}

std::string FlagSet::Usage() const {
  std::string out = "Usage: " + program_ + " [flags]\n\n" + summary_ + "\n\nFlags:\n";
  for (const Flag& f : flags_) {
    const bool is_bool = std::holds_alternative<bool*>(f.target);
    out += "  --" + std::string(is_bool ? "[no-]" : "") + f.name + f.value_hint;
    out += "\n      " + f.help;
    if (!f.default_text.empty()) {
      const bool is_string = std::holds_alternative<std::string*>(f.target);
      out += " (default " + (is_string ? Quoted(f.default_text) : f.default_text) + ")";
    }
    out += "\n";
  }
  out += "  --help\n      Show this help and exit.\n";
  return out;
}

std::string FlagSet::MarkdownTable() const {
  const auto cell = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '|') out += '\\';
      out += c == '\n' ? ' ' : c;
    }
    return out;
  };
  std::string out = "| Flag | Default | Description |\n|---|---|---|\n";
  for (const Flag& f : flags_) {
    out += "| `--" + f.name + "` | ";
    if (!f.default_text.empty()) out += "`" + cell(f.default_text) + "`";
    out += " | " + cell(f.help) + " |\n";
  }
  return out;
}

}  // namespace common
