#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

// Readers of the fields of the simulator's YAML files (apps, scenarios). Each throws
// std::invalid_argument naming the field ("where: what").
namespace sim {

[[noreturn]] void Fail(const std::string& where, const std::string& what);
std::string Scalar(const YAML::Node& node, const std::string& where);
double Number(const YAML::Node& node, const std::string& where);
double NonNegative(const YAML::Node& node, const std::string& where);
// A whole number ≥ min (and ≤ 10⁶).
int Count(const YAML::Node& node, const std::string& where, int min);
// "100ms", "1.5s", "2m"; a bare number is seconds.
double Seconds(const YAML::Node& node, const std::string& where);
bool Bool(const YAML::Node& node, const std::string& where);
// Rejects keys the reader does not know, so a typo is an error rather than a silent default.
void CheckKeys(const YAML::Node& map, const std::string& where, const std::set<std::string>& known);

}  // namespace sim
