#include "common/html.h"

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

}  // namespace common
