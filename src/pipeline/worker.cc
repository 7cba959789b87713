#include "pipeline/worker.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/util.h"
#include "pipeline/naming.h"

namespace vidgate::pipeline {
namespace {

using catalog::State;
using catalog::Video;
using catalog::VideoChange;

// Renews a lease every third of its length until destroyed; remembers if the
// lease was lost, so the attempt stops and never publishes.
class Heartbeat {
 public:
  Heartbeat(catalog::Catalog* catalog, const Clock* clock, int64_t video_id, std::string owner,
            double lease_seconds, spdlog::logger* log)
      : thread_([=, this](std::stop_token stop) {
          auto period = std::chrono::duration<double>(lease_seconds / 3);
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, stop, period, [] { return false; })) {
            if (stop.stop_requested()) return;
            Status s = catalog->RenewLease(video_id, owner, clock->Now() + lease_seconds);
            if (s.code() == Code::kFailedPrecondition) {
              lost_ = true;
              log->warn("video {}: {}", video_id, s.message());
              return;
            }
            if (!s.ok()) log->warn("video {}: cannot renew lease: {}", video_id, s.message());
          }
        }) {}

  bool lost() const { return lost_; }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::atomic<bool> lost_{false};
  std::jthread thread_;  // last: joins before the members it uses go
};

}  // namespace

Worker::Worker(WorkerDeps deps, WorkerOptions options, const std::atomic<bool>* stopping)
    : deps_(deps),
      options_(std::move(options)),
      stopping_(stopping),
      rng_(std::hash<std::string>{}(options_.owner + NewUuid())) {}

Result<bool> Worker::RunOnce() {
  VG_ASSIGN_OR_RETURN(auto claim,
                      deps_.catalog->ClaimNext(options_.owner, deps_.clock->Now(),
                                               options_.lease_seconds, options_.max_attempts));
  if (!claim) return false;
  Handle(*claim);
  return true;
}

void Worker::Handle(const catalog::Claim& claim) {
  Video video = claim.video;
  auto& log = *deps_.log;
  if (claim.exhausted) {
    std::string reason = "gave up after " + std::to_string(video.attempts) +
                         " attempts; the last one was interrupted";
    Status s = Quarantine(video, video.attempts, State::kUnableToProcess, reason,
                          /*retryable=*/true, nullptr, video.probe);
    if (!s.ok()) log.error("{}: cannot set aside: {}", video.name, s.message());
    return;
  }
  const int attempt = claim.attempt_number;
  if (claim.interrupted) {
    log.warn("{}: previous attempt was interrupted (its worker stopped); taking it over",
             video.name);
  }
  log.info("{}: queued -> processing (attempt {} of {})", video.name, attempt,
           options_.max_attempts);

  // A previous attempt may have moved the files and died before recording
  // it: follow them to where they went.
  if (!video.pending_key.empty() && !deps_.store->Stat(video.current_key).ok() &&
      deps_.store->Stat(video.pending_key).ok()) {
    VideoChange fix;
    fix.video_id = video.id;
    fix.now = deps_.clock->Now();
    fix.current_key = video.pending_key;
    if (!video.pending_sidecar_key.empty() && deps_.store->Stat(video.pending_sidecar_key).ok()) {
      fix.sidecar_key = video.pending_sidecar_key;
    }
    fix.pending_key = "";
    fix.pending_sidecar_key = "";
    fix.lease_owner = options_.owner;
    if (Status s = ApplyChange(fix); s.ok()) {
      video.current_key = video.pending_key;
      if (fix.sidecar_key) video.sidecar_key = *fix.sidecar_key;
    }
  }

  Result<StageResult> result = Status();
  {
    Heartbeat heartbeat(deps_.catalog, deps_.clock, video.id, options_.owner,
                        options_.lease_seconds, deps_.log);
    const double deadline = deps_.clock->Now() + options_.attempt_timeout_seconds;
    auto should_stop = [&]() -> Status {
      if (stopping_->load()) return Cancelled("vidgate is stopping");
      if (heartbeat.lost()) return FailedPrecondition("this worker's lease was taken over");
      if (deps_.clock->Now() > deadline) {
        return DeadlineExceeded("the attempt ran over workers.attempt_timeout_seconds (" +
                                fmt::format("{:g}", options_.attempt_timeout_seconds) + " s)");
      }
      return Status();
    };
    result = [&]() -> Result<StageResult> {
      VG_ASSIGN_OR_RETURN(storage::LocalFile local, deps_.store->Fetch(video.current_key));
      return deps_.media->Process(local.path(), video.name, should_stop);
    }();
    if (heartbeat.lost()) {
      log.warn("{}: lease lost during attempt {}; leaving the video to its new worker", video.name,
               attempt);
      return;
    }
  }

  Status outcome;
  if (!result.ok()) {
    Status error = result.status();
    if (error.code() == Code::kCancelled && stopping_->load()) {
      outcome = Release(video);
    } else if (IsRetryable(error) && attempt < options_.max_attempts) {
      outcome = ScheduleRetry(video, attempt, error);
    } else {
      outcome = Quarantine(video, attempt, State::kUnableToProcess, error.message(),
                           IsRetryable(error), nullptr, video.probe);
    }
  } else if (result->verdict == "reject") {
    if (options_.retry_qc_rejections && attempt < options_.max_attempts) {
      outcome = ScheduleRetry(video, attempt, Unavailable("QC rejected: " + result->summary));
    } else {
      outcome = Quarantine(video, attempt, State::kRejected, result->summary, /*retryable=*/false,
                           result->qc, result->probe);
    }
  } else {
    outcome = Publish(video, attempt, *result);
    if (!outcome.ok() && outcome.code() != Code::kFailedPrecondition) {
      log.warn("{}: publishing failed: {}", video.name, outcome.message());
      outcome = attempt < options_.max_attempts
                    ? ScheduleRetry(video, attempt, outcome)
                    : Quarantine(video, attempt, State::kUnableToProcess, outcome.message(),
                                 /*retryable=*/true, result->qc, result->probe);
    }
  }
  if (outcome.code() == Code::kFailedPrecondition) {
    log.warn("{}: {}", video.name, outcome.message());
  } else if (!outcome.ok()) {
    // The job keeps its lease until it expires; then it is taken again and
    // this attempt is recorded as interrupted.
    log.error("{}: cannot record the outcome of attempt {}: {}", video.name, attempt,
              outcome.message());
  }
}

