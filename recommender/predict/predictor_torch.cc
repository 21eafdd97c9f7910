#include "recommender/predict/adapgla.h"
#include "recommender/predict/predictor.h"

namespace recommender::predict {
namespace {

class AdapGlaPredictor final : public Predictor {
 public:
  explicit AdapGlaPredictor(std::unique_ptr<AdapGla> model) : model_(std::move(model)) {}
  const std::vector<std::string>& services() const override { return model_->services(); }
  int steps() const override { return model_->shape().steps; }
  const std::vector<float>& graph() const override { return model_->graph(); }
  std::vector<float> Predict(const Series& window) const override {
    return model_->Predict(window);
  }

 private:
  std::unique_ptr<AdapGla> model_;
};

}  // namespace

bool PredictorAvailable() { return true; }

std::unique_ptr<Predictor> LoadPredictor(std::string_view bytes, std::string* error) {
  // AdapGla's constructor sets libtorch to one intra-op thread: inference runs on the caller's
  // thread only, so the recommender and the simulator keep their other core.
  std::unique_ptr<AdapGla> model = AdapGla::Deserialize(bytes, error);
  if (!model) return nullptr;
  return std::make_unique<AdapGlaPredictor>(std::move(model));
}

}  // namespace recommender::predict
