#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "recommender/predict/predictor.h"

namespace recommender::predict {

// A model without libtorch: predicts with `predict` and keeps the last window it was given.
class FixedPredictor final : public Predictor {
 public:
  FixedPredictor(std::vector<std::string> services, int steps, std::vector<float> graph,
                 std::function<std::vector<float>(const Series&)> predict)
      : services_(std::move(services)),
        steps_(steps),
        graph_(std::move(graph)),
        predict_(std::move(predict)) {}

  const std::vector<std::string>& services() const override { return services_; }
  int steps() const override { return steps_; }
  const std::vector<float>& graph() const override { return graph_; }
  std::vector<float> Predict(const Series& window) const override {
    last_window = window;
    ++calls;
    return predict_(window);
  }

  mutable Series last_window;
  mutable int calls = 0;

 private:
  std::vector<std::string> services_;
  int steps_;
  std::vector<float> graph_;
  std::function<std::vector<float>(const Series&)> predict_;
};

}  // namespace recommender::predict
