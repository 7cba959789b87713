#include "pipeline/worker.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/digest.h"
#include "common/util.h"
#include "media/probe.h"
#include "pipeline/caption_files.h"
#include "pipeline/naming.h"
#include "pipeline/near_duplicates.h"

namespace vidgate::pipeline {
namespace {

// Starts the last_error of a video whose original changed mid-attempt.
constexpr std::string_view kChangedMark = "started over: ";

using catalog::State;
using catalog::Video;
using catalog::VideoChange;

// Renews a lease every third of its length until destroyed; remembers if the
// lease was lost, so the attempt stops and never publishes. It lives until
// the outcome is recorded: filing (reserving a folder, importing outputs)
// can take a while, and must not outlive the lease.
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
              // Once the outcome is being recorded, the final change itself
              // releases the lease: no news then.
              if (!finishing_) log->warn("video {}: {}", video_id, s.message());
              return;
            }
            if (!s.ok()) log->warn("video {}: cannot renew lease: {}", video_id, s.message());
          }
        }) {}

  bool lost() const { return lost_; }
  // The outcome is being recorded from now on (see above).
  void Finishing() { finishing_ = true; }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::atomic<bool> lost_{false};
  std::atomic<bool> finishing_{false};
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
  FollowPendingMove(video);
  if (claim.exhausted) {
    Status s = Quarantine(video, video.attempts, State::kUnableToProcess, GaveUpReason(video),
                          /*retryable=*/true, nullptr, video.probe);
    if (!s.ok() && s.code() != Code::kFailedPrecondition) RetrySetAsideLater(video, s);
    return;
  }
  const int attempt = claim.attempt_number;
  if (claim.interrupted) {
    log.warn("{}: previous attempt was interrupted (its worker stopped); taking it over",
             video.name);
  }
  log.info("{}: queued -> processing (attempt {} of {})", video.name, attempt,
           options_.max_attempts);
  if (OriginalVanished(video)) {
    SetAsideVanished(video, attempt);
    return;
  }

  // Told to the observer however the attempt ends.
  AttemptReport report;
  report.video = video.name;
  report.attempt = attempt;
  struct Tell {
    Observer* observer;
    AttemptReport& report;
    const Clock* clock;
    double registered_at;
    ~Tell() {
      if (observer == nullptr || report.outcome.empty()) return;
      report.since_registered_seconds = std::max(0.0, clock->Now() - registered_at);
      observer->AttemptFinished(report);
    }
  } tell{deps_.observer, report, deps_.clock, video.created_at};

  Heartbeat heartbeat(deps_.catalog, deps_.clock, video.id, options_.owner, options_.lease_seconds,
                      deps_.log);
  Result<StageResult> result = Status();
  std::optional<TrustFindings> findings;
  {
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
    // What the original looked like as it was read, to tell afterwards
    // whether it changed (replaced, or still being written).
    Result<storage::ObjectInfo> read_as = deps_.store->Stat(video.current_key);
    if (read_as.ok()) report.bytes_in = read_as->size;
    result = [&]() -> Result<StageResult> {
      const double fetch_from = deps_.clock->Now();
      auto local = deps_.store->Fetch(video.current_key);
      report.fetch_seconds = deps_.clock->Now() - fetch_from;
      if (!local.ok()) return local.status();
      const double process_from = deps_.clock->Now();
      auto processed = [&]() -> Result<StageResult> {
        // One read for the digests first: it also brings the file into the
        // page cache the decode pass reads next.
        VG_ASSIGN_OR_RETURN(TrustFindings found, DigestOriginal(local->path(), video, should_stop));
        // A catalog that blinks costs no attempt (as with every change it records).
        VG_RETURN_IF_ERROR(RetryWhileUnavailable(
            video.id, [&] { return FindDuplicate(*deps_.catalog, *deps_.store, video, found); }));
        findings = found;
        if (auto settled = SettledByTrust(found, options_.dedupe)) {
          if (auto probe = media::Probe(local->path()); probe.ok()) {
            settled->probe = probe->ToJson();
          }
          return std::move(*settled);
        }
        VG_ASSIGN_OR_RETURN(std::vector<CaptionKey> caption_keys,
                            CaptionsBeside(*deps_.store, video.current_key));
        VG_ASSIGN_OR_RETURN(std::vector<CaptionInput> captions,
                            ReadCaptionFiles(*deps_.store, caption_keys));
        VG_ASSIGN_OR_RETURN(StageResult r,
                            deps_.media->Process(local->path(), video.name, captions, should_stop));
        AddTrustChecks(found, options_.dedupe, r);
        if (options_.similarity > 0) {
          // A warning's lookup failing must not cost the attempt its work.
          Result<std::vector<NearDuplicate>> near = Status();
          RetryWhileUnavailable(video.id, [&] {
            near = FindNearDuplicates(*deps_.catalog, video.id, r.fingerprint, options_.similarity,
                                      found.duplicate_of ? found.duplicate_of->id : 0);
            return near.status();
          }).IgnoreError();  // near.status() says the same
          if (near.ok()) {
            AddNearDuplicateChecks(*near, r);
          } else {
            deps_.log->warn("{}: near duplicates not looked for: {}", video.name,
                            near.status().message());
          }
        }
        return r;
      }();
      report.process_seconds = deps_.clock->Now() - process_from;
      if (processed.ok()) {
        report.probe_seconds = processed->probe_seconds;
        return processed;
      }
      // The media layer names the file it opened: a local stand-in (on
      // file://, a /proc/self/fd link; on S3, a temporary copy). People know
      // the original by its key.
      std::string message = local->NameByKey(processed.status().message(), video.current_key);
      return Status(processed.status().code(), std::move(message));
    }();
    if (read_as.ok() && !(result.status().code() == Code::kCancelled && stopping_->load())) {
      Result<storage::ObjectInfo> now_as = deps_.store->Stat(video.current_key);
      if (now_as.ok() && !storage::SameVersion(*now_as, *read_as)) {
        report.outcome = "started_over";
        StartOver(video, attempt);
        return;
      }
    }
    if (heartbeat.lost()) {
      log.warn("{}: lease lost during attempt {}; leaving the video to its new worker", video.name,
               attempt);
      report.outcome = "lost_lease";
      return;
    }
  }
  heartbeat.Finishing();
  const double publish_from = deps_.clock->Now();
  if (result.ok()) {
    for (const auto& f : result->files) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(f.local_path, ec);
      if (!ec) report.bytes_out += static_cast<int64_t>(size);
    }
  }

  Status outcome;
  const TrustFindings* fi = findings ? &*findings : nullptr;
  if (!result.ok() && result.status().code() == Code::kNotFound && OriginalVanished(video)) {
    report.outcome = "unable_to_process";
    SetAsideVanished(video, attempt);
    return;
  }
  if (!result.ok()) {
    Status error = result.status();
    if (error.code() == Code::kCancelled && stopping_->load()) {
      report.outcome = "released";
      outcome = Release(video);
    } else if (IsRetryable(error) && attempt < options_.max_attempts) {
      report.outcome = "failed";
      outcome = ScheduleRetry(video, attempt, error);
    } else {
      report.outcome = "unable_to_process";
      outcome = Quarantine(video, attempt, State::kUnableToProcess, error.message(),
                           IsRetryable(error), nullptr, video.probe, fi);
    }
  } else if (result->verdict == "reject") {
    if (options_.retry_qc_rejections && !result->final_rejection &&
        attempt < options_.max_attempts) {
      report.outcome = "failed";
      outcome = ScheduleRetry(video, attempt, Unavailable("QC rejected: " + result->summary));
    } else {
      report.outcome = "rejected";
      outcome = Quarantine(video, attempt, State::kRejected, result->summary, /*retryable=*/false,
                           result->qc, result->probe, fi, &*result);
    }
  } else {
    report.outcome = "processed";
    outcome = Publish(video, attempt, *result, fi);
    if (!outcome.ok() && outcome.code() != Code::kFailedPrecondition && OriginalVanished(video)) {
      report.outcome = "unable_to_process";
      SetAsideVanished(video, attempt);
      report.publish_seconds = deps_.clock->Now() - publish_from;
      return;
    }
    if (!outcome.ok() && outcome.code() != Code::kFailedPrecondition) {
      log.warn("{}: publishing failed: {}", video.name, outcome.message());
      report.outcome = attempt < options_.max_attempts ? "failed" : "unable_to_process";
      outcome = attempt < options_.max_attempts
                    ? ScheduleRetry(video, attempt, outcome)
                    : Quarantine(video, attempt, State::kUnableToProcess, outcome.message(),
                                 /*retryable=*/true, result->qc, result->probe, fi);
    }
  }
  report.publish_seconds = deps_.clock->Now() - publish_from;
  if (report.outcome != "processed") report.bytes_out = 0;
  if (outcome.code() == Code::kFailedPrecondition) {
    log.warn("{}: {}", video.name, outcome.message());
  } else if (!outcome.ok()) {
    log.error("{}: cannot file the outcome of attempt {}: {}", video.name, attempt,
              outcome.message());
    RecordUnfiled(video, attempt, outcome);
  }
}

