#include "exporter/spans/otlp_proto.h"

#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>

#include "exporter/spans/formats.h"
#include "exporter/spans/ids.h"

namespace exporter::spans {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

const char* WireTypeName(uint32_t wire) {
  switch (wire) {
    case kVarint:
      return "varint";
    case kFixed64:
      return "fixed64";
    case kLen:
      return "length-delimited";
    case kFixed32:
      return "fixed32";
    default:
      return "group";
  }
}

// AnyValue may nest arrays and kvlists without bound; deeper values are refused.
constexpr int kMaxValueDepth = 32;

struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t value = 0;      // varint, fixed64 or fixed32 payload
  std::string_view bytes;  // length-delimited payload
};

// Reads the fields of one message in order. On malformed input it records the error and stops.
class Cursor {
 public:
  Cursor(std::string_view data, const char* message, std::string& error)
      : p_(reinterpret_cast<const uint8_t*>(data.data())),
        end_(p_ + data.size()),
        message_(message),
        error_(error) {}

  // False at the end of the message or on an error (then error_ is set).
  bool Next(Field& f) {
    if (p_ == end_) return false;
    uint64_t tag;
    if (!ReadVarint(tag)) return Malformed("truncated field tag");
    f.wire = static_cast<uint32_t>(tag & 7);
    if ((tag >> 3) == 0 || (tag >> 3) > (uint64_t{1} << 29) - 1) {
      return Malformed("invalid field number");
    }
    f.number = static_cast<uint32_t>(tag >> 3);
    switch (f.wire) {
      case kVarint:
        if (!ReadVarint(f.value)) return Malformed("truncated varint");
        return true;
      case kFixed64:
        if (end_ - p_ < 8) return Malformed("truncated fixed64");
        f.value = LoadLittleEndian(8);
        return true;
      case kFixed32:
        if (end_ - p_ < 4) return Malformed("truncated fixed32");
        f.value = LoadLittleEndian(4);
        return true;
      case kLen: {
        uint64_t length;
        if (!ReadVarint(length)) return Malformed("truncated length");
        if (length > static_cast<uint64_t>(end_ - p_)) return Malformed("length past the end");
        f.bytes = {reinterpret_cast<const char*>(p_), static_cast<size_t>(length)};
        p_ += length;
        return true;
      }
      case kStartGroup:
      case kEndGroup:
        return Malformed("groups are not supported");
      default:
        return Malformed("invalid wire type");
    }
  }

  // Checks the wire type of a known field; `field` names it in the error.
  bool Expect(const Field& f, uint32_t wire, const char* field) {
    if (f.wire == wire) return true;
    error_ = std::string(message_) + "." + field + ": wire type " + WireTypeName(f.wire) +
             ", expected " + WireTypeName(wire);
    return false;
  }

  bool Fail(const char* field, const char* what) {
    error_ = std::string(message_) + "." + field + ": " + what;
    return false;
  }

 private:
  bool Malformed(const char* what) {
    error_ = std::string(what) + " in " + message_;
    return false;
  }

  bool ReadVarint(uint64_t& value) {
    if (p_ < end_ && *p_ < 0x80) {
      value = *p_++;
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t byte = *p_++;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        value = result;
        return true;
      }
    }
    return false;  // ran off the end, or more than 10 bytes
  }

  uint64_t LoadLittleEndian(int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p_[i];
    p_ += n;
    return v;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  const char* message_;
  std::string& error_;
};

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

class OtlpProtoReader {
 public:
  explicit OtlpProtoReader(SpanBatch& out) : pending_(out) {}

