// series_json.h (internal): a per-second series as a JSON array.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace vidgate::qc::internal {

// One element per second; null where the second has no value or the value is
// not finite (JSON has no infinities).
inline nlohmann::json SeriesToJson(const std::vector<std::optional<double>>& series) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::optional<double>& v : series) {
    if (v.has_value() && std::isfinite(*v)) {
      array.push_back(*v);
    } else {
      array.push_back(nullptr);
    }
  }
  return array;
}

}  // namespace vidgate::qc::internal
