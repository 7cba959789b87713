#include "app/emf_metrics.h"

#include <cmath>

namespace vidgate::app {
namespace {

nlohmann::json Directive(std::initializer_list<const char*> dimensions,
                         const std::vector<std::pair<const char*, const char*>>& metrics) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, unit] : metrics) list.push_back({{"Name", name}, {"Unit", unit}});
  return {{"Namespace", "vidgate"},
          {"Dimensions", nlohmann::json::array({nlohmann::json(dimensions)})},
          {"Metrics", list}};
}

int64_t Milliseconds(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1000)); }

}  // namespace

nlohmann::json EmfMetrics::AttemptDocument(const pipeline::AttemptReport& r, double now) {
  nlohmann::json doc = {{"_aws",
                         {{"Timestamp", Milliseconds(now)},
                          {"CloudWatchMetrics",
                           {Directive({"outcome"}, {{"attempts", "Count"},
                                                    {"fetch_duration", "Milliseconds"},
                                                    {"process_duration", "Milliseconds"},
                                                    {"publish_duration", "Milliseconds"},
                                                    {"bytes_in", "Bytes"},
                                                    {"bytes_out", "Bytes"}})}}}},
                        {"outcome", r.outcome},
                        {"attempts", 1},
                        {"fetch_duration", r.fetch_seconds * 1000},
                        {"process_duration", r.process_seconds * 1000},
                        {"publish_duration", r.publish_seconds * 1000},
                        {"bytes_in", r.bytes_in},
                        {"bytes_out", r.bytes_out},
                        {"video", r.video},
                        {"attempt", r.attempt}};
  return doc;
}

nlohmann::json EmfMetrics::EventDocument(std::string_view type, double now) {
  return {{"_aws",
           {{"Timestamp", Milliseconds(now)},
            {"CloudWatchMetrics", {Directive({"event"}, {{"events", "Count"}})}}}},
          {"event", std::string(type)},
          {"events", 1}};
}

nlohmann::json EmfMetrics::PendingDocument(int64_t jobs, int64_t deliveries,
                                           int64_t awaiting_notice, double now) {
  return {{"_aws",
           {{"Timestamp", Milliseconds(now)},
            {"CloudWatchMetrics",
             {Directive({}, {{"pending_jobs", "Count"},
                             {"pending_deliveries", "Count"},
                             {"awaiting_metadata", "Count"}})}}}},
          {"pending_jobs", jobs},
          {"pending_deliveries", deliveries},
          {"awaiting_metadata", awaiting_notice}};
}

void EmfMetrics::WorkPending(int64_t jobs, int64_t deliveries, int64_t awaiting_notice) {
  Write(PendingDocument(jobs, deliveries, awaiting_notice, clock_->Now()));
}

void EmfMetrics::AttemptFinished(const pipeline::AttemptReport& report) {
  Write(AttemptDocument(report, clock_->Now()));
}

void EmfMetrics::EventRecorded(std::string_view type) {
  // The ones worth an alarm; the rest are counted by the attempt lines.
  if (type != "vidgate.video.unable_to_process" && type != "vidgate.video.rejected" &&
      type != "vidgate.metadata.missing" && type != "vidgate.metadata.invalid") {
    return;
  }
  Write(EventDocument(type, clock_->Now()));
}

void EmfMetrics::Write(const nlohmann::json& document) {
  // Invalid UTF-8 in a name is replaced rather than thrown on: a metric line
  // must never take the worker down.
  const std::string line = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace vidgate::app
