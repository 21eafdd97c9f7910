#include "exporter/spans/otlp_response.h"

#include "exporter/spans/otlp_encoding.h"

namespace exporter::spans {

using wire::AppendDecimal;
using wire::AppendQuotedDecimal;
using wire::kVarint;
using wire::LenFieldSize;
using wire::PutBytes;
using wire::PutLenHeader;
using wire::PutTag;
using wire::PutVarint;
using wire::VarintSize;

// ExportTraceServiceResponse: 1 partial_success (ExportTracePartialSuccess: 1 rejected_spans,
// 2 error_message).
std::string ToExportResponseProto(int64_t rejected_spans, std::string_view error_message) {
  std::string out;
  if (rejected_spans == 0 && error_message.empty()) return out;
  size_t inner = 0;
  if (rejected_spans != 0) inner += 1 + VarintSize(static_cast<uint64_t>(rejected_spans));
  if (!error_message.empty()) inner += LenFieldSize(2, error_message.size());
  PutLenHeader(out, 1, inner);
  if (rejected_spans != 0) {
    PutTag(out, 1, kVarint);
    PutVarint(out, static_cast<uint64_t>(rejected_spans));
  }
  if (!error_message.empty()) PutBytes(out, 2, error_message);
  return out;
}

std::string ToStatusProto(int32_t code, std::string_view message) {
  std::string out;
  if (code != 0) {
    PutTag(out, 1, kVarint);
    // int32 fields encode negatives sign-extended to 64 bits.
    PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) PutBytes(out, 2, message);
  return out;
}

std::string ToStatusJson(int32_t code, std::string_view message) {
  std::string out = "{\"code\":";
  AppendDecimal(out, code);
  out.append(",\"message\":");
  AppendJsonString(out, message);
  out.push_back('}');
  return out;
}

std::string ToExportResponseJson(int64_t rejected_spans, std::string_view error_message) {
  if (rejected_spans == 0 && error_message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected_spans != 0) {
    out.append("\"rejectedSpans\":");
    AppendQuotedDecimal(out, rejected_spans);
  }
  if (!error_message.empty()) {
    if (rejected_spans != 0) out.push_back(',');
    out.append("\"errorMessage\":");
    AppendJsonString(out, error_message);
  }
  out.append("}}");
  return out;
}

}  // namespace exporter::spans
