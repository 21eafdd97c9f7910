#include "recommender/output/external_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/output/json_response.h"
#include "recommender/output/keda_handler.h"

namespace recommender::output {
namespace {

using Writer = JsonWriter;

constexpr std::string_view kGroup = "external.metrics.k8s.io";
constexpr std::string_view kVersion = "v1beta1";
constexpr std::string_view kGroupVersion = "external.metrics.k8s.io/v1beta1";
constexpr std::string_view kGroupPath = "/apis/external.metrics.k8s.io";
constexpr std::string_view kVersionPath = "/apis/external.metrics.k8s.io/v1beta1";

// A metav1.Status failure, the error shape every Kubernetes client decodes.
common::HttpResponse Status(int code, std::string_view reason, std::string_view message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "Status");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("status");
  WriteString(w, "Failure");
  w.Key("message");
  WriteString(w, message);
  w.Key("reason");
  WriteString(w, reason);
  w.Key("code");
  w.Int(code);
  w.EndObject();
  return JsonResponse(code, buf.GetString());
}

common::HttpResponse NotFound() {
  return Status(404, "NotFound", "the server could not find the requested resource");
}

struct ExternalMetric {
  std::string_view name;
  // The workload's value, nullopt while it has none, and when it was taken.
  std::optional<double> (*value)(const WorkloadView&);
  common::TimePoint (*time)(const WorkloadView&);
};

std::optional<double> Known(double v) {
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

common::TimePoint ObservedAt(const WorkloadView& v) { return v.signals.observed_at; }

constexpr ExternalMetric kMetrics[] = {
    {"queuelens-recommended-replicas",
     [](const WorkloadView& v) -> std::optional<double> {
       if (!v.recommendation.replicas) return std::nullopt;
       return *v.recommendation.replicas;
     },
     [](const WorkloadView& v) { return v.recommendation.computed_at; }},
    {"queuelens-queue-length", [](const WorkloadView& v) { return Known(v.signals.queue_length); },
     ObservedAt},
    {"queuelens-inflight-requests", [](const WorkloadView& v) { return Known(v.signals.inflight); },
     ObservedAt},
    {"queuelens-runqueue-wait-seconds",
     [](const WorkloadView& v) { return Known(v.signals.runqueue_wait_per_timeslice_seconds); },
     ObservedAt},
};

const ExternalMetric* FindMetric(std::string_view name) {
  for (const ExternalMetric& m : kMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

void WriteGroupVersion(Writer& w) {
  w.StartObject();
  w.Key("groupVersion");
  WriteString(w, kGroupVersion);
  w.Key("version");
  WriteString(w, kVersion);
  w.EndObject();
}

void WriteGroup(Writer& w, bool with_type) {
  w.StartObject();
  if (with_type) {
    w.Key("kind");
    WriteString(w, "APIGroup");
    w.Key("apiVersion");
    WriteString(w, "v1");
  }
  w.Key("name");
  WriteString(w, kGroup);
  w.Key("versions");
  w.StartArray();
  WriteGroupVersion(w);
  w.EndArray();
  w.Key("preferredVersion");
  WriteGroupVersion(w);
  w.EndObject();
}

std::string GroupList() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "APIGroupList");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("groups");
  w.StartArray();
  WriteGroup(w, false);
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string Group() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  WriteGroup(w, true);
  return buf.GetString();
}

// One namespaced resource per metric, as custom-metrics-apiserver lists them.
std::string ResourceList() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "APIResourceList");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("groupVersion");
  WriteString(w, kGroupVersion);
  w.Key("resources");
  w.StartArray();
  for (const ExternalMetric& m : kMetrics) {
    w.StartObject();
    w.Key("name");
    WriteString(w, m.name);
    w.Key("singularName");
    WriteString(w, "");
    w.Key("namespaced");
    w.Bool(true);
    w.Key("kind");
    WriteString(w, "ExternalMetricValueList");
    w.Key("verbs");
    w.StartArray();
    WriteString(w, "get");
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a blank), as Go's url.Values encodes.
std::optional<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      const int hi = i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
      const int lo = hi >= 0 ? HexDigit(s[i + 2]) : -1;
      if (lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

// The decoded value of `name` in the query; "" when absent, nullopt when badly encoded.
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::optional<std::string> key = FormDecode(pair.substr(0, eq));
    if (!key) return std::nullopt;
    if (*key != name) continue;
    return eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
  }
  return std::string();
}

