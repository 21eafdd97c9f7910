#pragma once

#include <string_view>

namespace common {

// Points spdlog's default logger at stderr. level: trace|debug|info|warn|error.
// format: "text" (one human-readable line per record, colored on a terminal) or "json" (one
// object per line: {"time","level","msg"}, for log collectors). Times are UTC.
// Throws std::invalid_argument on an unknown level or format.
void InitLogging(std::string_view level, std::string_view format);

}  // namespace common
