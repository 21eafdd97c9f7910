// The labelSelector of external metrics API requests (the HPA's and KEDA's selector).
// ParseLabelSelector and Matches are declared in recommender/output/label_selector.h.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "recommender/output/label_selector.h"
#include "tests/fuzz/fuzz_check.h"

namespace output = recommender::output;
using Op = output::LabelRequirement::Op;

namespace {

// The selector in Kubernetes' own notation (labels.Selector.String()).
std::string Format(const output::LabelSelector& selector) {
  std::string out;
  for (const output::LabelRequirement& r : selector) {
    if (!out.empty()) out += ',';
    switch (r.op) {
      case Op::kEquals:
        out += r.key + "=" + r.values.at(0);
        break;
      case Op::kNotEquals:
        out += r.key + "!=" + r.values.at(0);
        break;
      case Op::kIn:
      case Op::kNotIn: {
        out += r.key + (r.op == Op::kIn ? " in (" : " notin (");
        for (size_t i = 0; i < r.values.size(); ++i) out += (i > 0 ? "," : "") + r.values[i];
        out += ')';
        break;
      }
      case Op::kExists:
        out += r.key;
        break;
      case Op::kDoesNotExist:
        out += "!" + r.key;
        break;
    }
  }
  return out;
}

bool Same(const output::LabelSelector& a, const output::LabelSelector& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].op != b[i].op || a[i].values != b[i].values) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<output::LabelSelector> selector = output::ParseLabelSelector(text, &error);
  QL_FUZZ_CHECK(selector.has_value() == error.empty());
  if (!selector) return 0;

  output::Labels labels;
  for (const output::LabelRequirement& r : *selector) {
    QL_FUZZ_CHECK(!r.key.empty());
    const bool one = r.op == Op::kEquals || r.op == Op::kNotEquals;
    const bool set = r.op == Op::kIn || r.op == Op::kNotIn;
    QL_FUZZ_CHECK(one ? r.values.size() == 1 : set ? !r.values.empty() : r.values.empty());
    // A requirement alone holds for the labels it names and fails for the opposite.
    const output::LabelSelector alone = {r};
    output::Labels matching, failing;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
      case Op::kExists:
        matching[r.key] = r.values.empty() ? "x" : r.values[0];
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
      case Op::kDoesNotExist:
        failing[r.key] = r.values.empty() ? "x" : r.values[0];
        break;
    }
    QL_FUZZ_CHECK(output::Matches(alone, matching));
    QL_FUZZ_CHECK(!output::Matches(alone, failing));
    labels[r.key] = r.values.empty() ? "" : r.values.back();
  }
  (void)output::Matches(*selector, labels);

  // Written in Kubernetes' notation, the selector reads the same.
  std::string again_error;
  const std::optional<output::LabelSelector> again =
      output::ParseLabelSelector(Format(*selector), &again_error);
  if (!again) std::fprintf(stderr, "%s: %s\n", Format(*selector).c_str(), again_error.c_str());
  QL_FUZZ_CHECK(again.has_value());
  QL_FUZZ_CHECK(Same(*again, *selector));
  return 0;
}