Status Worker::ApplyChange(const VideoChange& change) {
  // A catalog that blinks (restart, network cut) must not cost the video an
  // attempt: keep the work and try again with back-off, for a while.
  const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  double pause = 0.1;
  bool retried = false;
  for (;;) {
    Status s = deps_.catalog->Apply(change);
    // A commit whose answer was lost: the events' ids are already there.
    if (retried && s.code() == Code::kAlreadyExists && !change.events.empty()) return Status();
    if (s.code() != Code::kUnavailable || stopping_->load() ||
        std::chrono::steady_clock::now() > give_up_at) {
      return s;
    }
    deps_.log->warn("video {}: catalog unavailable ({}); retrying in {:.1f} s", change.video_id,
                    s.message(), pause);
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    pause = std::min(pause * 2, 5.0);
    retried = true;
  }
}

nlohmann::json Worker::History(int64_t video_id, const catalog::AttemptEnd& ending, double now) {
  auto attempts = deps_.catalog->Attempts(video_id);
  if (!attempts.ok()) return nlohmann::json::array();
  // The running attempt is this one: shown as it is about to end.
  for (auto& a : *attempts) {
    if (a.outcome != "running") continue;
    a.finished_at = now;
    a.outcome = ending.outcome;
    a.error = ending.error;
    a.retryable = ending.retryable;
  }
  return catalog::AttemptsToJson(*attempts);
}

Result<std::string> Worker::ReserveFolder(const Video& video, std::string_view prefix) {
  if (video.location.starts_with(prefix)) return video.location;
  for (int n = 1; n < 10000; ++n) {
    std::string folder = NumberedFolder(prefix, video.name, n);
    VG_ASSIGN_OR_RETURN(auto existing, deps_.store->List(folder + "/"));
    if (!existing.empty()) continue;
    VideoChange reserve;
    reserve.video_id = video.id;
    reserve.now = deps_.clock->Now();
    reserve.location = folder;
    reserve.lease_owner = options_.owner;
    Status s = ApplyChange(reserve);
    if (s.code() == Code::kAlreadyExists) continue;  // another video took it first
    VG_RETURN_IF_ERROR(s);
    return folder;
  }
  return ResourceExhausted("no free folder for '" + video.name + "' under " + std::string(prefix));
}

// Moves `from` to `to`, treating "already there" as done, so a move that a
// crashed attempt started can be finished.
static Status MoveIdempotent(storage::Store& store, const std::string& from,
                             const std::string& to) {
  if (from == to) return Status();
  Status s = store.Move(from, to);
  if (s.code() == Code::kNotFound && store.Stat(to).ok()) return Status();
  return s;
}

