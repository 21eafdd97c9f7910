#include "sim/yaml_fields.h"

#include <cmath>
#include <stdexcept>

#include "common/flags.h"

namespace sim {

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

std::string Scalar(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) Fail(where, "expected a scalar");
  return node.Scalar();
}

double Number(const YAML::Node& node, const std::string& where) {
  const std::string text = Scalar(node, where);
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  Fail(where, "not a number: \"" + text + "\"");
}

double NonNegative(const YAML::Node& node, const std::string& where) {
  const double v = Number(node, where);
  if (v < 0) Fail(where, "must not be negative");
  return v;
}

int Count(const YAML::Node& node, const std::string& where, int min) {
  const double v = Number(node, where);
  if (v != std::floor(v) || v < min || v > 1e6) {
    Fail(where, "must be a whole number ≥ " + std::to_string(min));
  }
  return static_cast<int>(v);
}

double Seconds(const YAML::Node& node, const std::string& where) {
  const std::string text = Scalar(node, where);
  if (const auto d = common::ParseDuration(text)) return common::ToSeconds(*d);
  return NonNegative(node, where);
}

bool Bool(const YAML::Node& node, const std::string& where) {
  const std::string text = Scalar(node, where);
  if (text == "true") return true;
  if (text == "false") return false;
  Fail(where, "expected true or false");
}

void CheckKeys(const YAML::Node& map, const std::string& where,
               const std::set<std::string>& known) {
  if (!map.IsMap()) Fail(where, "expected a map");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) Fail(where, "unknown key \"" + key + "\"");
  }
}

}  // namespace sim
