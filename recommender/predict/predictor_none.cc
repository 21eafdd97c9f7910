#include "recommender/predict/predictor.h"

namespace recommender::predict {

bool PredictorAvailable() { return false; }

std::unique_ptr<Predictor> LoadPredictor(std::string_view, std::string* error) {
  *error =
      "queuelens was built without libtorch (QUEUELENS_WITH_TORCH=OFF or libtorch-dev "
      "missing): DeepScaler's model cannot be loaded";
  return nullptr;
}

}  // namespace recommender::predict