// The trace service with which the workload's labels match, "" for a workload without one;
// nullopt when none matches.
std::optional<std::string> MatchingService(const WorkloadView& view,
                                           const LabelSelector& selector) {
  Labels labels = {{"namespace", view.config.key.k8s_namespace},
                   {"workload", view.config.key.workload}};
  if (view.config.services.empty()) {
    return Matches(selector, labels) ? std::optional<std::string>("") : std::nullopt;
  }
  for (const std::string& service : view.config.services) {
    labels["service"] = service;
    if (Matches(selector, labels)) return service;
  }
  return std::nullopt;
}

common::HttpResponse MetricValues(const Snapshot& snapshot, std::string_view ns,
                                  std::string_view name, std::string_view query) {
  const ExternalMetric* metric = FindMetric(name);
  if (metric == nullptr) {
    return Status(404, "NotFound",
                  "unknown metric \"" + std::string(name) + "\"; GET " + std::string(kVersionPath) +
                      " lists the metrics");
  }
  const std::optional<std::string> selector_text = QueryParameter(query, "labelSelector");
  if (!selector_text) return Status(400, "BadRequest", "badly percent-encoded query");
  std::string error;
  const std::optional<LabelSelector> selector = ParseLabelSelector(*selector_text, &error);
  if (!selector) {
    return Status(400, "BadRequest", "invalid labelSelector \"" + *selector_text + "\": " + error);
  }

  struct Item {
    const WorkloadView* view;
    std::string service;
    double value;
  };
  std::vector<Item> items;
  std::string without_value;
  for (const WorkloadView& view : snapshot.workloads) {
    if (view.config.key.k8s_namespace != ns) continue;
    std::optional<std::string> service = MatchingService(view, *selector);
    if (!service) continue;
    const std::optional<double> value = metric->value(view);
    if (!value) {
      without_value += (without_value.empty() ? "" : ", ") + view.config.key.workload;
      continue;
    }
    items.push_back({&view, std::move(*service), *value});
  }
  if (!without_value.empty()) {
    return Status(503, "ServiceUnavailable",
                  std::string(name) + " has no value yet for " + std::string(ns) + "/{" +
                      without_value + "}");
  }
  if (items.empty()) {
    return Status(404, "NotFound",
                  "no workload in namespace \"" + std::string(ns) + "\" matches labelSelector \"" +
                      *selector_text + "\" for " + std::string(name));
  }

  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "ExternalMetricValueList");
  w.Key("apiVersion");
  WriteString(w, kGroupVersion);
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("items");
  w.StartArray();
  for (const Item& item : items) {
    w.StartObject();
    w.Key("metricName");
    WriteString(w, name);
    w.Key("metricLabels");
    w.StartObject();
    w.Key("namespace");
    WriteString(w, item.view->config.key.k8s_namespace);
    w.Key("workload");
    WriteString(w, item.view->config.key.workload);
    if (!item.service.empty()) {
      w.Key("service");
      WriteString(w, item.service);
    }
    w.EndObject();
    w.Key("timestamp");
    WriteString(w, FormatRfc3339(metric->time(*item.view)));
    w.Key("value");
    WriteString(w, FormatQuantity(item.value));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf.GetString());
}

// --- label selectors ---

enum class Tok { kIdent, kComma, kOpen, kClose, kEq, kDoubleEq, kNotEq, kNot, kUnsupported, kEnd };

struct Token {
  Tok kind;
  std::string_view text;
  size_t pos;  // 1-based character position, for messages
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) { return c == ',' || c == '(' || c == ')' || c == '=' || c == '!'; }

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i == s.size()) break;
    const size_t start = i;
    const auto add = [&](Tok kind, size_t length) {
      tokens.push_back({kind, s.substr(start, length), start + 1});
      i = start + length;
    };
    const bool next_eq = i + 1 < s.size() && s[i + 1] == '=';
    switch (s[i]) {
      case ',':
        add(Tok::kComma, 1);
        break;
      case '(':
        add(Tok::kOpen, 1);
        break;
      case ')':
        add(Tok::kClose, 1);
        break;
      case '=':
        next_eq ? add(Tok::kDoubleEq, 2) : add(Tok::kEq, 1);
        break;
      case '!':
        next_eq ? add(Tok::kNotEq, 2) : add(Tok::kNot, 1);
        break;
      case '<':
      case '>':  // Kubernetes' gt / lt: never produced from a metav1.LabelSelector
        add(Tok::kUnsupported, 1);
        break;
      default: {
        size_t end = i;
        while (end < s.size() && !IsBlank(s[end]) && !IsSpecial(s[end]) && s[end] != '<' &&
               s[end] != '>') {
          ++end;
        }
        add(Tok::kIdent, end - i);
      }
    }
  }
  tokens.push_back({Tok::kEnd, "", s.size() + 1});
  return tokens;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Kubernetes' label name part and label value syntax: up to 63 of [A-Za-z0-9_.-], starting and
