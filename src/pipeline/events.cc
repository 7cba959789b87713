#include "pipeline/events.h"

#include "common/util.h"

namespace vidgate::pipeline {

catalog::OutboxEvent EventFactory::Make(std::string_view type, const catalog::Video& video,
                                        catalog::State state, int attempts, nlohmann::json data,
                                        double now) const {
  if (!data.is_object()) data = nlohmann::json::object();
  data["video_id"] = video.id;
  data["name"] = video.name;
  data["state"] = std::string(catalog::StateName(state));
  data["attempts"] = attempts;
  return MakeOther(type, video.name, std::move(data), now);
}

catalog::OutboxEvent EventFactory::MakeOther(std::string_view type, std::string_view subject,
                                             nlohmann::json data, double now) const {
  std::string id = NewUuid();
  nlohmann::json doc = {
      {"specversion", "1.0"},
      {"id", id},
      {"source", source_},
      {"type", std::string(type)},
      {"time", FormatTime(now)},
      {"subject", std::string(subject)},
      {"datacontenttype", "application/json"},
      {"data", std::move(data)},
  };
  return catalog::OutboxEvent{id, std::string(type), std::move(doc), sinks_};
}

}  // namespace vidgate::pipeline
