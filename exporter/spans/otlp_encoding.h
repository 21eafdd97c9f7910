#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace exporter::spans {

// The protobuf wire format as the OTLP writers (otlp_proto_writer.h, otlp_response.h) use it:
// every message has a ...Size() and a Write...(); sizes are computed first so each length
// prefix is known when it is written, without temporary buffers.
namespace wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2 };

size_t VarintSize(uint64_t v);
size_t TagSize(uint32_t field);
size_t LenFieldSize(uint32_t field, size_t length);
void PutVarint(std::string& out, uint64_t v);
void PutTag(std::string& out, uint32_t field, uint32_t wire_type);
void PutLenHeader(std::string& out, uint32_t field, size_t length);
void PutBytes(std::string& out, uint32_t field, std::string_view bytes);
void PutFixed64(std::string& out, uint32_t field, uint64_t v);

// OTLP/JSON integers: 64-bit ones are quoted decimal strings.
void AppendDecimal(std::string& out, int64_t v);
void AppendQuotedDecimal(std::string& out, int64_t v);

}  // namespace wire

// Appends `s` as a quoted JSON string (UTF-8 passes through; quotes, backslashes and control
// characters are escaped).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace exporter::spans
