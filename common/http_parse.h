#pragma once

// The HTTP/1.1 request grammar the server accepts (RFC 9112), as pure functions over bytes a
// client sent: nothing here trusts a length, a count or a character it reads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_message.h"

namespace common::http {

inline constexpr size_t kMaxHeaders = 100;

// Percent-decodes a request path. nullopt on a malformed escape or a decoded NUL, which no
// route and no label value should ever see.
std::optional<std::string> DecodePath(std::string_view raw);

// Parses a request head: the request line and header lines, ending before the blank line.
// Fills method, path, query, minor_version and headers of `out`. Returns 0, or the status to
// answer with (400 malformed, 431 more than kMaxHeaders headers, 505 not HTTP/1.x) and sets
// `why` to a one-line reason.
int ParseRequestHead(std::string_view head, HttpRequest& out, std::string& why);

struct BodyFraming {
  enum class Kind { kNone, kLength, kChunked };
  Kind kind = Kind::kNone;
  uint64_t length = 0;  // with kLength
};

// How the body of a parsed request is delimited. Returns 0, or 400 (a bad Content-Length, or
// both Content-Length and Transfer-Encoding: the request-smuggling ambiguity RFC 9112 §6.3
// forbids) or 501 (a transfer coding other than chunked); `why` says which.
int BodyFramingOf(const HttpRequest& request, BodyFraming& framing, std::string& why);

// "100-continue" (any case) in Expect: the client waits for an interim 100 before the body.
// Returns 0 for no expectation, 100 for 100-continue, 417 for any other expectation.
int ExpectationOf(const HttpRequest& request);

// Whether the connection stays open after the response: HTTP/1.1 unless "Connection: close",
// HTTP/1.0 only with "Connection: keep-alive".
bool WantsKeepAlive(const HttpRequest& request);

// Accept-Encoding lists codings with optional weights: "gzip, deflate;q=0.5, br;q=0".
bool AcceptsGzip(std::string_view accept_encoding);

// The reason phrase of a status code, "Unknown" for codes without one here.
std::string_view StatusText(int status);

// Decodes a chunked body incrementally (RFC 9112 §7.1): feed it bytes as they arrive. Chunk
// extensions are skipped; trailer fields are read and dropped. Size lines and trailers have
// caps, so a client cannot make it buffer without bound.
class ChunkedDecoder {
 public:
  enum class Status { kNeedMore, kDone, kError };

  // Appends the data of `in` to `out` and sets `consumed` to the bytes used (all of `in`
  // unless the body ended inside it: then the rest belongs to the next request). On kError,
  // error() says why.
  Status Feed(std::string_view in, std::string& out, size_t& consumed);
  const std::string& error() const { return error_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone, kError };
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxTrailerBytes = 16 * 1024;

  Status Fail(std::string why);
  // Takes a CRLF-terminated line from `in` into line_; false while it is incomplete.
  bool TakeLine(std::string_view& in, size_t& used);

  State state_ = State::kSize;
  std::string line_;
  uint64_t left_ = 0;  // data bytes left in the current chunk
  size_t trailer_bytes_ = 0;
  std::string error_;
};

}  // namespace common::http
