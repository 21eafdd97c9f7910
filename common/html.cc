#include "common/html.h"

#include <cmath>
#include <cstdio>

#include "common/version.h"

namespace common {

void AppendHtmlEscaped(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
}

void AppendStatusPageHead(std::string& out, std::string_view title, std::string_view style,
                          std::initializer_list<std::string_view> links) {
  out += "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>";
  out += title;
  out +=
      "</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
      "margin-bottom:1.2em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
      "td:first-child,th:first-child{text-align:left}";
  out += style;
  out += "</style></head><body>\n<h1>";
  out += title;
  out += "</h1>\n<p>version ";
  out += kVersion;
  for (std::string_view link : links) {
    out += " · <a href=\"";
    out += link;
    out += "\">";
    out += link;
    out += "</a>";
  }
  out += "</p>\n";
}

void AppendHtmlRow(std::string& out, std::initializer_list<std::string_view> cells, bool header) {
  out += "<tr>";
  for (std::string_view c : cells) {
    out += header ? "<th>" : "<td>";
    AppendHtmlEscaped(out, c);
    out += header ? "</th>" : "</td>";
  }
  out += "</tr>\n";
}

std::string HtmlNumber(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string HtmlMilliseconds(double seconds) {
  return std::isfinite(seconds) ? HtmlNumber(seconds * 1e3) + " ms" : "–";
}

}  // namespace common
