// emf_metrics.h: CloudWatch Embedded Metric Format lines on stdout
// (`[metrics] emf = true`), which CloudWatch Logs turns into metrics with no
// API call (Lambda and ECS with the awslogs driver send stdout there).
//
// One line per finished attempt, namespace "vidgate", dimension `outcome`:
// `attempts` (Count), `fetch_duration`, `process_duration`,
// `publish_duration` (Milliseconds: one line carries one value per
// dimension, so the stage is in the metric's name), `bytes_in`, `bytes_out`
// (Bytes); the video's name and attempt number ride along as properties.
// One line per alarm-worthy event (unable_to_process, rejected, metadata
// missing or invalid): `events` (Count) by dimension `event`.
// About once a minute, with no dimension: `pending_jobs`,
// `pending_deliveries`, `awaiting_metadata` (Count), the catalog's backlog
// that the AWS stack scales the workers on.
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "pipeline/observer.h"

namespace vidgate::app {

class EmfMetrics final : public pipeline::Observer {
 public:
  // Writes to `out` (stdout in `run`); `clock` stamps the lines.
  EmfMetrics(std::FILE* out, const Clock* clock) : out_(out), clock_(clock) {}

  void AttemptFinished(const pipeline::AttemptReport& report) override;
  void EventRecorded(std::string_view type) override;
  void WorkPending(int64_t jobs, int64_t deliveries, int64_t awaiting_notice) override;

  // The documents, for tests.
  static nlohmann::json AttemptDocument(const pipeline::AttemptReport& report, double now);
  static nlohmann::json EventDocument(std::string_view type, double now);
  static nlohmann::json PendingDocument(int64_t jobs, int64_t deliveries, int64_t awaiting_notice,
                                        double now);

 private:
  void Write(const nlohmann::json& document);

  std::FILE* out_;
  const Clock* clock_;
  std::mutex mu_;
};

}  // namespace vidgate::app
