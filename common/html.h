#pragma once

#include <string>
#include <string_view>

namespace common {

// Appends `s` escaped for HTML text and double-quoted attribute values.
void AppendHtmlEscaped(std::string& out, std::string_view s);

inline std::string HtmlEscaped(std::string_view s) {
  std::string out;
  AppendHtmlEscaped(out, s);
  return out;
}

}  // namespace common