void Worker::RecordUnfiled(const Video& video, int attempt, const Status& error) {
  // The files could not be moved (a full disk, a store that is down): the
  // attempt still ends with what happened, and the video is tried again
  // after its back-off, where its files are. Without this the lease would
  // run out and the attempt read "interrupted".
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double now = deps_.clock->Now();
  const double next = now + BackoffDelay(options_.backoff, attempt, unit(rng_));
  VideoChange change = FailedAttempt(video, attempt, error, now, next, video.current_key);
  change.log = "attempt " + std::to_string(attempt) + " could not be filed: " + error.message();
  if (Status s = ApplyChange(change); !s.ok()) {
    // Then the lease runs out and the next worker records it as interrupted.
    deps_.log->error("{}: cannot record attempt {} either: {}", video.name, attempt, s.message());
  }
}

void Worker::RetrySetAsideLater(const Video& video, const Status& error) {
  // The store would not take the files (down, or refusing that folder):
  // try again after the video's next back-off, not at once and forever.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  VideoChange change;
  change.video_id = video.id;
  change.now = deps_.clock->Now();
  change.job = VideoChange::Job::kSchedule;
  change.job_available_at =
      change.now + BackoffDelay(options_.backoff, std::max(1, video.attempts), unit(rng_));
  const std::string why = "cannot set aside: " + error.message();
  change.last_error = why;
  change.log = why + "; trying again later";
  change.lease_owner = options_.owner;
  deps_.log->error("{}: {}", video.name, change.log);
  if (Status s = ApplyChange(change); !s.ok()) deps_.log->warn("{}: {}", video.name, s.message());
}