Status Worker::MoveInto(const Video& video, const std::string& folder) {
  const std::string video_file = FileName(video.source_key);
  const std::string to = folder + "/" + video_file;
  std::string sidecar_to;
  if (!video.sidecar_key.empty()) {
    sidecar_to = folder + "/" + SidecarNameFor(video.sidecar_key, video.current_key, video_file);
  }
  VideoChange pending;
  pending.video_id = video.id;
  pending.now = deps_.clock->Now();
  pending.pending_key = to;
  pending.pending_sidecar_key = sidecar_to;
  pending.lease_owner = options_.owner;
  VG_RETURN_IF_ERROR(ApplyChange(pending));
  if (!sidecar_to.empty()) {
    Status s = MoveIdempotent(*deps_.store, video.sidecar_key, sidecar_to);
    if (s.code() == Code::kNotFound) {
      deps_.log->warn("{}: sidecar {} vanished before it could be moved", video.name,
                      video.sidecar_key);
    } else {
      VG_RETURN_IF_ERROR(s);
    }
  }
  return MoveIdempotent(*deps_.store, video.current_key, to);
}

// The part of the final change that says where the files now are.
static void FiledChange(const Video& video, const std::string& folder, State state, double now,
                        VideoChange& change) {
  const std::string video_file = FileName(video.source_key);
  change.video_id = video.id;
  change.now = now;
  change.state = state;
  change.current_key = folder + "/" + video_file;
  if (!video.sidecar_key.empty()) {
    change.sidecar_key =
        folder + "/" + SidecarNameFor(video.sidecar_key, video.current_key, video_file);
  }
  change.pending_key = "";
  change.pending_sidecar_key = "";
  change.location = folder;
  change.job = VideoChange::Job::kRemove;
}

// report.json of a video being filed: its QC report with who it is, where
// it ended, its probe and its attempts.
static nlohmann::json FiledReport(const Video& video, State state, const nlohmann::json& qc,
                                  const nlohmann::json& probe, nlohmann::json attempts) {
  nlohmann::json report = qc.is_object() ? qc : nlohmann::json::object();
  report["name"] = video.name;
  report["state"] = std::string(catalog::StateName(state));
  report["probe"] = probe;
  report["attempts"] = std::move(attempts);
  return report;
}

Status Worker::File(const Video& video, const std::string& folder, State state,
                    const nlohmann::json& report, double now, VideoChange& done) {
  VG_RETURN_IF_ERROR(deps_.store->Write(folder + "/report.json", report.dump(2)));
  VG_RETURN_IF_ERROR(MoveInto(video, folder));
  FiledChange(video, folder, state, now, done);
  done.lease_owner = options_.owner;
  return ApplyChange(done);
}

Status Worker::Publish(const Video& video, int attempt, const StageResult& result) {
  VG_ASSIGN_OR_RETURN(std::string folder, ReserveFolder(video, kProcessed));
  const double now = deps_.clock->Now();
  VideoChange done;
  for (const auto& file : result.files) {
    std::string key = folder + "/" + file.relative_key;
    Status s = deps_.store->Import(file.local_path, key);
    if (s.code() == Code::kAlreadyExists) {  // left by a crashed attempt
      VG_RETURN_IF_ERROR(deps_.store->Delete(key));
      s = deps_.store->Import(file.local_path, key);
    }
    VG_RETURN_IF_ERROR(s);
    if (!file.record) continue;
    catalog::Output out = file.output;
    out.key = key;
    done.outputs.push_back(std::move(out));
  }
  const catalog::AttemptEnd succeeded{"succeeded", "", false};
  nlohmann::json report = FiledReport(video, State::kProcessed, result.qc, result.probe,
                                      History(video.id, succeeded, now));
  report["outputs"] = catalog::OutputsToJson(done.outputs);

  done.probe = result.probe;
  done.qc = result.qc;
  done.last_error = "";
  done.end_attempt = succeeded;
  done.log = "processed on attempt " + std::to_string(attempt) + " into " + folder;
  nlohmann::json data = {
      {"location", folder}, {"verdict", result.verdict}, {"max_attempts", options_.max_attempts}};
  if (!result.summary.empty()) data["summary"] = result.summary;
  done.events.push_back(
      deps_.events->Make(kVideoProcessed, video, State::kProcessed, attempt, data, now));
  VG_RETURN_IF_ERROR(File(video, folder, State::kProcessed, report, now, done));
  deps_.log->info("{}: processing -> processed (attempt {}, {})", video.name, attempt, folder);
  return Status();
}

