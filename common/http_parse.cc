#include "common/http_parse.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace common {

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

namespace http {
namespace {

// RFC 9110 §5.6.2 token characters: method and header names.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Field values: visible characters, spaces, tabs and obs-text; never CR, LF, NUL or other
// controls, which could split a header or a log line.
bool IsFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether any comma-separated element of `list` equals `token`, ignoring case.
bool ListHas(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (EqualsIgnoreCase(Trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> DecodePath(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return std::nullopt;
      const int hi = HexValue(raw[i + 1]);
      const int lo = HexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

int ParseRequestHead(std::string_view head, HttpRequest& out, std::string& why) {
  size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    why = "malformed request line";
    return 400;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) {
    why = "malformed method";
    return 400;
  }
  if (version.size() != 8 || !version.starts_with("HTTP/")) {
    why = "malformed HTTP version";
    return 400;
  }
  if (version[5] != '1' || version[6] != '.' || (version[7] != '0' && version[7] != '1')) {
    why = "only HTTP/1.0 and HTTP/1.1 are served";
    return 505;
  }
  out.minor_version = version[7] - '0';
  // Origin form only: this server is nobody's proxy.
  if (!target.starts_with('/') || std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) == 0x7f;
      })) {
    why = "malformed request target";
    return 400;
  }
  out.method = std::string(method);
  const size_t question = target.find('?');
  std::optional<std::string> path = DecodePath(target.substr(0, question));
  if (!path) {
    why = "malformed percent-encoding in the path";
    return 400;
  }
  out.path = std::move(*path);
  out.query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1));

  out.headers.clear();
  while (eol != std::string_view::npos) {
    const size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string_view field =
        head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    const size_t colon = field.find(':');
    // No name, whitespace before the colon, or an obsolete folded continuation line.
    if (colon == std::string_view::npos || !IsToken(field.substr(0, colon))) {
      why = "malformed header line";
      return 400;
    }
    const std::string_view value = Trim(field.substr(colon + 1));
    if (!IsFieldValue(value)) {
      why = "control character in a header value";
      return 400;
    }
    if (out.headers.size() == kMaxHeaders) {
      why = "more than " + std::to_string(kMaxHeaders) + " header lines";
      return 431;
    }
    out.headers.emplace_back(Lower(field.substr(0, colon)), std::string(value));
  }
  return 0;
}

int BodyFramingOf(const HttpRequest& request, BodyFraming& framing, std::string& why) {
  framing = {};
  bool has_length = false;
  bool has_coding = false;
  for (const auto& [name, value] : request.headers) {
    if (name == "transfer-encoding") {
      if (has_coding || !EqualsIgnoreCase(value, "chunked")) {
        why = "only the chunked transfer coding is supported";
        return 501;
      }
      has_coding = true;
    } else if (name == "content-length") {
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        why = "bad Content-Length";
        return 400;
      }
      const uint64_t length = std::strtoull(value.c_str(), nullptr, 10);
      if (has_length && length != framing.length) {
        why = "conflicting Content-Length headers";
        return 400;
      }
      has_length = true;
      framing.length = length;
    }
  }
  if (has_coding && has_length) {
    why = "both Content-Length and Transfer-Encoding";
    return 400;
  }
  if (has_coding) {
    framing.kind = BodyFraming::Kind::kChunked;
  } else if (has_length && framing.length > 0) {
    framing.kind = BodyFraming::Kind::kLength;
  }
  return 0;
}

int ExpectationOf(const HttpRequest& request) {
  const std::string_view expect = Trim(request.Header("expect"));
  if (expect.empty()) return 0;
  return EqualsIgnoreCase(expect, "100-continue") ? 100 : 417;
}

bool WantsKeepAlive(const HttpRequest& request) {
  const std::string_view connection = request.Header("connection");
  if (request.minor_version == 0) return ListHas(connection, "keep-alive");
  return !ListHas(connection, "close");
}

bool AcceptsGzip(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t semicolon = item.find(';');
    const std::string_view coding = Trim(item.substr(0, semicolon));
    if (!EqualsIgnoreCase(coding, "gzip") && !EqualsIgnoreCase(coding, "x-gzip") && coding != "*") {
      continue;
    }
    if (semicolon == std::string_view::npos) return true;
    const std::string_view params = Trim(item.substr(semicolon + 1));
    if (!params.starts_with("q=")) return true;
    return std::strtod(std::string(params.substr(2)).c_str(), nullptr) > 0;
  }
  return false;
}

std::string_view StatusText(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

ChunkedDecoder::Status ChunkedDecoder::Fail(std::string why) {
  state_ = State::kError;
  error_ = std::move(why);
  return Status::kError;
}

bool ChunkedDecoder::TakeLine(std::string_view& in, size_t& used) {
  const size_t lf = in.find('\n');
  const size_t take = lf == std::string_view::npos ? in.size() : lf + 1;
  line_.append(in.substr(0, take));
  in.remove_prefix(take);
  used += take;
  return lf != std::string_view::npos;
}

ChunkedDecoder::Status ChunkedDecoder::Feed(std::string_view in, std::string& out,
                                            size_t& consumed) {
  consumed = 0;
  while (true) {
    switch (state_) {
      case State::kDone:
        return Status::kDone;
      case State::kError:
        return Status::kError;
      case State::kSize: {
        if (!TakeLine(in, consumed)) {
          if (line_.size() > kMaxLineBytes) return Fail("chunk size line too long");
          return Status::kNeedMore;
        }
        if (line_.size() > kMaxLineBytes) return Fail("chunk size line too long");
        if (!line_.ends_with("\r\n")) return Fail("chunk size line not ended by CRLF");
        std::string_view size = std::string_view(line_).substr(0, line_.size() - 2);
        size = size.substr(0, size.find(';'));  // chunk extensions are ignored
        while (!size.empty() && (size.back() == ' ' || size.back() == '\t')) {
          size.remove_suffix(1);
        }
        if (size.empty() || size.size() > 15) return Fail("bad chunk size");
        uint64_t value = 0;
        for (char c : size) {
          const int digit = HexValue(c);
          if (digit < 0) return Fail("bad chunk size");
          value = value * 16 + static_cast<uint64_t>(digit);
        }
        line_.clear();
        left_ = value;
        state_ = value == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        if (in.empty()) return Status::kNeedMore;
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
        out.append(in.substr(0, take));
        in.remove_prefix(take);
        consumed += take;
        left_ -= take;
        if (left_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        if (!TakeLine(in, consumed)) {
          if (line_.size() > 2) return Fail("chunk data longer than its size");
          return Status::kNeedMore;
        }
        if (line_ != "\r\n") return Fail("chunk data longer than its size");
        line_.clear();
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        const bool complete = TakeLine(in, consumed);
        if (trailer_bytes_ + line_.size() > kMaxTrailerBytes) return Fail("trailer too large");
        if (!complete) return Status::kNeedMore;
        if (!line_.ends_with("\r\n")) return Fail("trailer line not ended by CRLF");
        const bool last = line_ == "\r\n";
        trailer_bytes_ += line_.size();
        line_.clear();
        if (last) {
          state_ = State::kDone;
          return Status::kDone;
        }
        break;
      }
    }
  }
}

}  // namespace http
}  // namespace common
