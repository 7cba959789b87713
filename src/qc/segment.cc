#include "qc/segment.h"

#include <nlohmann/json.hpp>

namespace vidgate::qc {

void to_json(nlohmann::json& j, const Segment& segment) {
  j = nlohmann::json{{"start", segment.start}, {"end", segment.end}};
}

nlohmann::json SegmentsToJson(const std::vector<Segment>& segments) {
  nlohmann::json list = nlohmann::json::array();
  for (const Segment& s : segments) list.push_back(s);
  return list;
}

}  // namespace vidgate::qc
