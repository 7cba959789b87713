// events.h: builds the CloudEvents 1.0 notifications of the contract.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"

namespace vidgate::pipeline {

inline constexpr std::string_view kMetadataMissing = "vidgate.metadata.missing";
inline constexpr std::string_view kMetadataInvalid = "vidgate.metadata.invalid";
inline constexpr std::string_view kVideoProcessed = "vidgate.video.processed";
inline constexpr std::string_view kVideoFailed = "vidgate.video.failed";
inline constexpr std::string_view kVideoRejected = "vidgate.video.rejected";
inline constexpr std::string_view kVideoUnable = "vidgate.video.unable_to_process";

class EventFactory {
 public:
  // `source` is the CloudEvents source; every event goes to each of `sinks`.
  EventFactory(std::string source, std::vector<std::string> sinks)
      : source_(std::move(source)), sinks_(std::move(sinks)) {}

  // An event about `video`, now in `state` after `attempts` attempts. `data`
  // adds to the contract's video_id, name, state and attempts.
  catalog::OutboxEvent Make(std::string_view type, const catalog::Video& video,
                            catalog::State state, int attempts, nlohmann::json data,
                            double now) const;
  // An event about something else than a video (an alarm): `subject` and
  // `data` as given.
  catalog::OutboxEvent MakeOther(std::string_view type, std::string_view subject,
                                 nlohmann::json data, double now) const;

 private:
  std::string source_;
  std::vector<std::string> sinks_;
};

}  // namespace vidgate::pipeline