void Worker::StartOver(const Video& video, int attempt) {
  // Whatever this attempt found was found in bytes that are no longer the
  // original's: forget it (not counted) and look again once the file has
  // had time to settle. Once: a file that changes again is a failed attempt
  // like any other, so one that never stops changing cannot loop.
  if (video.last_error.starts_with(kChangedMark)) {
    const Status changing =
        Unavailable("the original " + video.current_key +
                    " kept changing while it was processed (is something still writing it?)");
    Status s = attempt < options_.max_attempts
                   ? ScheduleRetry(video, attempt, changing)
                   : Quarantine(video, attempt, State::kUnableToProcess, changing.message(),
                                /*retryable=*/true, nullptr, video.probe);
    if (!s.ok()) deps_.log->warn("{}: {}", video.name, s.message());
    return;
  }
  VideoChange change;
  change.video_id = video.id;
  change.now = deps_.clock->Now();
  change.state = State::kQueued;
  change.job = VideoChange::Job::kSchedule;
  change.job_available_at = change.now + options_.settle_seconds;
  change.release_attempt = true;
  change.log = std::string(kChangedMark) + "the original " + video.current_key +
               " changed during attempt " + std::to_string(attempt) +
               "; starting over with its new bytes";
  change.last_error = change.log;
  change.lease_owner = options_.owner;
  if (Status s = ApplyChange(change); !s.ok()) {
    deps_.log->warn("{}: {}", video.name, s.message());
    return;
  }
  deps_.log->warn("{}: {}", video.name, change.log);
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

void Worker::FollowPendingMove(Video& video) {
  // A previous attempt may have moved the files and died before recording
  // it: follow them to where they went.
  if (video.pending_key.empty() || deps_.store->Stat(video.current_key).ok() ||
      !deps_.store->Stat(video.pending_key).ok()) {
    return;
  }
  // Its captions were to follow it (they move after it).
  if (Status s = MoveCaptions(*deps_.store, video.current_key, video.pending_key,
                              [&](const std::string& from, const std::string& to) {
                                return MoveIdempotent(*deps_.store, from, to);
                              });
      !s.ok()) {
    deps_.log->warn("{}: a caption could not follow the original to {}: {}", video.name,
                    video.pending_key, s.message());
  }
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
    video.pending_key.clear();
    video.pending_sidecar_key.clear();
  }
}