// ending alphanumeric.
bool IsLabelName(std::string_view s) {
  return !s.empty() && s.size() <= 63 && IsAlnum(s.front()) && IsAlnum(s.back()) &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: the optional prefix of a key.
bool IsDnsSubdomain(std::string_view s) {
  const auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !s.empty() && s.size() <= 253 && lower_alnum(s.front()) && lower_alnum(s.back()) &&
         std::all_of(s.begin(), s.end(),
                     [&](char c) { return lower_alnum(c) || c == '-' || c == '.'; });
}

bool IsQualifiedName(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsLabelName(key);
  return IsDnsSubdomain(key.substr(0, slash)) && IsLabelName(key.substr(slash + 1));
}

bool IsLabelValue(std::string_view v) { return v.empty() || IsLabelName(v); }

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : tokens_(Lex(text)) {}

  std::optional<LabelSelector> Parse(std::string* error) {
    LabelSelector selector;
    if (Peek().kind == Tok::kEnd) return selector;
    while (true) {
      std::optional<LabelRequirement> r = Requirement();
      if (!r) break;
      selector.push_back(std::move(*r));
      if (Peek().kind == Tok::kEnd) return selector;
      if (Peek().kind != Tok::kComma) {
        Fail("expected ',' or the end");
        break;
      }
      Next();
    }
    *error = error_;
    return std::nullopt;
  }

 private:
  const Token& Peek() const { return tokens_[at_]; }
  const Token& Next() {
    const Token& t = tokens_[at_];
    if (t.kind != Tok::kEnd) ++at_;
    return t;
  }

  void Fail(std::string_view what) {
    const Token& t = Peek();
    error_ = "at character " + std::to_string(t.pos) + ": " + std::string(what) +
             (t.kind == Tok::kEnd ? ", found the end" : ", found \"" + std::string(t.text) + "\"");
  }

  std::optional<std::string> Key() {
    if (Peek().kind != Tok::kIdent) {
      Fail("expected a label key");
      return std::nullopt;
    }
    if (!IsQualifiedName(Peek().text)) {
      Fail("invalid label key (want [prefix/]name, name up to 63 of A-Z a-z 0-9 - _ .)");
      return std::nullopt;
    }
    return std::string(Next().text);
  }

  // A value where one may stand: an identifier, or nothing (the empty value) before `,` `)` or
  // the end.
  std::optional<std::string> Value() {
    const Tok kind = Peek().kind;
    if (kind == Tok::kComma || kind == Tok::kClose || kind == Tok::kEnd) return std::string();
    if (kind != Tok::kIdent) {
      Fail("expected a label value");
      return std::nullopt;
    }
    if (!IsLabelValue(Peek().text)) {
      Fail("invalid label value (want up to 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)");
      return std::nullopt;
    }
    return std::string(Next().text);
  }

  bool ValueSet(std::vector<std::string>& values) {
    if (Peek().kind != Tok::kOpen) {
      Fail("expected '('");
      return false;
    }
    Next();
    if (Peek().kind == Tok::kClose) {
      Fail("the set of values must not be empty");
      return false;
    }
    while (true) {
      std::optional<std::string> v = Value();
      if (!v) return false;
      values.push_back(std::move(*v));
      if (Peek().kind == Tok::kClose) {
        Next();
        return true;
      }
      if (Peek().kind != Tok::kComma) {
        Fail("expected ',' or ')'");
        return false;
      }
      Next();
    }
  }

  std::optional<LabelRequirement> Requirement() {
    const bool negated = Peek().kind == Tok::kNot;
    if (negated) Next();
    std::optional<std::string> key = Key();
    if (!key) return std::nullopt;
    LabelRequirement r{.key = std::move(*key)};
    if (negated) {
      r.op = LabelRequirement::Op::kDoesNotExist;
      return r;
    }
    const Token& op = Peek();
    switch (op.kind) {
      case Tok::kEnd:
      case Tok::kComma:
        r.op = LabelRequirement::Op::kExists;
        return r;
      case Tok::kEq:
      case Tok::kDoubleEq:
      case Tok::kNotEq: {
        r.op = op.kind == Tok::kNotEq ? LabelRequirement::Op::kNotEquals
                                      : LabelRequirement::Op::kEquals;
        Next();
        std::optional<std::string> value = Value();
        if (!value) return std::nullopt;
        r.values.push_back(std::move(*value));
        return r;
      }
      case Tok::kIdent:
        if (op.text == "in" || op.text == "notin") {
          r.op = op.text == "in" ? LabelRequirement::Op::kIn : LabelRequirement::Op::kNotIn;
          Next();
          if (!ValueSet(r.values)) return std::nullopt;
          return r;
        }
        break;
      case Tok::kUnsupported:
        Fail("the operators < and > are not supported");
        return std::nullopt;
      default:
        break;
    }
    Fail("expected =, ==, !=, in, notin, ',' or the end after the key");
    return std::nullopt;
  }

  std::vector<Token> tokens_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error) {
  return SelectorParser(text).Parse(error);
}

