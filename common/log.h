#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/flags.h"

namespace common {

// Points spdlog's default logger at stderr. level: trace|debug|info|warn|error.
// format: "text" (one human-readable line per record, colored on a terminal) or "json" (one
// object per line: {"time","level","msg"}, for log collectors). Times are UTC.
// Throws std::invalid_argument on an unknown level or format.
void InitLogging(std::string_view level, std::string_view format);

// --log.level and --log.format, the two arguments of InitLogging, into `level` and `format`.
void RegisterLogFlags(FlagSet& flags, std::string* level, std::string* format);
// Appends what InitLogging would reject about them to `problems`, so it is reported with the
// other configuration problems instead of failing after them.
void CheckLogFlags(std::string_view level, std::string_view format,
                   std::vector<std::string>& problems);

}  // namespace common