bool Worker::OriginalVanished(const Video& video) {
  auto gone = [&](const std::string& key) {
    return key.empty() || deps_.store->Stat(key).status().code() == Code::kNotFound;
  };
  return gone(video.current_key) && gone(video.pending_key);
}

void Worker::SetAsideVanished(const Video& video, int attempt) {
  const std::string reason = "the original " + video.current_key +
                             " disappeared from the store (deleted or moved by someone else) "
                             "during attempt " +
                             std::to_string(attempt) + "; there is nothing left to process";
  // Only while this worker holds the lease: a worker that lost it sees the
  // original "gone" because its new worker filed it.
  VideoChange note;
  note.video_id = video.id;
  note.now = deps_.clock->Now();
  note.lease_owner = options_.owner;
  note.log = reason;
  if (Status s = ApplyChange(note); !s.ok()) {
    deps_.log->warn("{}: {}", video.name, s.message());
    return;
  }
  // A publish the vanishing interrupted leaves no outputs behind (its folder
  // was reserved in the catalog, after `video` was read).
  auto current = deps_.catalog->GetVideo(video.id);
  Video fresh = current.ok() ? *current : video;
  if (fresh.location.starts_with(kProcessed)) {
    if (auto written = deps_.store->List(OwnKey(fresh.location, "")); written.ok()) {
      for (const auto& obj : *written) deps_.store->Delete(obj.key).IgnoreError();
    }
  }
  // The sidecar may already have gone where the publish was taking it.
  if (!fresh.pending_sidecar_key.empty() && !deps_.store->Stat(fresh.sidecar_key).ok() &&
      deps_.store->Stat(fresh.pending_sidecar_key).ok()) {
    fresh.sidecar_key = fresh.pending_sidecar_key;
  }
  Status s = Quarantine(fresh, attempt, State::kUnableToProcess, reason, /*retryable=*/false,
                        nullptr, video.probe);
  if (!s.ok()) deps_.log->error("{}: cannot set aside: {}", video.name, s.message());
}

std::string Worker::GaveUpReason(const Video& video) {
  std::string reason = "gave up after " + std::to_string(video.attempts) + " attempts";
  auto attempts = deps_.catalog->Attempts(video.id);
  if (!attempts.ok() || attempts->empty()) return reason;
  int interrupted = 0;
  std::string last_error;
  for (const auto& a : *attempts) {
    if (a.outcome == "interrupted") ++interrupted;
    if (a.outcome == "failed" && !a.error.empty()) last_error = a.error;
  }
  if (interrupted == static_cast<int>(attempts->size())) {
    reason +=
        ": each one was interrupted, its worker stopping before it finished (a crash, a "
        "kill, running out of memory, or a lease that could not be renewed)";
  } else if (interrupted > 0) {
    reason += ": " + std::to_string(interrupted) +
              " were interrupted (their worker stopped before finishing)";
  }
  if (!last_error.empty()) reason += "; the last recorded error: " + last_error;
  return reason;
}

Status Worker::RetryWhileUnavailable(int64_t video_id, const std::function<Status()>& call) {
  // A catalog that blinks (restart, network cut) must not cost the video an
  // attempt: keep the work and try again with back-off, for a while.
  const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  double pause = 0.1;
  for (;;) {
    Status s = call();
    if (s.code() != Code::kUnavailable || stopping_->load() ||
        std::chrono::steady_clock::now() > give_up_at) {
      return s;
    }
    deps_.log->warn("video {}: catalog unavailable ({}); retrying in {:.1f} s", video_id,
                    s.message(), pause);
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    pause = std::min(pause * 2, 5.0);
  }
}

