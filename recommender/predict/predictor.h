#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "recommender/predict/series.h"

// A loaded DeepScaler model as the policy and the status page see it, with no dependency on
// libtorch: queuelens built with libtorch loads model files through AdapGla (predictor_torch.cc);
// built without, LoadPredictor refuses every file and says why (predictor_none.cc).
namespace recommender::predict {

class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual const std::vector<std::string>& services() const = 0;
  // Minutes of history one prediction reads.
  virtual int steps() const = 0;
  // The learned service graph, N×N row-major over services(): [i][j] is the weight of i → j.
  virtual const std::vector<float>& graph() const = 0;
  // Next-minute replicas per service (raw, unrounded) from the last steps() minutes of
  // `window`, whose services are services() in order. Throws std::invalid_argument otherwise.
  virtual std::vector<float> Predict(const Series& window) const = 0;
};

// False when queuelens was built without libtorch: no model can be loaded.
bool PredictorAvailable();

// The model in a model file (queuelens-train --out), or nullptr with `error` set: a truncated,
// corrupt, other-version or mismatched file, or no libtorch in this build.
std::unique_ptr<Predictor> LoadPredictor(std::string_view bytes, std::string* error);

}  // namespace recommender::predict
