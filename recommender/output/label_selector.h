#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recommender::output {

// One requirement of a label selector; a selector holds when all of its requirements do.
struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // one for kEquals / kNotEquals, none for the existence ops
};
using LabelSelector = std::vector<LabelRequirement>;  // empty: matches everything
using Labels = std::map<std::string, std::string, std::less<>>;

// Kubernetes' label selector text (labels.Parse; what metav1.LabelSelectorAsSelector prints):
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma = AND, blanks between
// tokens. Keys are qualified names ([prefix/]name), values label values. nullopt with *error
// saying where when the text is not a selector.
std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error);
// `!=` and `notin` also hold when the label is absent, as in Kubernetes.
bool Matches(const LabelSelector& selector, const Labels& labels);

}  // namespace recommender::output
