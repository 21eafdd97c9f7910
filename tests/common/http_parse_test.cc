#include "common/http_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace common::http {
namespace {

HttpRequest Parsed(std::string_view head) {
  HttpRequest request;
  std::string why;
  EXPECT_EQ(ParseRequestHead(head, request, why), 0) << why;
  return request;
}

int Status(std::string_view head) {
  HttpRequest request;
  std::string why;
  return ParseRequestHead(head, request, why);
}

TEST(HttpParseTest, RequestLineHeadersAndQuery) {
  const HttpRequest r =
      Parsed("POST /v1/a%20b?x=%20&y HTTP/1.1\r\nHost: h\r\nContent-Type:  application/json  ");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/a b");
  EXPECT_EQ(r.query, "x=%20&y");
  EXPECT_EQ(r.minor_version, 1);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.Header("host"), "h");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(Parsed("GET / HTTP/1.0").minor_version, 0);
}

TEST(HttpParseTest, MalformedHeadsAre400) {
  for (const char* head :
       {"", "GET", "GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 x", "GET x HTTP/1.1",
        "GET http://h/ HTTP/1.1", "G(T / HTTP/1.1", "GET / HTTPS/1.1", "GET / HTTP/1.10",
        "GET /%zz HTTP/1.1", "GET /%4 HTTP/1.1", "GET /%00 HTTP/1.1", "GET /\x01 HTTP/1.1",
        "GET / HTTP/1.1\r\nno colon", "GET / HTTP/1.1\r\n: empty name",
        "GET / HTTP/1.1\r\nName : space before colon", "GET / HTTP/1.1\r\n folded: line",
        "GET / HTTP/1.1\r\nA: b\rc"}) {
    EXPECT_EQ(Status(head), 400) << head;
  }
  EXPECT_EQ(Status(std::string_view("GET / HTTP/1.1\r\nA: nul\0x", 25)), 400);
  EXPECT_EQ(Status("GET / HTTP/2.0"), 505);
  EXPECT_EQ(Status("GET / HTTP/1.2"), 505);
}

TEST(HttpParseTest, TooManyHeadersIs431) {
  std::string head = "GET / HTTP/1.1";
  for (size_t i = 0; i < kMaxHeaders; ++i) head += "\r\nH" + std::to_string(i) + ": v";
  EXPECT_EQ(Status(head), 0);
  EXPECT_EQ(Status(head + "\r\nOne: more"), 431);
}

TEST(HttpParseTest, DecodePathRefusesNulAndBadEscapes) {
  EXPECT_EQ(DecodePath("/a%2Fb%41"), "/a/bA");
  EXPECT_EQ(DecodePath("/%"), std::nullopt);
  EXPECT_EQ(DecodePath("/%a"), std::nullopt);
  EXPECT_EQ(DecodePath("/%g0"), std::nullopt);
  EXPECT_EQ(DecodePath("/%00"), std::nullopt);
}

TEST(HttpParseTest, BodyFramingGuardsAgainstSmuggling) {
  const auto framing = [](std::string_view head, BodyFraming* out = nullptr) {
    BodyFraming f;
    std::string why;
    const int status = BodyFramingOf(Parsed(head), f, why);
    if (out) *out = f;
    return status;
  };
  BodyFraming f;
  EXPECT_EQ(framing("GET / HTTP/1.1", &f), 0);
  EXPECT_EQ(f.kind, BodyFraming::Kind::kNone);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 0", &f), 0);
  EXPECT_EQ(f.kind, BodyFraming::Kind::kNone);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 42\r\ncontent-length: 42", &f), 0);
  EXPECT_EQ(f.kind, BodyFraming::Kind::kLength);
  EXPECT_EQ(f.length, 42u);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked", &f), 0);
  EXPECT_EQ(f.kind, BodyFraming::Kind::kChunked);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2"), 400);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: -1"), 400);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 1e3"), 400);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 9999999999999999999"), 400);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked"), 400);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked"), 501);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"),
            501);
}

TEST(HttpParseTest, ExpectationKeepAliveAndGzip) {
  EXPECT_EQ(ExpectationOf(Parsed("POST / HTTP/1.1")), 0);
  EXPECT_EQ(ExpectationOf(Parsed("POST / HTTP/1.1\r\nExpect: 100-Continue")), 100);
  EXPECT_EQ(ExpectationOf(Parsed("POST / HTTP/1.1\r\nExpect: 200-ok")), 417);
  EXPECT_TRUE(WantsKeepAlive(Parsed("GET / HTTP/1.1")));
  EXPECT_FALSE(WantsKeepAlive(Parsed("GET / HTTP/1.1\r\nConnection: keep-alive, Close")));
  EXPECT_FALSE(WantsKeepAlive(Parsed("GET / HTTP/1.0")));
  EXPECT_TRUE(WantsKeepAlive(Parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive")));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_FALSE(AcceptsGzip("br, gzip;q=0"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip(""));
}

// Feeds `wire` in pieces of `step` bytes; returns the body, or "error: ..." and what is left.
std::string Dechunk(std::string_view wire, size_t step, std::string* rest = nullptr) {
  ChunkedDecoder decoder;
  std::string out;
  for (size_t at = 0; at < wire.size();) {
    const std::string_view piece = wire.substr(at, step);
    size_t used = 0;
    const auto status = decoder.Feed(piece, out, used);
    at += used;
    if (status == ChunkedDecoder::Status::kError) return "error: " + decoder.error();
    if (status == ChunkedDecoder::Status::kDone) {
      if (rest) *rest = std::string(wire.substr(at));
      return out;
    }
    EXPECT_EQ(used, piece.size());
  }
  return "incomplete: " + out;
}

TEST(HttpParseTest, ChunkedBodyAtEveryPieceSize) {
  const std::string wire =
      "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nGET /next HTTP/1.1";
  for (size_t step = 1; step <= wire.size(); ++step) {
    std::string rest;
    EXPECT_EQ(Dechunk(wire, step, &rest), "hello, world") << step;
    EXPECT_EQ(rest, "GET /next HTTP/1.1") << step;
  }
  EXPECT_EQ(Dechunk("A\r\n0123456789\r\n0\r\n\r\n", 3), "0123456789");
}

TEST(HttpParseTest, MalformedChunkedBodies) {
  EXPECT_EQ(Dechunk("x\r\n", 1), "error: bad chunk size");
  EXPECT_EQ(Dechunk("\r\n", 1), "error: bad chunk size");
  EXPECT_EQ(Dechunk("-1\r\n", 4), "error: bad chunk size");
  EXPECT_EQ(Dechunk("1000000000000000\r\n", 18), "error: bad chunk size");
  EXPECT_EQ(Dechunk("3\nabc\r\n0\r\n\r\n", 4), "error: chunk size line not ended by CRLF");
  EXPECT_EQ(Dechunk("3\r\nabcd\r\n0\r\n\r\n", 2), "error: chunk data longer than its size");
  EXPECT_EQ(Dechunk("1;" + std::string(5000, 'e'), 100), "error: chunk size line too long");
  EXPECT_EQ(Dechunk("0\r\n" + std::string(20000, 't'), 1000), "error: trailer too large");
  EXPECT_EQ(Dechunk("3\r\nab", 1), "incomplete: ab");
}

}  // namespace
}  // namespace common::http
