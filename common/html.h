#pragma once

#include <initializer_list>
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

// The status pages of queuelens-exporter and queuelens-recommender.

// The page up to its first section: `title` as title and heading, the shared table style and
// `style`, the version and a link to each path of `links`.
void AppendStatusPageHead(std::string& out, std::string_view title, std::string_view style,
                          std::initializer_list<std::string_view> links);
// One table row of escaped cells; <th> cells when `header`.
void AppendHtmlRow(std::string& out, std::initializer_list<std::string_view> cells,
                   bool header = false);
// Three significant digits ("0.125", "1.5e+03"); "–" when not finite (no data).
std::string HtmlNumber(double v);
// Seconds as milliseconds with three significant digits ("12.5 ms"); "–" when not finite.
std::string HtmlMilliseconds(double seconds);

}  // namespace common
