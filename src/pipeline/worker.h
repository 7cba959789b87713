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
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "pipeline/events.h"
#include "pipeline/media_stage.h"
#include "pipeline/observer.h"
#include "pipeline/retry.h"
#include "pipeline/trust.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct WorkerOptions {
  std::string owner;  // unique per worker thread: "host:pid:random:n"
  int max_attempts = 5;
  BackoffPolicy backoff;
  bool retry_qc_rejections = false;
  double lease_seconds = 30;
  double attempt_timeout_seconds = 3600;
  double settle_seconds = 2;  // how long a changed original is left to settle
  DedupePolicy dedupe = DedupePolicy::kFlag;
  // Near duplicates are reported from this similarity up; 0: not looked for.
  double similarity = 0.5;
};

// Everything a worker uses; borrowed, must outlive the worker.
struct WorkerDeps {
  storage::Store* store;
  catalog::Catalog* catalog;
  MediaStage* media;
  const EventFactory* events;
  const Clock* clock;
  spdlog::logger* log;
  Observer* observer;  // nullptr: nobody measures
};

class Worker {
 public:
  Worker(WorkerDeps deps, WorkerOptions options, const std::atomic<bool>* stopping);

  // Claims and runs the next due job. Returns true if it ran one, false if
  // none was due; an error only when the catalog could not be reached.
  Result<bool> RunOnce();

 private:
  void Handle(const catalog::Claim& claim);
  // `findings` (may be null): what this attempt read of the original.
  Status Publish(const catalog::Video& video, int attempt, const StageResult& result,
                 const TrustFindings* findings);
  // Files the video under unable_to_process/. `retryable` tells whether the
  // last attempt's error was of a retryable kind (attempts ran out).
  Status Quarantine(const catalog::Video& video, int attempt, catalog::State final_state,
                    const std::string& reason, bool retryable, const nlohmann::json& qc,
                    const nlohmann::json& probe, const TrustFindings* findings = nullptr,
                    const StageResult* result = nullptr);
  Status ScheduleRetry(const catalog::Video& video, int attempt, const Status& error);
  // The change that ends attempt `attempt` as failed with `error` and
  // schedules the next at `next`, with its vidgate.video.failed event
  // (the original being at `location`).
  catalog::VideoChange FailedAttempt(const catalog::Video& video, int attempt, const Status& error,
                                     double now, double next, const std::string& location);
  Status Release(const catalog::Video& video);
  Result<std::string> ReserveFolder(const catalog::Video& video, std::string_view prefix);
  // After the moves into `folder`: `files` made to list what is there (a
  // caption of `captions_seen` left behind dropped; a caption or sidecar
  // not yet recorded read there). Whether `files` changed.
  bool ReconcileFiled(const catalog::Video& video, const std::string& folder,
                      const std::set<std::string>& captions_seen,
                      std::vector<catalog::FileChecksum>& files);
  // Writes `folder`'s manifest of `files`; its text.
  Result<std::string> WriteManifest(const std::string& folder,
                                    const std::vector<catalog::FileChecksum>& files);
  // Moves the original and sidecar into `folder`; with
  // `original_may_be_gone`, a vanished original is no error.
  Status MoveInto(const catalog::Video& video, const std::string& folder,
                  bool original_may_be_gone);
  // The original changed while it was processed: the attempt is forgotten
  // (not counted) and the video queued again after settle_seconds.
  void StartOver(const catalog::Video& video, int attempt);
  // Follows a move that a crashed attempt made but did not record.
  void FollowPendingMove(catalog::Video& video);
  // Whether the original is gone from the store (neither at its key nor
  // where a move was taking it).
  bool OriginalVanished(const catalog::Video& video);
  // Sets a video whose original vanished aside as unable_to_process, once.
  void SetAsideVanished(const catalog::Video& video, int attempt);
  // Ends an attempt whose outcome could not be filed with that error, and
  // schedules the next one (or, after the last, the setting aside).
  // An exhausted video whose set-aside failed: scheduled again after its
  // back-off.
  void RetrySetAsideLater(const catalog::Video& video, const Status& error);
  void RecordUnfiled(const catalog::Video& video, int attempt, const Status& error);
  // Why a video whose attempts ran out was given up, from its history.
  std::string GaveUpReason(const catalog::Video& video);
  // Files `video` into `folder`: writes `report` as report.json and the
  // folder's manifest (the original's, the sidecar's and the report's
  // SHA-256 with those of `files`, what was published there), moves the
  // original and sidecar there, then applies `done` with where they now are,
  // in `state`, with every checksum. The original's digest comes from
  // `findings` when this attempt read it, else from the store.
  Status File(const catalog::Video& video, const std::string& folder, catalog::State state,
              nlohmann::json report, double now, const TrustFindings* findings,
              std::vector<catalog::FileChecksum> files, catalog::VideoChange& done);
  Result<std::string> LocateOriginal(const catalog::Video& video);
  // The SHA-256 of the stored object `key`, recorded as `path` of a filed
  // folder; nullopt when the object is gone.
  Result<std::optional<catalog::FileChecksum>> DigestStored(const std::string& key,
                                                            const std::string& path);
  // DigestStored of `key`, or of `filed_key` when `key` is gone (a filing
  // that stopped between two moves already put it there).
  Result<std::optional<catalog::FileChecksum>> DigestEither(const std::string& key,
                                                            const std::string& filed_key,
                                                            const std::string& path);
  // The attempt history for a report or event, with the running attempt
  // shown as ending now with `ending` (the catalog records that only when
  // the filing change is applied, after the report is written).
  nlohmann::json History(int64_t video_id, const catalog::AttemptEnd& ending, double now);
  // Catalog::Apply, retried with back-off while the catalog is unavailable.
  Status ApplyChange(const catalog::VideoChange& change);
  // Runs `call` until it answers anything but kUnavailable (for up to five
  // minutes, and not once vidgate is stopping).
  Status RetryWhileUnavailable(int64_t video_id, const std::function<Status()>& call);

  WorkerDeps deps_;
  WorkerOptions options_;
  const std::atomic<bool>* stopping_;
  std::mt19937_64 rng_;
};

}  // namespace vidgate::pipeline
