#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace common {

// Appends `families` to `out` in the Prometheus text format 0.0.4, with the same lines, order
// and label escaping as prometheus::TextSerializer (HELP only when non-empty, histogram
// _count/_sum/_bucket with an added le="+Inf" bucket, summary _count/_sum/quantiles, untyped as
// is, timestamps when non-zero). It writes numbers with std::to_chars straight into `out`, which
// callers reuse across scrapes, instead of going through iostreams.
//
// Where prometheus-cpp 1.0.1 is wrong we follow the format instead: HELP text escapes \ and
// newlines, NaN is spelled "NaN", and doubles are written in full (shortest round-trip form;
// integral values below 2^53 as plain integers) rather than rounded to 16 digits.
void AppendText(const std::vector<prometheus::MetricFamily>& families, std::string& out);

}  // namespace common
