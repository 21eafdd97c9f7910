#include "recommender/actuate/kube_objects.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>
#include <ctime>

#include "recommender/output/quantity.h"

namespace recommender::actuate {
namespace {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

const Value* Member(const Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string Str(const Value& v, const char* name) {
  const Value* m = Member(v, name);
  return m != nullptr && m->IsString() ? std::string(m->GetString(), m->GetStringLength()) : "";
}

const Value* Path(const Value& v, std::initializer_list<const char*> names) {
  const Value* cur = &v;
  for (const char* n : names) {
    cur = Member(*cur, n);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::optional<double> CpuOf(const Value* list) {
  if (list == nullptr) return std::nullopt;
  const Value* cpu = Member(*list, "cpu");
  if (cpu == nullptr) return std::nullopt;
  if (cpu->IsNumber()) return cpu->GetDouble();
  if (cpu->IsString()) return ParseCpu(cpu->GetString());
  return std::nullopt;
}

bool Parse(std::string_view json, rapidjson::Document& doc, std::string* error) {
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    *error = "not a JSON object";
    return false;
  }
  return true;
}

PodState ReadPod(const Value& pod) {
  PodState p;
  if (const Value* meta = Member(pod, "metadata")) {
    p.name = Str(*meta, "name");
    p.uid = Str(*meta, "uid");
  }
  if (const Value* containers = Path(pod, {"spec", "containers"});
      containers && containers->IsArray()) {
    for (const Value& c : containers->GetArray()) {
      PodContainer& pc = p.containers.emplace_back();
      pc.name = Str(c, "name");
      pc.cpu_request = CpuOf(Path(c, {"resources", "requests"}));
      pc.cpu_limit = CpuOf(Path(c, {"resources", "limits"}));
    }
  }
  if (const Value* status = Member(pod, "status")) {
    p.phase = Str(*status, "phase");
    if (const Value* conditions = Member(*status, "conditions");
        conditions && conditions->IsArray()) {
      for (const Value& c : conditions->GetArray()) {
        if (Str(c, "status") != "True") continue;
        const std::string type = Str(c, "type");
        if (type == "PodResizePending") {
          p.resize_pending = Str(c, "reason");
          p.resize_pending_message = Str(c, "message");
        } else if (type == "PodResizeInProgress") {
          p.resize_in_progress = true;
        }
      }
    }
  }
  return p;
}

void WriteString(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

Vpa ReadVpa(const Value& o) {
  Vpa v;
  if (const Value* meta = Member(o, "metadata")) {
    v.k8s_namespace = Str(*meta, "namespace");
    v.name = Str(*meta, "name");
    v.resource_version = Str(*meta, "resourceVersion");
  }
  if (const Value* spec = Member(o, "spec")) {
    if (const Value* rs = Member(*spec, "recommenders"); rs && rs->IsArray()) {
      for (const Value& r : rs->GetArray()) v.recommenders.push_back(Str(r, "name"));
    }
    if (const Value* ref = Member(*spec, "targetRef")) {
      v.target_kind = Str(*ref, "kind");
      v.target_name = Str(*ref, "name");
    }
    if (const Value* cps = Path(*spec, {"resourcePolicy", "containerPolicies"});
        cps && cps->IsArray()) {
      for (const Value& cp : cps->GetArray()) {
        VpaContainerPolicy& p = v.policies.emplace_back();
        p.container = Str(cp, "containerName");
        p.off = Str(cp, "mode") == "Off";
        if (const Value* cr = Member(cp, "controlledResources"); cr && cr->IsArray()) {
          p.controls_cpu = false;
          for (const Value& r : cr->GetArray()) {
            if (r.IsString() && std::string_view(r.GetString()) == "cpu") p.controls_cpu = true;
          }
        }
        p.min_cpu = CpuOf(Member(cp, "minAllowed"));
        p.max_cpu = CpuOf(Member(cp, "maxAllowed"));
      }
    }
  }
  if (const Value* status = Member(o, "status")) {
    if (const Value* recs = Path(*status, {"recommendation", "containerRecommendations"});
        recs && recs->IsArray()) {
      for (const Value& r : recs->GetArray()) {
        const auto cpu = [&](const char* field) {
          const Value* list = Member(r, field);
          const Value* q = list ? Member(*list, "cpu") : nullptr;
          return q && q->IsString() ? std::string(q->GetString()) : "";
        };
        v.recommendation.push_back({Str(r, "containerName"), cpu("target"), cpu("lowerBound"),
                                    cpu("upperBound"), cpu("uncappedTarget")});
      }
    }
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartArray();
    if (const Value* conditions = Member(*status, "conditions");
        conditions && conditions->IsArray()) {
      for (const Value& c : conditions->GetArray()) {
        if (Str(c, "type") == "RecommendationProvided") {
          v.provided = Str(c, "status");
          continue;
        }
        c.Accept(w);
      }
    }
    w.EndArray();
    v.conditions_json.assign(buffer.GetString(), buffer.GetSize());
  }
  if (v.conditions_json.empty()) v.conditions_json = "[]";
  return v;
}

void WriteCpuList(Writer& w, const char* key, std::string_view quantity) {
  w.Key(key);
  w.StartObject();
  w.Key("cpu");
  WriteString(w, quantity);
  w.EndObject();
}

}  // namespace

std::optional<double> ParseCpu(std::string_view q) {
  if (q.empty()) return std::nullopt;
  double scale = 1;
  switch (q.back()) {
    case 'm':
      scale = 1e-3;
      break;
    case 'u':
      scale = 1e-6;
      break;
    case 'n':
      scale = 1e-9;
      break;
    case 'k':
      scale = 1e3;
      break;
    default:
      break;
  }
  if (scale != 1) q.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(q.data(), q.data() + q.size(), value);
  if (ec != std::errc() || end != q.data() + q.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return value * scale;
}

std::string FormatMicroTime(common::TimePoint t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(((micros % 1'000'000) + 1'000'000) % 1'000'000));
  return buf;
}

std::optional<common::TimePoint> ParseTime(std::string_view text) {
  std::tm tm{};
  int fraction_digits = 0;
  long long fraction = 0;
  int consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (fraction_digits < 6) {
        fraction = fraction * 10 + (s[i] - '0');
        ++fraction_digits;
      }
    }
  }
  if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
  for (; fraction_digits < 6; ++fraction_digits) fraction *= 10;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  return common::TimePoint{} + std::chrono::seconds{seconds} + std::chrono::microseconds{fraction};
}

std::optional<ResizeFields> ParseResizeFields(std::string_view text) {
  if (text == "none") return ResizeFields::kNone;
  if (text == "requests") return ResizeFields::kRequests;
  if (text == "limits") return ResizeFields::kLimits;
  if (text == "both") return ResizeFields::kBoth;
  return std::nullopt;
}

std::string_view ResizeFieldsName(ResizeFields fields) {
  switch (fields) {
    case ResizeFields::kRequests:
      return "requests";
    case ResizeFields::kLimits:
      return "limits";
    case ResizeFields::kBoth:
      return "both";
    case ResizeFields::kNone:
      break;
  }
  return "none";
}

const PodContainer* PodState::Container(std::string_view n) const {
  for (const PodContainer& c : containers) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::optional<PodState> ParsePod(std::string_view json, std::string* error) {
  rapidjson::Document doc;
  if (!Parse(json, doc, error)) return std::nullopt;
  return ReadPod(doc);
}

std::optional<std::vector<PodState>> ParsePodList(std::string_view json, std::string* error) {
  rapidjson::Document doc;
  if (!Parse(json, doc, error)) return std::nullopt;
  const Value* items = Member(doc, "items");
  if (items == nullptr || !items->IsArray()) {
    if (items != nullptr && items->IsNull()) return std::vector<PodState>{};
    *error = "PodList without items";
    return std::nullopt;
  }
  std::vector<PodState> pods;
  for (const Value& p : items->GetArray()) pods.push_back(ReadPod(p));
  return pods;
}

std::string DeletionCostPatch(int cost) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("metadata");
  w.StartObject();
  w.Key("annotations");
  w.StartObject();
  WriteString(w, kPodDeletionCost);
  WriteString(w, std::to_string(cost));
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

std::string ResizePatch(std::string_view container, double cores, ResizeFields fields) {
  const std::string q = output::FormatQuantity(cores);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("spec");
  w.StartObject();
  w.Key("containers");
  w.StartArray();
  w.StartObject();
  w.Key("name");
  WriteString(w, container);
  w.Key("resources");
  w.StartObject();
  if (fields == ResizeFields::kRequests || fields == ResizeFields::kBoth) {
    WriteCpuList(w, "requests", q);
  }
  if (fields == ResizeFields::kLimits || fields == ResizeFields::kBoth) {
    WriteCpuList(w, "limits", q);
  }
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

const VpaContainerPolicy* Vpa::PolicyFor(std::string_view container) const {
  const VpaContainerPolicy* fallback = nullptr;
  for (const VpaContainerPolicy& p : policies) {
    if (p.container == container) return &p;
    if (p.container == "*") fallback = &p;
  }
  return fallback;
}

std::optional<Vpa> ParseVpa(std::string_view json, std::string* error) {
  rapidjson::Document doc;
  if (!Parse(json, doc, error)) return std::nullopt;
  return ReadVpa(doc);
}

std::optional<std::vector<Vpa>> ParseVpaList(std::string_view json, std::string* resource_version,
                                             std::string* error) {
  rapidjson::Document doc;
  if (!Parse(json, doc, error)) return std::nullopt;
  const Value* items = Member(doc, "items");
  if (items == nullptr || !items->IsArray()) {
    *error = "VerticalPodAutoscalerList without items";
    return std::nullopt;
  }
  if (const Value* meta = Member(doc, "metadata"))
    *resource_version = Str(*meta, "resourceVersion");
  std::vector<Vpa> out;
  for (const Value& v : items->GetArray()) out.push_back(ReadVpa(v));
  return out;
}

std::optional<VpaWatchEvent> ParseVpaWatchEvent(std::string_view line, std::string* error) {
  rapidjson::Document doc;
  if (!Parse(line, doc, error)) return std::nullopt;
  VpaWatchEvent e;
  e.type = Str(doc, "type");
  const Value* object = Member(doc, "object");
  if (e.type.empty() || object == nullptr || !object->IsObject()) {
    *error = "watch event without type or object";
    return std::nullopt;
  }
  if (e.type == "ERROR") {
    if (const Value* code = Member(*object, "code"); code && code->IsInt()) e.code = code->GetInt();
    e.message = Str(*object, "message");
  } else {
    e.object = ReadVpa(*object);
  }
  return e;
}

std::string VpaStatusPatch(const Vpa& vpa, const std::vector<VpaRecommendation>& recommendation,
                           common::TimePoint now) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("status");
  w.StartObject();
  w.Key("recommendation");
  w.StartObject();
  w.Key("containerRecommendations");
  w.StartArray();
  for (const VpaRecommendation& r : recommendation) {
    w.StartObject();
    w.Key("containerName");
    WriteString(w, r.container);
    WriteCpuList(w, "target", r.target);
    WriteCpuList(w, "lowerBound", r.lower_bound);
    WriteCpuList(w, "upperBound", r.upper_bound);
    WriteCpuList(w, "uncappedTarget", r.uncapped_target);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  // A merge patch replaces lists whole: the other writers' conditions go back as they were.
  w.Key("conditions");
  w.StartArray();
  rapidjson::Document others;
  others.Parse(vpa.conditions_json.c_str());
  if (!others.HasParseError() && others.IsArray()) {
    for (const Value& c : others.GetArray()) c.Accept(w);
  }
  w.StartObject();
  w.Key("type");
  w.String("RecommendationProvided");
  w.Key("status");
  w.String(recommendation.empty() ? "False" : "True");
  w.Key("lastTransitionTime");
  // metav1.Time: whole seconds.
  const std::string stamp = FormatMicroTime(std::chrono::floor<std::chrono::seconds>(now));
  WriteString(w, stamp.substr(0, 19) + "Z");
  if (recommendation.empty()) {
    w.Key("reason");
    w.String("NoMatchingWorkload");
    w.Key("message");
    w.String("queuelens has no CPU recommendation for the target's containers");
  }
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<Lease> ParseLease(std::string_view json, std::string* error) {
  rapidjson::Document doc;
  if (!Parse(json, doc, error)) return std::nullopt;
  Lease l;
  if (const Value* meta = Member(doc, "metadata"))
    l.resource_version = Str(*meta, "resourceVersion");
  if (const Value* spec = Member(doc, "spec")) {
    l.holder = Str(*spec, "holderIdentity");
    if (const Value* d = Member(*spec, "leaseDurationSeconds"); d && d->IsInt()) {
      l.duration_seconds = d->GetInt();
    }
    if (const Value* t = Member(*spec, "leaseTransitions"); t && t->IsInt()) {
      l.transitions = t->GetInt();
    }
    if (std::string s = Str(*spec, "acquireTime"); !s.empty()) l.acquire_time = ParseTime(s);
    if (std::string s = Str(*spec, "renewTime"); !s.empty()) l.renew_time = ParseTime(s);
  }
  return l;
}

std::string LeaseBody(std::string_view k8s_namespace, std::string_view name, const Lease& lease) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("apiVersion");
  w.String("coordination.k8s.io/v1");
  w.Key("kind");
  w.String("Lease");
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  WriteString(w, name);
  w.Key("namespace");
  WriteString(w, k8s_namespace);
  if (!lease.resource_version.empty()) {
    w.Key("resourceVersion");
    WriteString(w, lease.resource_version);
  }
  w.EndObject();
  w.Key("spec");
  w.StartObject();
  w.Key("holderIdentity");
  WriteString(w, lease.holder);
  w.Key("leaseDurationSeconds");
  w.Int(lease.duration_seconds);
  if (lease.acquire_time) {
    w.Key("acquireTime");
    WriteString(w, FormatMicroTime(*lease.acquire_time));
  }
  if (lease.renew_time) {
    w.Key("renewTime");
    WriteString(w, FormatMicroTime(*lease.renew_time));
  }
  w.Key("leaseTransitions");
  w.Int(lease.transitions);
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string StatusMessage(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    if (std::string m = Str(doc, "message"); !m.empty()) return m;
  }
  return std::string(body.substr(0, 200));
}

}  // namespace recommender::actuate
