// worker.h: runs one claimed job: fetch, process, publish or retry.
//
// A worker holds the job's lease while it works (a heartbeat renews it), and
// every catalog change it makes is fenced by that lease, so a worker whose
// lease was taken over never publishes. Moves in the store go through
// "pending" keys recorded first in the catalog: intake never adopts a file
// mid-move, and a crash mid-publish is finished by the next attempt.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "pipeline/events.h"
#include "pipeline/media_stage.h"
#include "pipeline/retry.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct WorkerOptions {
  std::string owner;  // unique per worker thread: "host:pid:random:n"
  int max_attempts = 5;
  BackoffPolicy backoff;
  bool retry_qc_rejections = false;
  double lease_seconds = 30;
  double attempt_timeout_seconds = 3600;
};

// Everything a worker uses; borrowed, must outlive the worker.
struct WorkerDeps {
  storage::Store* store;
  catalog::Catalog* catalog;
  MediaStage* media;
  const EventFactory* events;
  const Clock* clock;
  spdlog::logger* log;
};

class Worker {
 public:
  Worker(WorkerDeps deps, WorkerOptions options, const std::atomic<bool>* stopping);

  // Claims and runs the next due job. Returns true if it ran one, false if
  // none was due; an error only when the catalog could not be reached.
  Result<bool> RunOnce();

 private:
  void Handle(const catalog::Claim& claim);
  Status Publish(const catalog::Video& video, int attempt, const StageResult& result);
  // Files the video under unable_to_process/. `retryable` tells whether the
  // last attempt's error was of a retryable kind (attempts ran out).
  Status Quarantine(const catalog::Video& video, int attempt, catalog::State final_state,
                    const std::string& reason, bool retryable, const nlohmann::json& qc,
                    const nlohmann::json& probe);
  Status ScheduleRetry(const catalog::Video& video, int attempt, const Status& error);
  Status Release(const catalog::Video& video);
  Result<std::string> ReserveFolder(const catalog::Video& video, std::string_view prefix);
  Status MoveInto(const catalog::Video& video, const std::string& folder);
  // Files `video` into `folder`: writes `report` as report.json, moves the
  // original and sidecar there, then applies `done` with where they now are
  // and in `state`.
  Status File(const catalog::Video& video, const std::string& folder, catalog::State state,
              const nlohmann::json& report, double now, catalog::VideoChange& done);
  Result<std::string> LocateOriginal(const catalog::Video& video);
  // The attempt history for a report or event, with the running attempt
  // shown as ending now with `ending` (the catalog records that only when
  // the filing change is applied, after the report is written).
  nlohmann::json History(int64_t video_id, const catalog::AttemptEnd& ending, double now);
  // Catalog::Apply, retried with back-off while the catalog is unavailable.
  Status ApplyChange(const catalog::VideoChange& change);

  WorkerDeps deps_;
  WorkerOptions options_;
  const std::atomic<bool>* stopping_;
  std::mt19937_64 rng_;
};

}  // namespace vidgate::pipeline