Status Worker::ApplyChange(const VideoChange& change) {
  bool retried = false;
  Status applied = RetryWhileUnavailable(change.video_id, [&]() -> Status {
    Status s = deps_.catalog->Apply(change);
    // A commit whose answer was lost: the events' ids are already there.
    if (retried && s.code() == Code::kAlreadyExists && !change.events.empty()) return Status();
    retried = true;
    return s;
  });
  if (applied.ok() && deps_.observer != nullptr) {
    for (const auto& e : change.events) deps_.observer->EventRecorded(e.type);
  }
  return applied;
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
  // NAME's components from the top, each in its first free form: a folder
  // on the way must not be another video's (nor a file), and the last one
  // must hold nothing yet. So "a/clip" goes to a/clip/, to a/clip-2/ when
  // that is taken, and to a-2/clip/ when a/ is the video "a"'s folder.
  std::string folder(prefix.substr(0, prefix.size() - 1));
  std::string_view rest = video.name;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    const bool last = rest.empty();
    bool placed = false;
    for (int n = 1; n < 10000 && !placed; ++n) {
      const std::string candidate = folder + "/" + Numbered(part, n);
      // A file under that very name is in the way; for the last part, so is
      // anything inside it. (A link there is not taken for a name: filing
      // through it fails, retryably, and says so.)
      VG_ASSIGN_OR_RETURN(auto there, deps_.store->List(candidate));
      bool taken = false;
      for (const auto& o : there) {
        taken |= (o.key == candidate && o.refused.empty()) ||
                 (last && o.key.starts_with(candidate + "/"));
      }
      if (taken) continue;
      std::vector<std::string> clashes;
      VG_RETURN_IF_ERROR(RetryWhileUnavailable(video.id, [&]() -> Status {
        auto found = deps_.catalog->FolderClashes(candidate, video.id);
        if (found.ok()) clashes = std::move(found).value();
        return found.status();
      }));
      if (!last) {
        // On the way down only another video's folder (at or above) is in
        // the way; other videos below it are its neighbours.
        bool in_the_way = false;
        for (const auto& c : clashes) in_the_way |= !c.starts_with(candidate + "/");
        if (in_the_way) continue;
        folder = candidate;
        placed = true;
        continue;
      }
      if (!clashes.empty()) continue;
      VideoChange reserve;
      reserve.video_id = video.id;
      reserve.now = deps_.clock->Now();
      reserve.location = candidate;
      reserve.lease_owner = options_.owner;
      Status s = ApplyChange(reserve);
      if (s.code() == Code::kAlreadyExists) continue;  // another video took it first
      VG_RETURN_IF_ERROR(s);
      return candidate;
    }
    if (!placed) break;
  }
  return ResourceExhausted("no free folder for '" + video.name + "' under " + std::string(prefix));
}

// MoveIdempotent into a folder the catalog reserved for this video: what is
// already at `to` while `from` is still there can only be a leftover of this
// video's own interrupted move (an S3 copy whose delete never ran, or part
// of one), so it is replaced rather than blocking every attempt after.
static Status MoveIntoOwnFolder(storage::Store& store, const std::string& from,
                                const std::string& to) {
  Status s = MoveIdempotent(store, from, to);
  if (s.code() != Code::kAlreadyExists || !store.Stat(from).ok()) return s;
  VG_RETURN_IF_ERROR(store.Delete(to));
  return MoveIdempotent(store, from, to);
}

Status Worker::MoveInto(const Video& video, const std::string& folder, bool original_may_be_gone) {
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
    Status s = MoveIntoOwnFolder(*deps_.store, video.sidecar_key, sidecar_to);
    // Gone for good only if it is nowhere: a "not found" while the sidecar
    // is still there (a flaky store) is an error like any other.
    if (s.code() == Code::kNotFound &&
        deps_.store->Stat(video.sidecar_key).status().code() == Code::kNotFound) {
      deps_.log->warn("{}: sidecar {} vanished before it could be moved", video.name,
                      video.sidecar_key);
    } else {
      VG_RETURN_IF_ERROR(s);
    }
  }
  Status s = MoveIntoOwnFolder(*deps_.store, video.current_key, to);
  if (s.code() == Code::kNotFound && original_may_be_gone && OriginalVanished(video)) {
    deps_.log->warn("{}: the original {} is gone; filing what is left", video.name,
                    video.current_key);
    s = Status();
  }
  VG_RETURN_IF_ERROR(s);
  // The captions follow the original. Once it has moved, the filing must
  // end: a caption that cannot follow stays where it was (ignored there,
  // its WebVTT filed), rather than strand the original in a folder the
  // video does not end in.
  if (Status moved = MoveCaptions(*deps_.store, video.current_key, to,
                                  [&](const std::string& from, const std::string& dest) {
                                    return MoveIntoOwnFolder(*deps_.store, from, dest);
                                  });
      !moved.ok()) {
    deps_.log->warn("{}: a caption could not follow the original into {}: {}", video.name, folder,
                    moved.message());
  }
  return Status();
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