Status Worker::Quarantine(const Video& video, int attempt, State final_state,
                          const std::string& reason, bool retryable, const nlohmann::json& qc,
                          const nlohmann::json& probe) {
  VG_ASSIGN_OR_RETURN(std::string folder, ReserveFolder(video, kUnable));
  const double now = deps_.clock->Now();
  const bool rejected = final_state == State::kRejected;
  const catalog::AttemptEnd end{rejected ? "rejected" : "failed", reason, retryable};
  nlohmann::json history = History(video.id, end, now);
  nlohmann::json report = FiledReport(video, final_state, qc, probe, history);
  report["reason"] = reason;

  VideoChange done;
  if (!probe.is_null()) done.probe = probe;
  if (!qc.is_null()) done.qc = qc;
  done.last_error = reason;
  if (attempt > 0 && video.attempts >= attempt) done.end_attempt = end;
  done.log = std::string(rejected ? "rejected" : "unable to process") + ": " + reason;
  nlohmann::json data = {{"reason", reason},
                         {"location", folder},
                         {"history", std::move(history)},
                         {"max_attempts", options_.max_attempts}};
  if (rejected && qc.is_object()) data["verdict"] = qc.value("verdict", "reject");
  done.events.push_back(deps_.events->Make(rejected ? kVideoRejected : kVideoUnable, video,
                                           final_state, video.attempts, data, now));
  VG_RETURN_IF_ERROR(File(video, folder, final_state, report, now, done));
  deps_.log->info("{}: processing -> {} ({}): {}", video.name, catalog::StateName(final_state),
                  folder, reason);
  return Status();
}

Status Worker::ScheduleRetry(const Video& video, int attempt, const Status& error) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double delay = BackoffDelay(options_.backoff, attempt, unit(rng_));
  const double now = deps_.clock->Now();
  const double next = now + delay;

  // Park the original (and sidecar) in failed/, unless it is there already.
  std::string to = video.current_key;
  std::string sidecar_to = video.sidecar_key;
  if (!video.current_key.starts_with(kFailed)) {
    const std::string file = FileName(video.source_key);
    for (int n = 1; n < 10000; ++n) {
      std::string candidate = NumberedFile(kFailed, video.name, file, n);
      std::string side;
      if (!video.sidecar_key.empty()) {
        side = Folder(candidate) +
               SidecarNameFor(video.sidecar_key, video.current_key, FileName(candidate));
      }
      if (deps_.store->Stat(candidate).status().code() != Code::kNotFound) continue;
      if (!side.empty() && deps_.store->Stat(side).status().code() != Code::kNotFound) continue;
      to = candidate;
      sidecar_to = side;
      break;
    }
    VideoChange pending;
    pending.video_id = video.id;
    pending.now = now;
    pending.pending_key = to;
    pending.pending_sidecar_key = sidecar_to;
    pending.lease_owner = options_.owner;
    VG_RETURN_IF_ERROR(ApplyChange(pending));
    if (!video.sidecar_key.empty()) {
      if (Status s = MoveIdempotent(*deps_.store, video.sidecar_key, sidecar_to); !s.ok()) {
        deps_.log->warn("{}: cannot move sidecar to {}: {}", video.name, sidecar_to, s.message());
        sidecar_to = video.sidecar_key;
      }
    }
    if (Status s = MoveIdempotent(*deps_.store, video.current_key, to); !s.ok()) {
      // The retry is still scheduled; the file waits where it is.
      deps_.log->warn("{}: cannot move to {}: {}", video.name, to, s.message());
      to = video.current_key;
    }
  }

  VideoChange change;
  change.video_id = video.id;
  change.now = now;
  change.state = State::kRetryWait;
  change.current_key = to;
  change.sidecar_key = sidecar_to;
  change.pending_key = "";
  change.pending_sidecar_key = "";
  change.last_error = error.message();
  change.job = VideoChange::Job::kSchedule;
  change.job_available_at = next;
  change.end_attempt = catalog::AttemptEnd{"failed", error.message(), true};
  change.log = "attempt " + std::to_string(attempt) + " failed: " + error.message();
  change.lease_owner = options_.owner;
  nlohmann::json data = {{"attempt", attempt},
                         {"max_attempts", options_.max_attempts},
                         {"next_attempt_at", FormatTime(next)},
                         {"error", error.message()},
                         {"location", to}};
  change.events.push_back(
      deps_.events->Make(kVideoFailed, video, State::kRetryWait, attempt, data, now));
  VG_RETURN_IF_ERROR(ApplyChange(change));
  deps_.log->info("{}: processing -> retry_wait (attempt {} of {} failed: {}; next in {:.1f} s)",
                  video.name, attempt, options_.max_attempts, error.message(), delay);
  return Status();
}

Status Worker::Release(const Video& video) {
  VideoChange change;
  change.video_id = video.id;
  change.now = deps_.clock->Now();
  change.state = State::kQueued;
  change.job = VideoChange::Job::kSchedule;
  change.job_available_at = change.now;
  change.release_attempt = true;
  change.log = "attempt released: vidgate is stopping";
  change.lease_owner = options_.owner;
  VG_RETURN_IF_ERROR(ApplyChange(change));
  deps_.log->info("{}: processing -> queued (released at shutdown)", video.name);
  return Status();
}

}  // namespace vidgate::pipeline
