// Request heads and chunked bodies as the HTTP server reads them from a client
// (common/http_parse.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_parse.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using common::http::ChunkedDecoder;

struct Decoded {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::kNeedMore;
  std::string body;
  size_t consumed = 0;
  std::string error;
};

// Feeds `wire` in pieces of `step` bytes, as reads from a socket would deliver it.
Decoded Dechunk(std::string_view wire, size_t step) {
  ChunkedDecoder decoder;
  Decoded d;
  while (d.consumed < wire.size() && d.status == ChunkedDecoder::Status::kNeedMore) {
    const std::string_view piece = wire.substr(d.consumed, step);
    size_t used = 0;
    d.status = decoder.Feed(piece, d.body, used);
    QL_FUZZ_CHECK(used <= piece.size());
    if (d.status == ChunkedDecoder::Status::kNeedMore) QL_FUZZ_CHECK(used == piece.size());
    d.consumed += used;
  }
  d.error = decoder.error();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t head_end = in.find("\r\n\r\n");
  std::string_view body = in;
  if (head_end != std::string_view::npos) {
    common::HttpRequest request;
    std::string why;
    const int status = common::http::ParseRequestHead(in.substr(0, head_end), request, why);
    QL_FUZZ_CHECK(status == 0 || status == 400 || status == 431 || status == 505);
    QL_FUZZ_CHECK((status == 0) == why.empty());
    if (status == 0) {
      QL_FUZZ_CHECK(request.path.starts_with('/'));
      QL_FUZZ_CHECK(request.path.find('\0') == std::string::npos);
      QL_FUZZ_CHECK(request.headers.size() <= common::http::kMaxHeaders);
      for (const auto& [name, value] : request.headers) {
        QL_FUZZ_CHECK(!name.empty() && name.find_first_of(" \t:\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
                                           std::string::npos);
        QL_FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
      }
      common::http::BodyFraming framing;
      const int framing_status = common::http::BodyFramingOf(request, framing, why);
      QL_FUZZ_CHECK(framing_status == 0 || framing_status == 400 || framing_status == 501);
      const int expectation = common::http::ExpectationOf(request);
      QL_FUZZ_CHECK(expectation == 0 || expectation == 100 || expectation == 417);
      static_cast<void>(common::http::WantsKeepAlive(request));
    }
    body = in.substr(head_end + 4);
  }
  // However the bytes are split, a chunked body decodes the same, never to more than it came as.
  const Decoded whole = Dechunk(body, body.size() + 1);
  QL_FUZZ_CHECK(whole.body.size() <= body.size());
  const size_t step = body.empty() ? 1 : 1 + static_cast<uint8_t>(body[0]) % 7;
  const Decoded split = Dechunk(body, step);
  QL_FUZZ_CHECK(split.status == whole.status);
  QL_FUZZ_CHECK(split.body == whole.body);
  QL_FUZZ_CHECK(split.error == whole.error);
  if (whole.status != ChunkedDecoder::Status::kError)
    QL_FUZZ_CHECK(split.consumed == whole.consumed);
  return 0;
}