Result<std::optional<catalog::FileChecksum>> Worker::DigestStored(const std::string& key,
                                                                  const std::string& path) {
  auto local = deps_.store->Fetch(key);
  if (local.status().code() == Code::kNotFound) return std::optional<catalog::FileChecksum>();
  VG_RETURN_IF_ERROR(local.status());
  auto digests = DigestFile(local->path(), {"sha256"});
  if (digests.status().code() == Code::kNotFound) return std::optional<catalog::FileChecksum>();
  if (!digests.ok()) {
    // The stand-in's path means nothing to the reader: name the key.
    return Status(digests.status().code(), "cannot read " + key + " for its checksum");
  }
  return std::optional<catalog::FileChecksum>(
      catalog::FileChecksum{path, digests->size, digests->hex["sha256"]});
}

Result<std::optional<catalog::FileChecksum>> Worker::DigestEither(const std::string& key,
                                                                  const std::string& filed_key,
                                                                  const std::string& path) {
  VG_ASSIGN_OR_RETURN(auto at_key, DigestStored(key, path));
  if (at_key || key == filed_key) return at_key;
  return DigestStored(filed_key, path);
}

bool Worker::ReconcileFiled(const Video& video, const std::string& folder,
                            const std::set<std::string>& captions_seen,
                            std::vector<catalog::FileChecksum>& files) {
  const std::string video_file = FileName(video.source_key);
  auto listed = CaptionsBeside(*deps_.store, folder + "/" + video_file);
  if (!listed.ok()) {
    // The manifest as written: the best known.
    deps_.log->warn("{}: its captions in {} cannot be listed to check the manifest ({})",
                    video.name, folder, listed.status().message());
    return false;
  }
  std::set<std::string> present, recorded;
  for (const auto& c : *listed) present.insert(FileName(c.key));
  // Gone only if the store says so: a listing stops at 32 captions, and
  // may lag a move.
  const size_t before = files.size();
  std::erase_if(files, [&](const catalog::FileChecksum& f) {
    return captions_seen.contains(f.path) && !present.contains(f.path) &&
           deps_.store->Stat(folder + "/" + f.path).status().code() == Code::kNotFound;
  });
  bool changed = files.size() != before;
  for (const auto& f : files) recorded.insert(f.path);
  std::vector<std::string> unrecorded(present.begin(), present.end());
  if (!video.sidecar_key.empty()) {
    unrecorded.push_back(SidecarNameFor(video.sidecar_key, video.current_key, video_file));
  }
  for (const auto& file : unrecorded) {
    if (recorded.contains(file)) continue;
    auto digest = DigestStored(folder + "/" + file, file);
    if (digest.ok() && *digest) {
      files.push_back(**digest);
      changed = true;
    }
  }
  return changed;
}

Result<std::string> Worker::WriteManifest(const std::string& folder,
                                          const std::vector<catalog::FileChecksum>& files) {
  std::string manifest = BagItManifest(files);
  VG_RETURN_IF_ERROR(deps_.store->Write(OwnKey(folder, kManifestFile), manifest));
  return manifest;
}

