#include "recommender/checkpoint/policy_state.h"

#include <deque>
#include <utility>

namespace recommender::checkpoint {
namespace {

void WriteQueueBalancing(const policies::QueueBalancingMemory& m, json::Writer& w) {
  w.StartObject();
  w.Key("allocated");
  w.Bool(m.allocated);
  json::Time(w, "allocated_at", m.allocated_at);
  w.Key("replicas");
  w.Int(m.replicas);
  json::WriteTerms(w, "terms", m.terms);
  w.EndObject();
}

void ReadQueueBalancing(json::ObjectReader& parent, policies::QueueBalancingMemory& m) {
  const rapidjson::Value* v = parent.Object("queue_balancing");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("queue_balancing"));
  r.Bool("allocated", m.allocated);
  r.Time("allocated_at", m.allocated_at);
  r.Int("replicas", m.replicas);
  r.ReadTerms("terms", m.terms);
  parent.Adopt(r);
}

void WriteHab(const policies::HabMemory& m, json::Writer& w) {
  w.StartObject();
  w.Key("stage");
  w.Int(static_cast<int>(m.stage));
  json::Double(w, "phi_left", m.phi_left);
  json::Double(w, "phi_right", m.phi_right);
  json::Double(w, "phi", m.phi);
  json::Time(w, "started_at", m.started_at);
  json::Time(w, "probe_at", m.probe_at);
  json::Double(w, "last_latency_seconds", m.last_latency_seconds);
  json::Double(w, "pods", m.pods);
  w.EndObject();
}

void ReadHab(json::ObjectReader& parent, policies::HabMemory& m) {
  const rapidjson::Value* v = parent.Object("hab");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("hab"));
  int stage = 0;
  r.Int("stage", stage);
  if (r.ok() && (stage < 0 || stage > static_cast<int>(policies::HabMemory::Stage::kConverged))) {
    r.Fail("stage", "outside 0..3");
  }
  m.stage = static_cast<policies::HabMemory::Stage>(stage);
  r.Double("phi_left", m.phi_left);
  r.Double("phi_right", m.phi_right);
  r.Double("phi", m.phi);
  r.Time("started_at", m.started_at);
  r.Time("probe_at", m.probe_at);
  r.Double("last_latency_seconds", m.last_latency_seconds);
  r.Double("pods", m.pods);
  parent.Adopt(r);
}

void WriteThrottleTarget(const policies::ThrottleTargetMemory& m, json::Writer& w) {
  w.StartObject();
  json::Double(w, "limit", m.limit);
  json::Double(w, "last_limit", m.last_limit);
  json::Double(w, "margin", m.margin);
  w.Key("last_scale_down");
  w.Bool(m.last_scale_down);
  json::Time(w, "last_decision", m.last_decision);
  w.EndObject();
}

void ReadThrottleTarget(json::ObjectReader& parent, policies::ThrottleTargetMemory& m) {
  const rapidjson::Value* v = parent.Object("throttle_target");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("throttle_target"));
  r.Double("limit", m.limit);
  r.Double("last_limit", m.last_limit);
  r.Double("margin", m.margin);
  r.Bool("last_scale_down", m.last_scale_down);
  r.Time("last_decision", m.last_decision);
  parent.Adopt(r);
}

void WriteShowar(const policies::ShowarMemory& m, json::Writer& w) {
  w.StartObject();
  w.Key("has_previous");
  w.Bool(m.has_previous);
  json::Double(w, "previous_measured", m.previous_measured);
  w.Key("previous_runqueue");
  w.Bool(m.previous_runqueue);
  json::Double(w, "integral", m.integral);
  json::Time(w, "last_evaluation", m.last_evaluation);
  json::Time(w, "last_scale_up", m.last_scale_up);
  json::Double(w, "last_size_cores", m.last_size_cores);
  w.Key("baseline_learned");
  w.Bool(m.baseline_learned);
  json::Double(w, "baseline_mean", m.baseline_mean);
  json::Double(w, "baseline_variance", m.baseline_variance);
  json::Time(w, "baseline_updated", m.baseline_updated);
  w.EndObject();
}

void ReadShowar(json::ObjectReader& parent, policies::ShowarMemory& m) {
  const rapidjson::Value* v = parent.Object("showar");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("showar"));
  r.Bool("has_previous", m.has_previous);
  r.Double("previous_measured", m.previous_measured);
  r.Bool("previous_runqueue", m.previous_runqueue);
  r.Double("integral", m.integral);
  r.Time("last_evaluation", m.last_evaluation);
  r.Time("last_scale_up", m.last_scale_up);
  r.Double("last_size_cores", m.last_size_cores);
  r.Bool("baseline_learned", m.baseline_learned);
  r.Double("baseline_mean", m.baseline_mean);
  r.Double("baseline_variance", m.baseline_variance);
  r.Time("baseline_updated", m.baseline_updated);
  parent.Adopt(r);
}

