#pragma once

#include <string>

#include "rapidjson/document.h"
#include "recommender/checkpoint/json.h"
#include "recommender/combine/post_processors.h"

// The checkpointed state of the safety post-processors (recommender/combine/). On failure
// `memory` is left unchanged and `error` says which field was wrong. Parse with
// rapidjson::kParseFullPrecisionFlag (see policy_state.h).
namespace recommender::checkpoint {

void WriteSafetyState(const combine::SafetyMemory& memory, json::Writer& w);
bool ReadSafetyState(const rapidjson::Value& value, combine::SafetyMemory& memory,
                     std::string* error);

}  // namespace recommender::checkpoint
