// Gzip request bodies as the OTLP receiver inflates them, with its output limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/gzip.h"
#include "exporter/sources/otlp_receiver.h"
#include "tests/fuzz/fuzz_check.h"

using common::GunzipStatus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t limit = exporter::sources::OtlpReceiverOptions{}.max_decompressed_bytes;

  std::string out;
  const GunzipStatus status = common::Gunzip(in, limit, out);
  QL_FUZZ_CHECK(out.size() <= limit);
  if (status == GunzipStatus::kOk) {
    // Exactly at the limit is allowed; one byte less stops with the output cut at the limit.
    std::string exact;
    QL_FUZZ_CHECK(common::Gunzip(in, out.size(), exact) == GunzipStatus::kOk && exact == out);
    if (!out.empty()) {
      const size_t half = out.size() / 2;
      std::string cut;
      QL_FUZZ_CHECK(common::Gunzip(in, half, cut) == GunzipStatus::kTooLarge);
      QL_FUZZ_CHECK(cut == std::string_view(out).substr(0, half));
    }
    // What was inflated compresses and inflates back.
    std::string again;
    QL_FUZZ_CHECK(common::Gunzip(common::Gzip(out), out.size(), again) == GunzipStatus::kOk);
    QL_FUZZ_CHECK(again == out);
  }

  // The input itself as a body to compress: it survives a round trip at exactly its size.
  std::string plain;
  QL_FUZZ_CHECK(common::Gunzip(common::Gzip(in), in.size(), plain) == GunzipStatus::kOk);
  QL_FUZZ_CHECK(plain == in);
  return 0;
}
