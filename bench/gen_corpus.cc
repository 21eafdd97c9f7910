// queuelens-gen-corpus: writes a synthetic hotel-reservation trace corpus as one payload in
// Jaeger v1 JSON, OTLP JSON or OTLP protobuf, for replay, benchmarks and e2e tests.

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "bench/corpus.h"
#include "exporter/spans/formats.h"

namespace {

constexpr char kUsage[] =
    "usage: queuelens-gen-corpus --format jaeger|otlp-json|otlp-proto --traces N --seed S\n"
    "                            [--start-ns T] [--rate REQ_PER_S] --out FILE\n";

template <typename T>
bool ParseNumber(std::string_view text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "queuelens-gen-corpus: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bench::CorpusOptions options;
  std::optional<exporter::spans::SpanFormat> format;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Fail("missing value for " + std::string(flag));
    const std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--format") {
      format = exporter::spans::SpanFormatFromName(value);
      ok = format.has_value();
    } else if (flag == "--traces") {
      ok = ParseNumber(value, options.traces);
    } else if (flag == "--seed") {
      ok = ParseNumber(value, options.seed);
    } else if (flag == "--start-ns") {
      ok = ParseNumber(value, options.start_unix_nano);
    } else if (flag == "--rate") {
      ok = ParseNumber(value, options.requests_per_second) && options.requests_per_second > 0;
    } else if (flag == "--out") {
      out_path = value;
    } else {
      return Fail("unknown flag " + std::string(flag));
    }
    if (!ok) return Fail("bad value for " + std::string(flag) + ": " + std::string(value));
  }
  if (!format) return Fail("--format is required");
  if (out_path.empty()) return Fail("--out is required");

  const bench::Corpus corpus = bench::GenerateCorpus(options);
  const std::string payload = bench::Serialize(corpus, *format);
  std::FILE* file = std::fopen(out_path.c_str(), "wb");
  if (file == nullptr) return Fail("cannot open " + out_path);
  const bool written = std::fwrite(payload.data(), 1, payload.size(), file) == payload.size();
  if (std::fclose(file) != 0 || !written) return Fail("cannot write " + out_path);
  std::fprintf(stderr, "wrote %zu traces, %zu spans, %zu bytes (%s) to %s\n", corpus.traces.size(),
               corpus.SpanCount(), payload.size(),
               std::string(exporter::spans::SpanFormatName(*format)).c_str(), out_path.c_str());
  return 0;
}