Status Worker::File(const Video& video, const std::string& folder, State state,
                    nlohmann::json report, double now, const TrustFindings* findings,
                    std::vector<catalog::FileChecksum> files, VideoChange& done) {
  const std::string video_file = FileName(video.source_key);
  // The original's digest: as this attempt read it, else read now (a video
  // set aside without an attempt that got that far).
  std::optional<catalog::FileChecksum> original;
  if (findings != nullptr) {
    original = catalog::FileChecksum{video_file, findings->original.size,
                                     findings->original.digests.at("sha256")};
  } else {
    // Filing must not hang on reading what vidgate could not read in the
    // attempts (permissions, a failing disk): filed without its checksum,
    // which the report says.
    auto digest = DigestEither(video.current_key, folder + "/" + video_file, video_file);
    if (digest.ok()) {
      original = *digest;
    } else {
      deps_.log->warn("{}: the original cannot be read for its checksum ({}); filed without it",
                      video.name, digest.status().message());
    }
  }
  nlohmann::json about = report.contains("original") && report["original"].is_object()
                             ? report["original"]
                             : nlohmann::json::object();
  about["file"] = video_file;
  if (original) {
    about["size"] = original->size;
    about["sha256"] = original->sha256;
    done.sha256 = original->sha256;
    files.push_back(*original);
  } else {
    about["sha256"] = nullptr;  // it was gone
  }
  report["original"] = std::move(about);
  if (!video.sidecar_key.empty()) {
    const std::string sidecar_file =
        SidecarNameFor(video.sidecar_key, video.current_key, video_file);
    // Where it is, or where an interrupted filing already moved it.
    auto sidecar = DigestEither(video.sidecar_key, folder + "/" + sidecar_file, sidecar_file);
    if (sidecar.ok() && *sidecar) {
      files.push_back(**sidecar);
    } else if (!sidecar.ok()) {
      deps_.log->warn("{}: the sidecar cannot be read for its checksum ({}); filed without it",
                      video.name, sidecar.status().message());
    }
  }
  // The captions: beside the original, or filed already by an
  // interrupted filing.
  std::set<std::string> captions_seen;
  for (const std::string& beside : {video.current_key, folder + "/" + video_file}) {
    auto moves = CaptionMoves(*deps_.store, beside, folder + "/" + video_file);
    if (!moves.ok()) {
      deps_.log->warn("{}: its captions cannot be listed for their checksums ({})", video.name,
                      moves.status().message());
      continue;
    }
    for (const auto& [from, to] : *moves) {
      const std::string file = FileName(to);
      if (!captions_seen.insert(file).second) continue;
      auto digest = DigestStored(from, file);
      if (digest.ok() && *digest) {
        files.push_back(**digest);
      } else if (!digest.ok()) {
        deps_.log->warn("{}: the caption {} cannot be read for its checksum ({}); filed without it",
                        video.name, from, digest.status().message());
      }
    }
  }
  const std::string report_text =
      report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  VG_RETURN_IF_ERROR(deps_.store->Write(OwnKey(folder, "report.json"), report_text));
  files.push_back(catalog::FileChecksum{std::string(kOwnFolder) + "/report.json",
                                        static_cast<int64_t>(report_text.size()),
                                        Sha256Hex(report_text)});
  VG_ASSIGN_OR_RETURN(std::string manifest, WriteManifest(folder, files));
  // Setting aside files what is left; publishing needs the original.
  VG_RETURN_IF_ERROR(MoveInto(video, folder, /*original_may_be_gone=*/state != State::kProcessed));
  // The manifest (and the catalog's checksums) list what is in the folder
  // now, or `verify` would call a file missing or added: a caption that
  // could not follow the original stayed where it was; one, or the
  // sidecar, that could not be read for its checksum before is read here.
  if (ReconcileFiled(video, folder, captions_seen, files)) {
    VG_ASSIGN_OR_RETURN(manifest, WriteManifest(folder, files));
  }
  files.push_back(catalog::FileChecksum{std::string(kOwnFolder) + "/" + std::string(kManifestFile),
                                        static_cast<int64_t>(manifest.size()),
                                        Sha256Hex(manifest)});
  done.checksums = std::move(files);
  FiledChange(video, folder, state, now, done);
  done.lease_owner = options_.owner;
  return ApplyChange(done);
}

// What a decoded attempt found of other videos goes in the event, and its
// fingerprint in the catalog, where later videos look for theirs.
static void RecordFootage(const StageResult& result, nlohmann::json& data, VideoChange& done) {
  if (!result.duplicate_of.is_null()) data["duplicate_of"] = result.duplicate_of;
  if (!result.near_duplicates.is_null()) data["near_duplicates"] = result.near_duplicates;
  // How much each rendition lost, in a line of the event.
  const nlohmann::json renditions = result.qc.value("renditions", nlohmann::json::array());
  nlohmann::json quality = nlohmann::json::array();
  for (const auto& r : renditions) {
    const nlohmann::json q = r.value("quality", nlohmann::json());
    if (!q.is_object()) continue;
    quality.push_back({{"name", r.value("name", "")},
                       {"ssim_y", q.value("ssim_y", nlohmann::json())},
                       {"psnr_y", q.value("psnr_y", nlohmann::json())}});
  }
  if (!quality.empty()) data["renditions"] = std::move(quality);
  if (!result.fingerprint.hashes.empty()) done.fingerprint = RecordOf(result.fingerprint);
}

