#pragma once

#include <initializer_list>
#include <span>
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

// A small inline SVG chart (no script, so it renders wherever the page does): every series is a
// line over the same evenly spaced x positions, the first solid and the others dashed, on one
// y scale from 0 (or the lowest value, if negative) to the highest; a non-finite value is a gap.
// `title` heads it with the latest value of the first series and the scale's top.
void AppendSparkline(std::string& out, std::string_view title,
                     std::initializer_list<std::span<const double>> series);

}  // namespace common
