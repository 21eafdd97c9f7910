// The recommender's checkpoint file, as the loop restores it at start-up.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "recommender/checkpoint/checkpoint.h"
#include "recommender/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace model = recommender::model;
namespace policies = recommender::policies;

namespace {

const common::TimePoint kNow{std::chrono::seconds{1'800'000'000}};

// The recommender's state: two configured workloads and discovery of others, as the loop
// builds it from its flags.
struct State {
  State() : model(Configured(), Options()) {}

  static std::vector<recommender::WorkloadConfig> Configured() {
    std::vector<recommender::WorkloadConfig> out(2);
    out[0].key = {"shop", "cart"};
    out[0].services = {"cart"};
    out[0].container = "cart";
    out[1].key = {"shop", "web"};
    out[1].services = {"web"};
    out[1].container = "web";
    out[1].tower_high_cpu_group = true;
    return out;
  }
  static model::ModelOptions Options() {
    recommender::RecommenderConfig config;
    config.discover = true;
    config.discover_max_workloads = 4;
    return config.ToModelOptions();
  }

  std::string Write() const { return recommender::WriteCheckpoint(model, tower, memories, kNow); }

  model::Model model;
  policies::Tower tower;
  recommender::Memories memories;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  State state;
  const std::string empty = state.Write();
  recommender::RestoreReport report;
  std::string error;
  if (!recommender::ReadCheckpoint(text, state.model, state.tower, state.memories, &report,
                                   &error)) {
    // All or nothing: a refused checkpoint changes nothing.
    QL_FUZZ_CHECK(!error.empty());
    QL_FUZZ_CHECK(state.Write() == empty);
    return 0;
  }
  QL_FUZZ_CHECK(report.workloads <= state.model.size());

  // What was restored, saved and restored again, saves the same.
  const std::string saved = state.Write();
  State again;
  QL_FUZZ_CHECK(recommender::ReadCheckpoint(saved, again.model, again.tower, again.memories,
                                            nullptr, &error));
  const std::string resaved = again.Write();
  if (resaved != saved)
    std::fprintf(stderr, "saved:   %s\nresaved: %s\n", saved.c_str(), resaved.c_str());
  QL_FUZZ_CHECK(resaved == saved);
  return 0;
}