Status Worker::Publish(const Video& video, int attempt, const StageResult& result,
                       const TrustFindings* findings) {
  if (OriginalVanished(video)) return NotFound("the original " + video.current_key + " is gone");
  VG_ASSIGN_OR_RETURN(std::string folder, ReserveFolder(video, kProcessed));
  const double now = deps_.clock->Now();
  VideoChange done;
  std::vector<catalog::FileChecksum> files;
  for (const auto& file : result.files) {
    // Taken before the file leaves the work folder, while it is in the
    // page cache the encoder wrote it through.
    auto digest = DigestFile(file.local_path, {"sha256"});
    if (!digest.ok()) {
      return Status(digest.status().code(), "cannot read the output " + file.relative_key +
                                                " for its checksum: " + digest.status().message());
    }
    std::string key = OwnKey(folder, file.relative_key);
    Status s = deps_.store->Import(file.local_path, key);
    if (s.code() == Code::kAlreadyExists) {  // left by a crashed attempt
      VG_RETURN_IF_ERROR(deps_.store->Delete(key));
      s = deps_.store->Import(file.local_path, key);
    }
    VG_RETURN_IF_ERROR(s);
    const std::string sha256 = digest->hex["sha256"];
    files.push_back(catalog::FileChecksum{std::string(kOwnFolder) + "/" + file.relative_key,
                                          digest->size, sha256});
    if (!file.record) continue;
    catalog::Output out = file.output;
    out.key = key;
    out.sha256 = sha256;
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
  RecordFootage(result, data, done);
  done.events.push_back(
      deps_.events->Make(kVideoProcessed, video, State::kProcessed, attempt, data, now));
  VG_RETURN_IF_ERROR(
      File(video, folder, State::kProcessed, std::move(report), now, findings, files, done));
  deps_.log->info("{}: processing -> processed (attempt {}, {})", video.name, attempt, folder);
  return Status();
}

Status Worker::Quarantine(const Video& video, int attempt, State final_state,
                          const std::string& reason, bool retryable, const nlohmann::json& qc,
                          const nlohmann::json& probe, const TrustFindings* findings,
                          const StageResult* result) {
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
  if (result != nullptr) RecordFootage(*result, data, done);
  done.events.push_back(deps_.events->Make(rejected ? kVideoRejected : kVideoUnable, video,
                                           final_state, video.attempts, data, now));
  VG_RETURN_IF_ERROR(File(video, folder, final_state, std::move(report), now, findings, {}, done));
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
    // Listed once: each numbered name only renames them.
    auto captions = CaptionsBeside(*deps_.store, video.current_key);
    for (int n = 1; n < 10000; ++n) {
      std::string candidate = NumberedFile(kFailed, video.name, file, n);
      std::string side;
      if (!video.sidecar_key.empty()) {
        side = Folder(candidate) +
               SidecarNameFor(video.sidecar_key, video.current_key, FileName(candidate));
      }
      if (deps_.store->Stat(candidate).status().code() != Code::kNotFound) continue;
      if (!side.empty() && deps_.store->Stat(side).status().code() != Code::kNotFound) continue;
      // Nor may a caption land on a file there.
      if (captions.ok() && std::any_of(captions->begin(), captions->end(), [&](const auto& c) {
            const std::string to_caption =
                Folder(candidate) +
                CaptionNameFor(FileName(c.key), FileName(video.current_key), FileName(candidate));
            return deps_.store->Stat(to_caption).status().code() != Code::kNotFound;
          })) {
        continue;
      }
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
    } else if (Status moved = MoveCaptions(*deps_.store, video.current_key, to,
                                           [&](const std::string& from, const std::string& dest) {
                                             return MoveIdempotent(*deps_.store, from, dest);
                                           });
               !moved.ok()) {
      deps_.log->warn("{}: cannot move a caption beside {}: {}", video.name, to, moved.message());
    }
  }

  VideoChange change = FailedAttempt(video, attempt, error, now, next, to);
  change.current_key = to;
  change.sidecar_key = sidecar_to;
  change.pending_key = "";
  change.pending_sidecar_key = "";
  VG_RETURN_IF_ERROR(ApplyChange(change));
  deps_.log->info("{}: processing -> retry_wait (attempt {} of {} failed: {}; next in {:.1f} s)",
                  video.name, attempt, options_.max_attempts, error.message(), delay);
  return Status();
}

VideoChange Worker::FailedAttempt(const Video& video, int attempt, const Status& error, double now,
                                  double next, const std::string& location) {
  VideoChange change;
  change.video_id = video.id;
  change.now = now;
  change.state = State::kRetryWait;
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
                         {"location", location}};
  change.events.push_back(
      deps_.events->Make(kVideoFailed, video, State::kRetryWait, attempt, data, now));
  return change;
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
