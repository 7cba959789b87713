// log_sink.h: a Sink that writes each notification as one log line.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "notify/sink.h"

namespace vidgate::notify {

// LogSink writes one info line per event:
//   event vidgate.video.processed subject=clip.mp4 id=4f1c... state=processed attempts=1
// A field missing from the event is shown as "-". Its id() is "log".
// Thread-safe as far as the logger's sinks are (the *_mt sinks are).
class LogSink final : public Sink {
 public:
  // `logger` must not be null; the sink shares ownership of it.
  explicit LogSink(std::shared_ptr<spdlog::logger> logger);

  const std::string& id() const override { return id_; }

  // Deliver logs the event and returns ok, whatever the event holds.
  Status Deliver(const nlohmann::json& event) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::string id_ = "log";
};

}  // namespace vidgate::notify
