// segment.h: a time span found by a QC analyser, and its JSON form.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace vidgate::qc {

// A span of the file in seconds from the start of its stream: [start, end).
struct Segment {
  double start = 0;
  double end = 0;
};

// {"start": S, "end": E} (lets nlohmann::json convert a Segment implicitly).
void to_json(nlohmann::json& j, const Segment& segment);  // NOLINT(readability-identifier-naming)

// [{"start","end"}, ...] as the QC report's *_segments lists.
nlohmann::json SegmentsToJson(const std::vector<Segment>& segments);

}  // namespace vidgate::qc
