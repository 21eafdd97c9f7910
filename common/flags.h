#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"

namespace common {

// "250ms", "5s", "1m30s", "1.5h", "0". Units: ns, us (or µs), ms, s, m, h. Not negative.
std::optional<Duration> ParseDuration(std::string_view text);
// The shortest text ParseDuration reads back exactly: "1m30s", "250ms", "1.5s", "0s".
std::string FormatDuration(Duration d);

// "512", "64KiB", "4MiB", "1GiB", "1.5MB". Binary units KiB..TiB, decimal KB..TB, and B.
std::optional<size_t> ParseBytes(std::string_view text);
// The largest binary unit that divides `bytes` exactly: "64KiB", "1GiB", "1000".
std::string FormatBytes(size_t bytes);

// Command-line flags: --name=value, --name value, and for booleans --name, --no-name,
// --name=false. Each flag writes into a target whose value at registration is the default.
// Registration errors (a duplicate or badly formed name) throw std::invalid_argument.
class FlagSet {
 public:
  enum class Outcome { kOk, kHelp, kError };

  FlagSet(std::string program, std::string summary);

  void String(std::string name, std::string* target, std::string help);
  // Repeatable; the first use on the command line replaces the default list.
  void StringList(std::string name, std::vector<std::string>* target, std::string help);
  void Int(std::string name, int64_t* target, std::string help);
  void Double(std::string name, double* target, std::string help);
  void Bool(std::string name, bool* target, std::string help);
  void Duration(std::string name, common::Duration* target, std::string help);
  void Bytes(std::string name, size_t* target, std::string help);

  // Unknown flag, bad or missing value: kError and a message naming the flag. --help or -h:
  // kHelp. Anything not starting with "-" (and everything after "--") is positional.
  Outcome Parse(int argc, const char* const* argv, std::string* error);

  // Parse() for a command's main(): with --help prints Usage() to stdout and returns 0; on an
  // error prints "<program>: <error>" and a pointer to --help to stderr and returns 2; nullopt
  // when the command should run.
  std::optional<int> ParseOrExitCode(int argc, const char* const* argv);

  // --help text: each flag with its default and help.
  std::string Usage() const;
  // | Flag | Default | Description |, for the README.
  std::string MarkdownTable() const;

  const std::vector<std::string>& positional() const { return positional_; }

 private:
  using Target = std::variant<std::string*, std::vector<std::string>*, int64_t*, double*, bool*,
                              common::Duration*, size_t*>;
  struct Flag {
    std::string name;
    Target target;
    std::string help;
    std::string default_text;
    std::string value_hint;  // " <int>" etc. in Usage(); empty for booleans
    bool seen = false;
  };

  void Add(std::string name, Target target, std::string help);
  Flag* Find(std::string_view name);
  // Stores `value` into the flag's target; false and a message on a bad value.
  static bool Set(Flag& flag, std::string_view value, std::string* error);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;  // in registration order, which is the order of Usage()
  std::vector<std::string> positional_;
};

}  // namespace common
