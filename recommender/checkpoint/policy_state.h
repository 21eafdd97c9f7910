#pragma once

#include <string>
#include <string_view>

#include "rapidjson/document.h"
#include "recommender/checkpoint/json.h"
#include "recommender/policies/all_policies.h"
#include "recommender/policies/slo_feedback.h"

// The checkpointed state of the policies: each workload's PolicyMemory and the Tower. Readers
// leave their target unchanged on failure and say in `error` which field was wrong. Parse the
// document with rapidjson::kParseFullPrecisionFlag, or restored doubles may differ in the last bit.
namespace recommender::checkpoint {

void WritePolicyState(const policies::PolicyMemory& memory, json::Writer& w);
bool ReadPolicyState(const rapidjson::Value& value, policies::PolicyMemory& memory,
                     std::string* error);

// Samples, current choice, RNG state and the partial minute; the Tower's options are not saved.
void WriteTowerState(const policies::Tower& tower, json::Writer& w);
bool ReadTowerState(const rapidjson::Value& value, policies::Tower& tower, std::string* error);

// The Tower's learned model on its own, to carry a warmed Tower into another run:
//   {"format": "queuelens-tower-model", "version": 1, "tower": {...as WriteTowerState}}
inline constexpr char kTowerModelFormat[] = "queuelens-tower-model";
std::string WriteTowerModel(const policies::Tower& tower);
// Reads the "tower" object of such a document or of a recommender checkpoint, keeps its samples
// and starts a new run (Tower::StartRun) with `tower`'s options. On failure `tower` is unchanged.
bool ReadTowerModel(std::string_view text, policies::Tower& tower, std::string* error);

}  // namespace recommender::checkpoint