void WriteHpa(const policies::HpaCpuMemory& m, json::Writer& w) {
  w.StartObject();
  json::TimedValues(w, "recommendations", m.recommendations);
  json::TimedValues(w, "scale_events", m.scale_events);
  json::Time(w, "last_sync", m.last_sync);
  w.Key("synced");
  w.Bool(m.synced);
  w.Key("last_replicas");
  w.Int(m.last_replicas);
  json::WriteTerms(w, "last_terms", m.last_terms);
  w.EndObject();
}

void ReadHpa(json::ObjectReader& parent, policies::HpaCpuMemory& m) {
  const rapidjson::Value* v = parent.Object("hpa_cpu");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("hpa_cpu"));
  r.TimedValues("recommendations", m.recommendations);
  r.TimedValues("scale_events", m.scale_events);
  r.Time("last_sync", m.last_sync);
  r.Bool("synced", m.synced);
  r.Int("last_replicas", m.last_replicas);
  r.ReadTerms("last_terms", m.last_terms);
  parent.Adopt(r);
}

void WriteK8sCpu(const policies::K8sCpuMemory& m, json::Writer& w) {
  w.StartObject();
  json::Doubles(w, "recommendations", m.recommendations);
  json::Time(w, "last_period", m.last_period);
  w.Key("started");
  w.Bool(m.started);
  json::Double(w, "last_usage_cores", m.last_usage_cores);
  w.EndObject();
}

void ReadK8sCpu(json::ObjectReader& parent, const char* key, policies::K8sCpuMemory& m) {
  const rapidjson::Value* v = parent.Object(key);
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path(key));
  r.Doubles("recommendations", m.recommendations);
  r.Time("last_period", m.last_period);
  r.Bool("started", m.started);
  r.Double("last_usage_cores", m.last_usage_cores);
  // Evaluation reads the newest recommendation once started.
  if (r.ok() && m.started && m.recommendations.empty()) r.Fail("recommendations", "empty");
  parent.Adopt(r);
}

void WriteVpa(const policies::VpaMemory& m, json::Writer& w) {
  w.StartObject();
  json::Doubles(w, "weights", std::deque<double>(m.weights.begin(), m.weights.end()));
  json::Double(w, "total_weight", m.total_weight);
  w.Key("min_bucket");
  w.Int(m.min_bucket);
  w.Key("max_bucket");
  w.Int(m.max_bucket);
  json::Time(w, "reference", m.reference);
  json::Time(w, "first_sample", m.first_sample);
  json::Time(w, "last_sample", m.last_sample);
  json::Double(w, "samples", m.samples);
  json::Double(w, "limit_to_request", m.limit_to_request);
  w.EndObject();
}

void ReadVpa(json::ObjectReader& parent, policies::VpaMemory& m) {
  const rapidjson::Value* v = parent.Object("vpa");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("vpa"));
  std::deque<double> weights;
  r.Doubles("weights", weights);
  m.weights.assign(weights.begin(), weights.end());
  r.Double("total_weight", m.total_weight);
  r.Int("min_bucket", m.min_bucket);
  r.Int("max_bucket", m.max_bucket);
  r.Time("reference", m.reference);
  r.Time("first_sample", m.first_sample);
  r.Time("last_sample", m.last_sample);
  r.Double("samples", m.samples);
  r.Double("limit_to_request", m.limit_to_request);
  // Evaluation indexes the buckets by min_bucket and max_bucket.
  const int buckets = policies::VpaBucketCount(policies::VpaOptions{});
  if (r.ok() && !m.weights.empty() &&
      (static_cast<int>(m.weights.size()) != buckets || m.min_bucket < 0 ||
       m.min_bucket >= buckets || m.max_bucket < 0 || m.max_bucket >= buckets)) {
    r.Fail("weights", "bucket count or min/max bucket out of range");
  }
  parent.Adopt(r);
}

}  // namespace

void WritePolicyState(const policies::PolicyMemory& memory, json::Writer& w) {
  w.StartObject();
  w.Key("queue_balancing");
  WriteQueueBalancing(memory.queue_balancing, w);
  w.Key("hab");
  WriteHab(memory.hab, w);
  w.Key("throttle_target");
  WriteThrottleTarget(memory.throttle_target, w);
  w.Key("showar");
  WriteShowar(memory.showar, w);
  w.Key("hpa_cpu");
  WriteHpa(memory.hpa_cpu, w);
  w.Key("k8s_cpu");
  WriteK8sCpu(memory.k8s_cpu, w);
  w.Key("k8s_cpu_fast");
  WriteK8sCpu(memory.k8s_cpu_fast, w);
  w.Key("vpa");
  WriteVpa(memory.vpa, w);
  w.EndObject();
}

bool ReadPolicyState(const rapidjson::Value& value, policies::PolicyMemory& memory,
                     std::string* error) {
  json::ObjectReader r(value, "policy_state");
  policies::PolicyMemory m;
  ReadThrottleTarget(r, m.throttle_target);
  ReadShowar(r, m.showar);
  ReadHpa(r, m.hpa_cpu);
  ReadK8sCpu(r, "k8s_cpu", m.k8s_cpu);
  ReadK8sCpu(r, "k8s_cpu_fast", m.k8s_cpu_fast);
  ReadHab(r, m.hab);
  ReadQueueBalancing(r, m.queue_balancing);
  ReadVpa(r, m.vpa);
  if (!r.ok()) {
    if (error != nullptr) *error = r.error();
    return false;
  }
  memory = std::move(m);
  return true;
}