bool Matches(const LabelSelector& selector, const Labels& labels) {
  for (const LabelRequirement& r : selector) {
    const auto it = labels.find(r.key);
    const bool present = it != labels.end();
    const bool listed =
        present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::kEquals:
      case LabelRequirement::Op::kIn:
        if (!listed) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
      case LabelRequirement::Op::kNotIn:
        if (listed) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!present) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (present) return false;
        break;
    }
  }
  return true;
}

std::string FormatQuantity(double value) {
  // Past ±9e18 milli-units int64 arithmetic would overflow; no metric here comes close.
  constexpr double kMaxMilli = 9e18;
  const double milli = std::clamp(std::round(value * 1000), -kMaxMilli, kMaxMilli);
  if (milli != 0 || value == 0) {
    const auto m = static_cast<long long>(milli);
    return m % 1000 == 0 ? std::to_string(m / 1000) : std::to_string(m) + "m";
  }
  const long long nano = std::llround(value * 1e9);
  if (nano == 0) return "0";
  return nano % 1000 == 0 ? std::to_string(nano / 1000) + "u" : std::to_string(nano) + "n";
}

std::optional<common::HttpResponse> RefuseUnauthenticated(
    const common::HttpRequest& request, const std::vector<std::string>& allowed_names) {
  if (!request.client_cert_verified) {
    return Status(401, "Unauthorized",
                  "Unauthorized: a client certificate signed by the requestheader client CA is "
                  "required");
  }
  if (!allowed_names.empty() && std::find(allowed_names.begin(), allowed_names.end(),
                                          request.client_cert_cn) == allowed_names.end()) {
    return Status(403, "Forbidden",
                  "client certificate common name \"" + request.client_cert_cn +
                      "\" is not one of the requestheader allowed names");
  }
  return std::nullopt;
}

common::HttpResponse HandleExternalMetrics(const Snapshot& snapshot,
                                           const common::HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return Status(405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource");
  }
  std::string_view path = request.path;
  if (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
  if (path == "/apis") {
    // The aggregator asks for APIGroupDiscoveryList first; a 406 sends it to the legacy
    // documents, where a 200 with an APIGroupList would fail to decode and mark us stale.
    if (request.Header("accept").find("as=APIGroupDiscoveryList") != std::string_view::npos) {
      return Status(406, "NotAcceptable",
                    "aggregated discovery is not served; ask for application/json");
    }
    return JsonResponse(200, GroupList());
  }
  if (path == kGroupPath) return JsonResponse(200, Group());
  if (path == kVersionPath) return JsonResponse(200, ResourceList());
  static constexpr std::string_view kNamespaces = "/namespaces/";
  if (path.starts_with(kVersionPath) && path.substr(kVersionPath.size()).starts_with(kNamespaces)) {
    const std::string_view rest = path.substr(kVersionPath.size() + kNamespaces.size());
    const size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size() &&
        rest.find('/', slash + 1) == std::string_view::npos) {
      return MetricValues(snapshot, rest.substr(0, slash), rest.substr(slash + 1), request.query);
    }
  }
  return NotFound();
}

}  // namespace recommender::output
