#include "notify/log_sink.h"

#include <utility>

namespace vidgate::notify {
namespace {

// Returns object[key] as text: strings as they are, other values as JSON,
// "-" when absent or null.
std::string Field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "-";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

LogSink::LogSink(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

Status LogSink::Deliver(const nlohmann::json& event) {
  static const nlohmann::json kNoData = nlohmann::json::object();
  const nlohmann::json* data = &kNoData;
  if (event.is_object()) {
    auto it = event.find("data");
    if (it != event.end() && it->is_object()) data = &*it;
  }
  logger_->info("event {} subject={} id={} state={} attempts={}", Field(event, "type"),
                Field(event, "subject"), Field(event, "id"), Field(*data, "state"),
                Field(*data, "attempts"));
  return Status::Ok();
}

}  // namespace vidgate::notify
