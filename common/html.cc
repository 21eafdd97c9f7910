#include "common/html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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

void AppendSparkline(std::string& out, std::string_view title,
                     std::initializer_list<std::span<const double>> series) {
  constexpr double kWidth = 220, kHeight = 44, kTop = 14;
  double lo = 0, hi = -std::numeric_limits<double>::infinity();
  size_t n = 0;
  for (std::span<const double> s : series) {
    n = std::max(n, s.size());
    for (double v : s) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  double latest = std::numeric_limits<double>::quiet_NaN();
  if (series.size() > 0) {
    for (double v : *series.begin()) {
      if (std::isfinite(v)) latest = v;
    }
  }
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\"><text x=\"0\" y=\"10\">",
                kWidth, kTop + kHeight + 2);
  out += buf;
  AppendHtmlEscaped(out, title);
  out += " " + HtmlNumber(latest) + " (top " + HtmlNumber(hi) + ")</text>";
  std::snprintf(buf, sizeof buf,
                "<rect x=\"0\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                "stroke=\"#ddd\"/>",
                kTop, kWidth, kHeight);
  out += buf;
  const double dx = n > 1 ? kWidth / static_cast<double>(n - 1) : 0;
  bool first = true;
  for (std::span<const double> s : series) {
    std::string path;
    bool pen_down = false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (!std::isfinite(s[i])) {
        pen_down = false;
        continue;
      }
      std::snprintf(buf, sizeof buf, "%c%.1f,%.1f ", pen_down ? 'L' : 'M',
                    dx * static_cast<double>(i), kTop + kHeight * (1 - (s[i] - lo) / (hi - lo)));
      path += buf;
      pen_down = true;
    }
    out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" +
           (first ? "#1f77b4\"" : "#d62728\" stroke-dasharray=\"4 2\"") + "/>";
    first = false;
  }
  out += "</svg>";
}

}  // namespace common
