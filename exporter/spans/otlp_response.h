#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// The OTLP/HTTP answers of queuelens-exporter's receiver, in protobuf and JSON.
namespace exporter::spans {

// ExportTraceServiceResponse. With nothing rejected and no message, partial_success is left
// unset: an empty protobuf body and `{}` in JSON, which is what OTLP asks for on full success.
std::string ToExportResponseProto(int64_t rejected_spans, std::string_view error_message);
std::string ToExportResponseJson(int64_t rejected_spans, std::string_view error_message);

// google.rpc.Status, the body OTLP/HTTP returns with 4xx/5xx answers.
std::string ToStatusProto(int32_t code, std::string_view message);
std::string ToStatusJson(int32_t code, std::string_view message);

}  // namespace exporter::spans
