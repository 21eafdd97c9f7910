#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "recommender/combine/post_processors.h"
#include "recommender/model/model.h"
#include "recommender/policies/all_policies.h"

namespace recommender {

// What the policies and the safety post-processors remember about one workload between passes.
struct WorkloadMemory {
  policies::PolicyMemory policies;
  combine::SafetyMemory safety;
};
using Memories = std::map<model::WorkloadKey, WorkloadMemory>;

// The recommender's state as one JSON document:
//   {"format": "queuelens-recommender-checkpoint", "version": 1, "saved_at": <ns since epoch>,
//    "tower": {...},
//    "workloads": [{"namespace", "workload",
//                   "series": {"<series name>": [[<ns since epoch>, <value>], ...], ...},
//                   "policies": {...}, "safety": {...}}]}
std::string WriteCheckpoint(const model::Model& model, const policies::Tower& tower,
                            const Memories& memories, common::TimePoint now);

struct RestoreReport {
  size_t workloads = 0;  // restored
  size_t skipped = 0;    // no longer configured, and not discoverable
};

// Restores a checkpoint all or nothing: everything is read and checked before anything is
// applied, so on failure (false, with `error` saying where) the model, tower and memories are
// unchanged. Workloads that are no longer configured are skipped (re-discovered when discovery
// is on).
bool ReadCheckpoint(std::string_view text, model::Model& model, policies::Tower& tower,
                    Memories& memories, RestoreReport* report, std::string* error);

// Writes `path` atomically: a temporary file in the same directory, fsync, rename, so a crash
// leaves the previous checkpoint or the new one, never a torn file.
bool WriteFileAtomically(const std::string& path, std::string_view data, std::string* error);

// The whole file, or nullopt with `error` (missing file: empty error; unreadable or larger than
// max_bytes: a message).
std::optional<std::string> ReadSmallFile(const std::string& path, size_t max_bytes,
                                         std::string* error);

}  // namespace recommender