  ParseResult Read(std::string_view bytes) {
    Cursor c(bytes, "ExportTraceServiceRequest", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 1) continue;
      if (!c.Expect(f, kLen, "resource_spans") || !ReadResourceSpans(f.bytes)) break;
    }
    if (!error_.empty()) return pending_.Fail("otlp protobuf: " + error_);
    return pending_.Finish();
  }

 private:
  bool ReadResourceSpans(std::string_view message) {
    // The resource may follow its spans on the wire, so read it in a first pass.
    internal::ResourceFields fields;
    {
      Cursor c(message, "ResourceSpans", error_);
      Field f;
      while (c.Next(f)) {
        if (f.number != 1) continue;
        if (!c.Expect(f, kLen, "resource") || !ReadResource(f.bytes, fields)) return false;
      }
      if (!error_.empty()) return false;
    }
    uint32_t resource = 0;
    bool resource_added = false;
    Cursor c(message, "ResourceSpans", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 2) continue;
      if (!c.Expect(f, kLen, "scope_spans")) return false;
      if (!resource_added) {
        resource = pending_.AddResource(fields);
        resource_added = true;
      }
      if (!ReadScopeSpans(f.bytes, resource)) return false;
    }
    return error_.empty();
  }

  bool ReadResource(std::string_view message, internal::ResourceFields& fields) {
    Cursor c(message, "Resource", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 1) continue;
      if (!c.Expect(f, kLen, "attributes")) return false;
      std::string_view key, text;
      bool is_string = false;
      if (!ReadKeyValue(f.bytes, 0, key, text, is_string)) return false;
      if (!is_string) continue;
      if (!ValidUtf8(text)) return c.Fail("attributes", "string value is not UTF-8");
      fields.Offer(key, text);
    }
    return error_.empty();
  }

  // Checks a KeyValue (and any nested values); reports its key and string value if it has one.
  bool ReadKeyValue(std::string_view message, int depth, std::string_view& key,
                    std::string_view& text, bool& is_string) {
    Cursor c(message, "KeyValue", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number == 1) {
        if (!c.Expect(f, kLen, "key")) return false;
        key = f.bytes;
      } else if (f.number == 2) {
        if (!c.Expect(f, kLen, "value") || !ReadAnyValue(f.bytes, depth + 1, text, is_string)) {
          return false;
        }
      }
    }
    return error_.empty();
  }

  bool ReadAnyValue(std::string_view message, int depth, std::string_view& text, bool& is_string) {
    if (depth > kMaxValueDepth) {
      error_ = "AnyValue: nested deeper than " + std::to_string(kMaxValueDepth) + " levels";
      return false;
    }
    Cursor c(message, "AnyValue", error_);
    Field f;
    while (c.Next(f)) {
      // A oneof: the last member on the wire wins.
      is_string = false;
      switch (f.number) {
        case 1:
          if (!c.Expect(f, kLen, "string_value")) return false;
          text = f.bytes;
          is_string = true;
          break;
        case 2:
          if (!c.Expect(f, kVarint, "bool_value")) return false;
          break;
        case 3:
          if (!c.Expect(f, kVarint, "int_value")) return false;
          break;
        case 4:
          if (!c.Expect(f, kFixed64, "double_value")) return false;
          break;
        case 5:
          if (!c.Expect(f, kLen, "array_value") || !ReadArrayValue(f.bytes, depth)) return false;
          break;
        case 6:
          if (!c.Expect(f, kLen, "kvlist_value") || !ReadKeyValueList(f.bytes, depth)) return false;
          break;
        case 7:
          if (!c.Expect(f, kLen, "bytes_value")) return false;
          break;
        default:
          break;
      }
    }
    return error_.empty();
  }

  bool ReadArrayValue(std::string_view message, int depth) {
    Cursor c(message, "ArrayValue", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 1) continue;
      std::string_view text;
      bool is_string = false;
      if (!c.Expect(f, kLen, "values") || !ReadAnyValue(f.bytes, depth + 1, text, is_string)) {
        return false;
      }
    }
    return error_.empty();
  }

  bool ReadKeyValueList(std::string_view message, int depth) {
    Cursor c(message, "KeyValueList", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 1) continue;
      std::string_view key, text;
      bool is_string = false;
      if (!c.Expect(f, kLen, "values") || !ReadKeyValue(f.bytes, depth + 1, key, text, is_string)) {
        return false;
      }
    }
    return error_.empty();
  }

  bool ReadScopeSpans(std::string_view message, uint32_t resource) {
    Cursor c(message, "ScopeSpans", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 2) continue;
      if (!c.Expect(f, kLen, "spans")) return false;
      Span& s = pending_.Begin();
      const char* reason = nullptr;
      // A malformed span fails the payload; Fail() drops the span begun here with the rest.
      if (!ReadSpan(f.bytes, s, reason)) return false;
      if (reason != nullptr) {
        pending_.Reject(reason);
      } else {
        pending_.Accept(resource);
      }
    }
    return error_.empty();
  }

  // False when the span is malformed (error_ set); `reason` is set when it is readable but
  // unusable.
  bool ReadSpan(std::string_view message, Span& s, const char*& reason) {
    Cursor c(message, "Span", error_);
    Field f;
    std::string_view trace_id, span_id, parent_id;
    uint64_t start = 0, end = 0;
    while (c.Next(f)) {
      switch (f.number) {
        case 1:
          if (!c.Expect(f, kLen, "trace_id")) return false;
          trace_id = f.bytes;
          break;
        case 2:
          if (!c.Expect(f, kLen, "span_id")) return false;
          span_id = f.bytes;
          break;
        case 3:
          if (!c.Expect(f, kLen, "trace_state")) return false;
          s.SetSampling(ParseTraceState(f.bytes));
          break;
        case 4:
          if (!c.Expect(f, kLen, "parent_span_id")) return false;
          parent_id = f.bytes;
          break;
        case 5:
          if (!c.Expect(f, kLen, "name")) return false;
          if (!ValidUtf8(f.bytes)) return c.Fail("name", "not UTF-8");
          s.operation = f.bytes;
          break;
        case 6:
          if (!c.Expect(f, kVarint, "kind")) return false;
          s.kind = f.value <= 5 ? static_cast<SpanKind>(f.value) : SpanKind::kUnspecified;
          break;
        case 7:
          if (!c.Expect(f, kFixed64, "start_time_unix_nano")) return false;
          start = f.value;
          break;
        case 8:
          if (!c.Expect(f, kFixed64, "end_time_unix_nano")) return false;
          end = f.value;
          break;
        case 15:
          if (!c.Expect(f, kLen, "status") || !ReadStatus(f.bytes, s)) return false;
          break;
        default:
          break;
      }
    }
    if (!error_.empty()) return false;
    reason = CheckSpan(trace_id, span_id, parent_id, start, end, s);
    return true;
  }

  bool ReadStatus(std::string_view message, Span& s) {
    Cursor c(message, "Status", error_);
    Field f;
    while (c.Next(f)) {
      if (f.number != 3) continue;
      if (!c.Expect(f, kVarint, "code")) return false;
      s.error = f.value == 2;
    }
    return error_.empty();
  }

  static const char* CheckSpan(std::string_view trace_id, std::string_view span_id,
                               std::string_view parent_id, uint64_t start, uint64_t end, Span& s) {
    if (trace_id.empty()) return "missing trace_id";
    const auto trace = TraceIdFromBytes(trace_id);
    if (!trace) return "trace_id is not 16 bytes";
    if (trace->IsZero()) return "zero trace_id";
    s.trace_id = *trace;
    if (span_id.empty()) return "missing span_id";
    const auto id = SpanIdFromBytes(span_id);
    if (!id) return "span_id is not 8 bytes";
    if (*id == 0) return "zero span_id";
    s.span_id = *id;
    if (!parent_id.empty()) {
      const auto parent = SpanIdFromBytes(parent_id);
      if (!parent) return "parent_span_id is not 8 bytes";
      s.parent_span_id = *parent;
    }
    constexpr uint64_t kMaxTime = std::numeric_limits<int64_t>::max();
    if (start == 0) return "missing start_time_unix_nano";
    if (end == 0) return "missing end_time_unix_nano";
    if (start > kMaxTime || end > kMaxTime) return "time out of range";
    s.start_unix_nano = static_cast<int64_t>(start);
    s.end_unix_nano = static_cast<int64_t>(end);
    return nullptr;
  }

  internal::PendingSpans pending_;
  std::string error_;
};

}  // namespace

ParseResult ParseOtlpProto(std::string_view bytes, SpanBatch& out) {
  return OtlpProtoReader(out).Read(bytes);
}

}  // namespace exporter::spans
