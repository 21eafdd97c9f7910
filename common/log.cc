#include "common/log.h"

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace common {
namespace {

std::optional<spdlog::level::level_enum> FindLevel(std::string_view level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return std::nullopt;
}

spdlog::level::level_enum ParseLevel(std::string_view level) {
  if (const std::optional<spdlog::level::level_enum> found = FindLevel(level)) return *found;
  throw std::invalid_argument("unknown log level \"" + std::string(level) +
                              "\" (want trace, debug, info, warn or error)");
}

void AppendJsonString(std::string_view s, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  dest.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        dest.append(std::string_view("\\\""));
        break;
      case '\\':
        dest.append(std::string_view("\\\\"));
        break;
      case '\n':
        dest.append(std::string_view("\\n"));
        break;
      case '\r':
        dest.append(std::string_view("\\r"));
        break;
      case '\t':
        dest.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
          dest.append(escaped, escaped + sizeof(escaped));
        } else {
          dest.push_back(c);
        }
    }
  }
  dest.push_back('"');
}

// {"time":"2024-05-01T12:00:00.123Z","level":"info","msg":"..."}: the message is escaped,
// which spdlog's pattern flags cannot do.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const std::time_t seconds =
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char time[40];
    const size_t n = std::strftime(time, sizeof(time), "%Y-%m-%dT%H:%M:%S", &utc);
    dest.append(std::string_view(R"({"time":")"));
    dest.append(time, time + n);
    const char fraction[] = {'.',
                             static_cast<char>('0' + millis / 100),
                             static_cast<char>('0' + millis / 10 % 10),
                             static_cast<char>('0' + millis % 10),
                             'Z',
                             '"'};
    dest.append(fraction, fraction + sizeof(fraction));
    dest.append(std::string_view(R"(,"level":")"));
    const auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    dest.append(std::string_view(R"(","msg":)"));
    AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.append(std::string_view("}\n"));
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void InitLogging(std::string_view level, std::string_view format) {
  const spdlog::level::level_enum parsed = ParseLevel(level);
  spdlog::sink_ptr sink;
  if (format == "text") {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc));
  } else if (format == "json") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    throw std::invalid_argument("unknown log format \"" + std::string(format) +
                                "\" (want text or json)");
  }
  auto logger = std::make_shared<spdlog::logger>("queuelens", std::move(sink));
  logger->set_level(parsed);
  spdlog::set_default_logger(std::move(logger));
}

void RegisterLogFlags(FlagSet& flags, std::string* level, std::string* format) {
  flags.String("log.level", level, "trace, debug, info, warn or error");
  flags.String("log.format", format, "text or json");
}

void CheckLogFlags(std::string_view level, std::string_view format,
                   std::vector<std::string>& problems) {
  if (format != "text" && format != "json") {
    problems.push_back("--log.format must be text or json");
  }
  if (!FindLevel(level)) {
    problems.push_back("--log.level must be trace, debug, info, warn or error");
  }
}

}  // namespace common