void WriteTowerState(const policies::Tower& tower, json::Writer& w) {
  const policies::TowerState& st = tower.state();
  w.StartObject();
  w.Key("samples");
  w.StartArray();
  for (const policies::TowerSample& s : st.samples) {
    w.StartArray();
    w.Double(s.rps);
    w.Int(s.action);
    w.Double(s.p99_ratio);
    w.Double(s.alloc_cores);
    w.EndArray();
  }
  w.EndArray();
  w.Key("action");
  w.Int(st.choice.action);
  w.Key("best_action");
  w.Int(st.choice.best_action);
  json::Double(w, "best_cost", st.choice.best_cost);
  json::Double(w, "bucket_rps", st.choice.bucket_rps);
  w.Key("candidates");
  w.Int(st.choice.candidates);
  w.Key("explored");
  w.Bool(st.choice.explored);
  w.Key("has_choice");
  w.Bool(st.has_choice);
  json::Double(w, "choice_rps", st.choice_rps);
  json::Time(w, "last_choice", st.last_choice);
  w.Key("observed");
  w.Int(st.observed);
  w.Key("rng_state");
  w.Uint64(st.rng_state);
  json::Time(w, "minute_start", st.minute_start);
  w.Key("minute_alloc_passes");
  w.Int(st.minute_alloc_passes);
  json::Double(w, "minute_alloc_sum", st.minute_alloc_sum);
  json::Double(w, "minute_p99_ratio", st.minute_p99_ratio);
  w.Key("minute_has_p99");
  w.Bool(st.minute_has_p99);
  w.Key("minute_p99_inside");
  w.Bool(st.minute_p99_inside);
  w.EndObject();
}

bool ReadTowerState(const rapidjson::Value& value, policies::Tower& tower, std::string* error) {
  json::ObjectReader r(value, "tower");
  policies::TowerState t;
  if (const rapidjson::Value* samples = r.Array("samples")) {
    for (const rapidjson::Value& s : samples->GetArray()) {
      if (!s.IsArray() || s.Size() != 4 || !s[0].IsNumber() || !s[1].IsInt() || !s[2].IsNumber() ||
          !s[3].IsNumber() || s[1].GetInt() < 0 || s[1].GetInt() >= policies::kTowerActions) {
        r.Fail("samples", "entries must be [rps, action 0..80, p99 ratio, alloc cores]");
        break;
      }
      t.samples.push_back({s[0].GetDouble(), s[1].GetInt(), s[2].GetDouble(), s[3].GetDouble()});
    }
  }
  r.Int("action", t.choice.action);
  r.Int("best_action", t.choice.best_action);
  r.Double("best_cost", t.choice.best_cost);
  r.Double("bucket_rps", t.choice.bucket_rps);
  r.Int("candidates", t.choice.candidates);
  r.Bool("explored", t.choice.explored);
  r.Bool("has_choice", t.has_choice);
  r.Double("choice_rps", t.choice_rps);
  r.Time("last_choice", t.last_choice);
  r.Int("observed", t.observed);
  r.Uint64("rng_state", t.rng_state);
  r.Time("minute_start", t.minute_start);
  r.Int("minute_alloc_passes", t.minute_alloc_passes);
  r.Double("minute_alloc_sum", t.minute_alloc_sum);
  r.Double("minute_p99_ratio", t.minute_p99_ratio);
  r.Bool("minute_has_p99", t.minute_has_p99);
  r.Bool("minute_p99_inside", t.minute_p99_inside);
  if (r.ok() && (t.choice.action < 0 || t.choice.action >= policies::kTowerActions)) {
    r.Fail("action", "outside 0..80");
  }
  if (!r.ok()) {
    if (error != nullptr) *error = r.error();
    return false;
  }
  tower.Restore(std::move(t));
  return true;
}

}  // namespace recommender::checkpoint

namespace recommender::checkpoint {

std::string WriteTowerModel(const policies::Tower& tower) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("format");
  w.String(kTowerModelFormat);
  w.Key("version");
  w.Int(1);
  w.Key("tower");
  WriteTowerState(tower, w);
  w.EndObject();
  return buffer.GetString();
}

bool ReadTowerModel(std::string_view text, policies::Tower& tower, std::string* error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    if (error != nullptr) *error = "not a JSON object";
    return false;
  }
  const auto it = doc.FindMember("tower");
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    if (error != nullptr) *error = "missing tower";
    return false;
  }
  policies::Tower restored(tower.options());
  if (!ReadTowerState(it->value, restored, error)) return false;
  restored.StartRun();
  tower = std::move(restored);
  return true;
}

}  // namespace recommender::checkpoint
