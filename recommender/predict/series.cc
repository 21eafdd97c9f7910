#include "recommender/predict/series.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace recommender::predict {
namespace {

constexpr std::string_view kSeriesHeader =
    "run,minute,service,replicas,cpu_utilization,response_seconds,request_rate";
constexpr std::string_view kEdgesHeader = "caller,callee,calls";

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Calls fn(line_number, line) for every non-empty line after the header; false when the header
// differs or fn fails.
template <typename Fn>
bool ForEachRow(std::string_view csv, std::string_view header, std::string* error, Fn&& fn) {
  int number = 0;
  bool seen_header = false;
  while (!csv.empty()) {
    const size_t nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view{} : csv.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!seen_header) {
      if (line != header) {
        *error = "line " + std::to_string(number) + ": expected the header \"" +
                 std::string(header) + "\"";
        return false;
      }
      seen_header = true;
      continue;
    }
    if (!fn(number, line)) return false;
  }
  if (!seen_header) {
    *error = "empty file";
    return false;
  }
  return true;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  if (a.size() < 2) return 0;
  double ma = 0, mb = 0;
  for (size_t k = 0; k < a.size(); ++k) ma += a[k], mb += b[k];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    sab += (a[k] - ma) * (b[k] - mb);
    saa += (a[k] - ma) * (a[k] - ma);
    sbb += (b[k] - mb) * (b[k] - mb);
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

std::string FormatSeriesCsv(const std::vector<Series>& runs) {
  std::string out(kSeriesHeader);
  out += '\n';
  for (size_t r = 0; r < runs.size(); ++r) {
    const Series& s = runs[r];
    for (int m = 0; m < s.minutes; ++m) {
      for (size_t i = 0; i < s.services.size(); ++i) {
        out += std::to_string(r) + ',' + std::to_string(m) + ',' + s.services[i];
        for (int f = 0; f < kFeatures; ++f) out += ',' + Number(s.At(m, static_cast<int>(i), f));
        out += '\n';
      }
    }
  }
  return out;
}

bool ParseSeriesCsv(std::string_view csv, std::vector<Series>* runs, std::string* error) {
  runs->clear();
  std::map<int, size_t> run_index;
  std::vector<std::string> services;  // of the first run, in order of appearance
  std::unordered_map<std::string, int> service_index;
  // Rows per run, kept until every service is known.
  struct Row {
    int minute, service;
    std::array<float, kFeatures> v;
  };
  std::vector<std::vector<Row>> rows;
  const bool ok = ForEachRow(csv, kSeriesHeader, error, [&](int number, std::string_view line) {
    const auto fields = SplitFields(line);
    const auto fail = [&](const std::string& what) {
      *error = "line " + std::to_string(number) + ": " + what;
      return false;
    };
    if (fields.size() != 3 + kFeatures) return fail("expected 7 fields");
    int run = 0, minute = 0;
    if (!ParseNumber(fields[0], &run) || run < 0) return fail("bad run");
    if (!ParseNumber(fields[1], &minute) || minute < 0) return fail("bad minute");
    Row row{minute, 0, {}};
    for (int f = 0; f < kFeatures; ++f) {
      if (!ParseNumber(fields[3 + static_cast<size_t>(f)], &row.v[static_cast<size_t>(f)]) ||
          !std::isfinite(row.v[static_cast<size_t>(f)])) {
        return fail("bad " + std::string(kFeatureNames[static_cast<size_t>(f)]));
      }
    }
    const std::string service(fields[2]);
    auto it = service_index.find(service);
    if (it == service_index.end()) {
      if (!run_index.empty() && run_index.begin()->first != run) {
        return fail("service " + service + " is not in the first run");
      }
      it = service_index.emplace(service, static_cast<int>(services.size())).first;
      services.push_back(service);
    }
    row.service = it->second;
    auto [ri, added] = run_index.emplace(run, rows.size());
    if (added) rows.emplace_back();
    rows[ri->second].push_back(row);
    return true;
  });
  if (!ok) return false;
  const size_t n = services.size();
  for (const auto& [run, index] : run_index) {
    Series s;
    s.services = services;
    for (const Row& row : rows[index]) s.minutes = std::max(s.minutes, row.minute + 1);
    s.values.assign(static_cast<size_t>(s.minutes) * n * kFeatures, NAN);
    for (const Row& row : rows[index]) {
      for (int f = 0; f < kFeatures; ++f)
        s.At(row.minute, row.service, f) = row.v[static_cast<size_t>(f)];
    }
    for (float v : s.values) {
      if (std::isnan(v)) {
        *error = "run " + std::to_string(run) + " misses a service in some minute";
        return false;
      }
    }
    runs->push_back(std::move(s));
  }
  if (runs->empty()) {
    *error = "no rows";
    return false;
  }
  return true;
}

std::string FormatEdgesCsv(const std::vector<Edge>& edges) {
  std::string out(kEdgesHeader);
  out += '\n';
  for (const Edge& e : edges) out += e.caller + ',' + e.callee + ',' + Number(e.calls) + '\n';
  return out;
}

bool ParseEdgesCsv(std::string_view csv, std::vector<Edge>* edges, std::string* error) {
  edges->clear();
  return ForEachRow(csv, kEdgesHeader, error, [&](int number, std::string_view line) {
    const auto fields = SplitFields(line);
    Edge e;
    if (fields.size() != 3 || fields[0].empty() || fields[1].empty() ||
        !ParseNumber(fields[2], &e.calls) || !(e.calls >= 0)) {
      *error = "line " + std::to_string(number) + ": expected caller,callee,calls ≥ 0";
      return false;
    }
    e.caller = fields[0];
    e.callee = fields[1];
    edges->push_back(std::move(e));
    return true;
  });
}

std::vector<float> PriorGraph(const std::vector<std::string>& services,
                              const std::vector<Edge>& edges, const std::vector<Series>& runs,
                              double min_correlation) {
  const size_t n = services.size();
  std::vector<float> a(n * n, 0);
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(services[i], i);
  std::vector<double> out_calls(n, 0), calls(n * n, 0);
  for (const Edge& e : edges) {
    const auto from = index.find(e.caller), to = index.find(e.callee);
    if (from == index.end() || to == index.end() || from->second == to->second) continue;
    calls[from->second * n + to->second] += e.calls;
    out_calls[from->second] += e.calls;
  }
  // Request rates by service, over every run whose services match.
  std::vector<std::vector<double>> load(n);
  for (const Series& s : runs) {
    if (s.services != services) continue;
    for (int m = 0; m < s.minutes; ++m) {
      for (size_t i = 0; i < n; ++i) load[i].push_back(s.At(m, static_cast<int>(i), kRequestRate));
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const double share = out_calls[i] > 0 ? calls[i * n + j] / out_calls[i] : 0;
      const double r = Correlation(load[i], load[j]);
      a[i * n + j] = static_cast<float>(std::max(share, r > min_correlation ? r : 0.0));
    }
  }
  return a;
}

std::vector<float> GcnNormalize(const std::vector<float>& adjacency, int n) {
  const auto N = static_cast<size_t>(n);
  std::vector<double> a(N * N);
  for (size_t i = 0; i < N; ++i) {
    double row = 0;
    for (size_t j = 0; j < N; ++j) row += adjacency[i * N + j];
    for (size_t j = 0; j < N; ++j) {
      a[i * N + j] = (row > 0 ? adjacency[i * N + j] / row : 0) + (i == j ? 1 : 0);
    }
  }
  std::vector<double> d(N, 0);
  for (size_t i = 0; i < N; ++i) {
    for (size_t j = 0; j < N; ++j) d[i] += a[i * N + j];
  }
  std::vector<float> out(N * N);
  for (size_t i = 0; i < N; ++i) {
    for (size_t j = 0; j < N; ++j) {
      out[i * N + j] = static_cast<float>(a[i * N + j] / std::sqrt(d[i] * d[j]));
    }
  }
  return out;
}

}  // namespace recommender::predict
