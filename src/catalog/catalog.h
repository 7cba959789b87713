// catalog.h: the source of truth for every video's state, its attempts, its
// outputs, the job queue (with leases) and the notification outbox.
//
// A state change and the notifications it causes are written in one
// transaction (Apply, Register), so a crash never loses a notification or
// sends one for a change that did not happen. Every backend passes
// catalog_conformance.h. All methods are thread-safe; backend errors are
// kUnavailable (retry), kResourceExhausted or kPermissionDenied.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/util.h"

namespace vidgate::catalog {

// Contract states (ARCHITECTURE.md).
enum class State {
  kAwaitingMetadata,
  kQueued,
  kProcessing,
  kRetryWait,
  kProcessed,
  kRejected,
  kUnableToProcess,
};

inline constexpr State kAllStates[] = {
    State::kAwaitingMetadata, State::kQueued,   State::kProcessing,      State::kRetryWait,
    State::kProcessed,        State::kRejected, State::kUnableToProcess,
};

std::string_view StateName(State state);
// kInvalidArgument naming the value and the valid states.
Result<State> ParseState(std::string_view name);
bool IsTerminal(State state);

struct Video {
  int64_t id = 0;
  std::string name;         // NAME: path under uploads/ without extension
  std::string source_key;   // where it was first seen
  std::string current_key;  // where the original is now
  std::string sidecar_key;  // "" while none is known
  // Where a move in progress takes the original and the sidecar; intake
  // treats these keys as taken, so a half-done move is never adopted.
  std::string pending_key;
  std::string pending_sidecar_key;
  State state = State::kAwaitingMetadata;
  int attempts = 0;
  nlohmann::json metadata;  // null until a valid sidecar is read
  nlohmann::json probe;
  nlohmann::json qc;
  std::string location;             // final (or reserved) folder, e.g. "processed/clip"
  std::string sidecar_fingerprint;  // sidecar version last evaluated
  bool metadata_notice_sent = false;
  std::string last_error;
  double created_at = 0;
  double updated_at = 0;
  double next_attempt_at = 0;  // from the job, 0 when none
  // A digest of the documents, read by lists too (which leave those out):
  // the metadata's title, the QC verdict, the probed duration in seconds
  // ("" and 0 when unknown).
  std::string title;
  std::string verdict;
  double duration = 0;
  std::string sha256;  // the original's, lower-case hex; "" until an attempt read it
};

struct Attempt {
  int number = 0;
  std::string worker;
  double started_at = 0;
  double finished_at = 0;  // 0 while running
  std::string outcome;     // running, succeeded, failed, rejected, interrupted
  std::string error;
  bool retryable = false;
};

struct Output {
  std::string key;
  int64_t size = 0;
  std::string codec;
  int width = 0;
  int height = 0;
  double duration = 0;
  std::string sha256;  // lower-case hex of the file as published
};

// A file of a filed folder and its SHA-256 (fixity): `path` is relative to
// the folder ("clip.mp4", "vidgate/renditions/main.mp4").
struct FileChecksum {
  std::string path;
  int64_t size = 0;
  std::string sha256;
};

// The contract's `outputs` array ({"key","size","codec","width","height",
// "duration"} each), as `show --json` and report.json carry it.
inline nlohmann::json OutputsToJson(const std::vector<Output>& outputs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : outputs) {
    out.push_back(
        {{"key", o.key},
         {"size", o.size},
         {"codec", o.codec},
         {"width", o.width},
         {"height", o.height},
         {"duration", o.duration},
         {"sha256", o.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.sha256)}});
  }
  return out;
}

// The contract's attempt history ({"number","started_at","finished_at",
// "outcome","error","retryable"} each, plus "worker"; times as ISO 8601,
// null while running or without an error), as `show --json`, report.json and
// the unable_to_process event carry it.
inline nlohmann::json AttemptsToJson(const std::vector<Attempt>& attempts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : attempts) {
    out.push_back({{"number", a.number},
                   {"started_at", FormatTime(a.started_at)},
                   {"finished_at", a.finished_at > 0 ? nlohmann::json(FormatTime(a.finished_at))
                                                     : nlohmann::json(nullptr)},
                   {"outcome", a.outcome},
                   {"error", a.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.error)},
                   {"retryable", a.retryable},
                   {"worker", a.worker}});
  }
  return out;
}

// A notification to deliver to every sink in `sinks`.
struct OutboxEvent {
  std::string id;  // CloudEvents id, the idempotency key
  std::string type;
  nlohmann::json document;  // the whole CloudEvent
  std::vector<std::string> sinks;
};

struct Delivery {
  int64_t id = 0;
  std::string sink;
  int attempts = 0;  // before this one
  nlohmann::json document;
};

struct NotificationRecord {
  std::string event_id;
  std::string type;
  std::string sink;
  double created_at = 0;
  double delivered_at = 0;  // 0 while undelivered
  int attempts = 0;
  bool gave_up = false;
  std::string last_error;
};

struct NewVideo {
  std::string name;
  std::string key;
  State state = State::kAwaitingMetadata;
  double now = 0;
};

struct AttemptEnd {
  std::string outcome;  // succeeded, failed, rejected
  std::string error;
  bool retryable = false;
};

// A video's perceptual fingerprint as the catalog keeps it: its hashes in
// hex (qc::Fingerprint::ToHex) and the index keys under which other videos
// find it (band key, window).
struct FingerprintRecord {
  std::string hashes;
  std::vector<std::pair<int64_t, int>> index;
};

// An index entry of a filed video that one of the asked keys found.
struct FingerprintHit {
  int64_t video_id = 0;
  int64_t key = 0;
  int window = 0;
};

// One transactional change to a video. Unset fields stay as they are.
struct VideoChange {
  int64_t video_id = 0;
  double now = 0;
  std::optional<State> state;
  std::optional<std::string> current_key, sidecar_key, pending_key, pending_sidecar_key, location,
      sidecar_fingerprint, last_error, sha256;
  std::optional<nlohmann::json> metadata, probe, qc;
  // Replaces the video's recorded file checksums (its filed folder's).
  std::optional<std::vector<FileChecksum>> checksums;
  // Replaces the video's fingerprint and its index entries.
  std::optional<FingerprintRecord> fingerprint;
  std::optional<bool> metadata_notice_sent;
  enum class Job { kKeep, kSchedule, kRemove } job = Job::kKeep;
  double job_available_at = 0;            // with kSchedule; also releases any lease
  std::optional<AttemptEnd> end_attempt;  // closes the running attempt
  // Forgets the running attempt (graceful shutdown): its row is removed and
  // the count goes back, as if it never started.
  bool release_attempt = false;
  std::vector<Output> outputs;
  std::vector<OutboxEvent> events;
  std::string log;  // a line for the event log
  // When set, the change applies only while this worker holds the job's
  // lease; otherwise kFailedPrecondition and nothing changes (fencing).
  std::string lease_owner;
  // When set, the change applies only while the video is in this state;
  // otherwise kFailedPrecondition and nothing changes (another process
  // moved it on meanwhile).
  std::optional<State> expect_state;
  // Likewise, only while the video's notice flag and sidecar fingerprint
  // are these: of several processes judging the same sidecar at once, one
  // records the judgement and its notice.
  std::optional<bool> expect_notice_sent;
  std::optional<std::string> expect_sidecar_fingerprint;
};

// A job handed to a worker. `interrupted` tells that the previous holder's
// lease expired mid-attempt (that attempt is now recorded as interrupted).
struct Claim {
  Video video;
  int attempt_number = 0;  // the attempt just started; 0 if exhausted
  bool exhausted = false;  // max_attempts were used up: no attempt started
  bool interrupted = false;
};

// A page of the video list (the API): newest first, by id.
struct VideoQuery {
  std::optional<State> state;
  // "" or text the name or the metadata's title holds (ASCII case ignored).
  std::string text;
  int64_t before_id = 0;  // keyset cursor: only ids below it; 0 from the newest
  int limit = 50;
};

// The fleet's figures at a moment, as the catalog has them (every process
// reads the same): the API's stats, /metrics' gauges and the alarms.
struct FleetStats {
  std::vector<std::pair<State, int64_t>> videos;  // every state, in enum order
  // How long the job due first has waited unclaimed (0: none waits).
  double oldest_queued_seconds = 0;
  int64_t workers_busy = 0;    // jobs under a lease that has not run out
  int64_t outbox_backlog = 0;  // deliveries neither delivered nor given up
  // Within the window (now - window_seconds, now]:
  double window_seconds = 0;
  // Attempts finished, by outcome (succeeded, failed, rejected, interrupted).
  std::map<std::string, int64_t> attempts;
  // Events put in the outbox, by CloudEvents type.
  std::map<std::string, int64_t> events;
  int64_t Count(State state) const {
    for (const auto& [s, n] : videos) {
      if (s == state) return n;
    }
    return 0;
  }
};

// One line of a video's story, as the API's change feed streams it.
struct LogEntry {
  int64_t id = 0;
  int64_t video_id = 0;  // 0: about no video
  std::string name;      // the video's
  std::string state;     // the state it entered; "" when that did not change
  double at = 0;
  std::string message;
};

// An event put in the outbox, in the outbox's order.
struct RecordedEvent {
  int64_t seq = 0;
  nlohmann::json document;  // the whole CloudEvent
};

// An alarm as the fleet last set it (see Catalog::SetAlarm).
struct AlarmRecord {
  std::string name;
  bool firing = false;
  double since = 0;       // when it last started firing or cleared
  double checked_at = 0;  // when a process last found it so
  double value = 0;       // the figure then
  nlohmann::json detail;  // the rule as the process that set it had it
};

// What still holds `run --until-idle`.
struct Pending {
  int64_t jobs = 0;                // queued, processing or retry_wait
  int64_t deliveries = 0;          // undelivered notifications still being retried
  int64_t awaiting_notice = 0;     // awaiting_metadata with no notice sent yet
  std::optional<double> next_due;  // earliest job or delivery due time
  // When the next job can be claimed: its due time, or for a leased one,
  // when the lease runs out.
  std::optional<double> next_claimable;
};

class Catalog {
 public:
  Catalog() = default;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;
  virtual ~Catalog() = default;

  // Applies pending schema migrations. kFailedPrecondition if the schema is
  // newer than this binary knows.
  virtual Status Migrate() = 0;
  virtual Result<int> SchemaVersion() = 0;

  // Registers a video unless one with the same current key is active (not in
  // a terminal state): then returns nullopt and changes nothing.
  virtual Result<std::optional<int64_t>> Register(const NewVideo& video,
                                                  const std::vector<OutboxEvent>& events) = 0;

  // Current, sidecar and pending keys of every active video.
  virtual Result<std::vector<std::string>> ActiveKeys() = 0;
  // Every video (or those in `state`), newest first, without its documents
  // (metadata, probe and qc are null: GetVideo reads them for one video).
  virtual Result<std::vector<Video>> ListVideos(std::optional<State> state) = 0;
  // A page of videos (without their documents), newest first.
  virtual Result<std::vector<Video>> FindVideos(const VideoQuery& query) = 0;
  // kNotFound if there is no video with that id.
  virtual Result<Video> GetVideo(int64_t id) = 0;
  // The newest video of that name; kNotFound if there is none.
  virtual Result<Video> FindVideoByName(std::string_view name) = 0;

  // The folders of videos other than `video_id` that `folder` would clash
  // with: the same folder, one inside it, or one holding it. Sorted.
  virtual Result<std::vector<std::string>> FolderClashes(std::string_view folder,
                                                         int64_t video_id) = 0;

  // See VideoChange. kNotFound if the video does not exist; kAlreadyExists
  // if `location` clashes with another video's folder (FolderClashes).
  virtual Status Apply(const VideoChange& change) = 0;

  // Takes the job due first (available and unleased, or whose lease expired)
  // for `owner` until now + lease_seconds, and starts its next attempt.
  virtual Result<std::optional<Claim>> ClaimNext(const std::string& owner, double now,
                                                 double lease_seconds, int max_attempts) = 0;
  // Extends a lease; kFailedPrecondition if `owner` no longer holds it.
  virtual Status RenewLease(int64_t video_id, const std::string& owner, double until) = 0;
  // Makes a waiting job due now (`vidgate retry`); kFailedPrecondition if the
  // video has no job (terminal or awaiting metadata).
  virtual Status RetryNow(int64_t video_id, double now) = 0;

  virtual Result<std::vector<Attempt>> Attempts(int64_t video_id) = 0;
  virtual Result<std::vector<Output>> Outputs(int64_t video_id) = 0;
  // The files of a video's filed folder as recorded when it was filed,
  // sorted by path.
  virtual Result<std::vector<FileChecksum>> Checksums(int64_t video_id) = 0;
  // Videos other than `video_id` whose original had this SHA-256 and that
  // are filed (processed, rejected or unable_to_process) with their
  // original still in their folder (a video run again is not), oldest first.
  virtual Result<std::vector<Video>> FiledWithSha256(std::string_view sha256, int64_t video_id) = 0;
  // The index entries under `keys` of videos other than `video_id` that are
  // filed with their original in their folder (as FiledWithSha256), at
  // most `limit` of them.
  virtual Result<std::vector<FingerprintHit>> FingerprintHits(const std::vector<int64_t>& keys,
                                                              int64_t video_id, int limit) = 0;
  // The video's fingerprint hashes (FingerprintRecord::hashes); "" when it
  // has none.
  virtual Result<std::string> FingerprintOf(int64_t video_id) = 0;
  virtual Result<std::vector<NotificationRecord>> Notifications(int64_t video_id) = 0;

  // Takes up to `limit` due deliveries (to `sink` only, unless it is ""),
  // oldest first, hiding them from other callers until now + hold_seconds.
  virtual Result<std::vector<Delivery>> TakeDueDeliveries(double now, int limit,
                                                          double hold_seconds,
                                                          const std::string& sink = "") = 0;
  // A sink that just failed: every delivery to it that is due at `now` (not
  // taken elsewhere) counts a failed try with `error`, is due again at
  // `next_at`, and is given up at its `max_attempts`th try. So a sink that
  // is down costs one time-out per round, whatever its backlog. Returns how
  // many deliveries it marked.
  virtual Result<int> MarkSinkFailed(const std::string& sink, double now, double next_at,
                                     const std::string& error, int max_attempts) = 0;
  // Gives up every undelivered delivery to a sink not in `sinks` (no longer
  // configured), with `error`. Returns how many.
  virtual Result<int> GiveUpUnknownSinks(const std::vector<std::string>& sinks,
                                         const std::string& error) = 0;
  virtual Status MarkDelivered(int64_t delivery_id, double now) = 0;
  // Records a failed delivery; retried at `next_at` unless `give_up`.
  virtual Status MarkDeliveryFailed(int64_t delivery_id, double next_at, const std::string& error,
                                    bool give_up) = 0;

  // Makes taken deliveries due again at `at`, without counting a try.
  virtual Status DeferDelivery(int64_t delivery_id, double at) = 0;

  virtual Result<Pending> PendingWork() = 0;
  // See FleetStats.
  virtual Result<FleetStats> Stats(double now, double window_seconds) = 0;

  // The change feed: up to `limit` log entries (events) with ids (seqs)
  // above `after`, in that order. Ids are given as transactions start: on
  // PostgreSQL one may commit after a higher one, or never (rolled back).
  virtual Result<std::vector<LogEntry>> LogAfter(int64_t after, int limit) = 0;
  virtual Result<std::vector<RecordedEvent>> EventsAfter(int64_t after, int limit) = 0;
  // The highest log id and event seq now: where a feed of what is new starts.
  virtual Result<std::pair<int64_t, int64_t>> FeedHead() = 0;

  // Whether WaitForWork can be woken by other processes (PostgreSQL); when
  // not, it only sleeps and there is no point calling it.
  virtual bool SignalsWork() const = 0;

  // Blocks until another process may have queued work (PostgreSQL: a NOTIFY
  // sent when a job becomes due now) or `timeout_seconds` pass. True if
  // woken by a notification. Backends without notifications just wait.
  // Call from one thread only.
  virtual Result<bool> WaitForWork(double timeout_seconds) = 0;

  // Records a notice about a store object that is no video (an orphan
  // sidecar) and queues `event`, once per `fingerprint` of `key`. Returns
  // false, changing nothing, if this fingerprint was noticed before.
  virtual Result<bool> RecordNotice(const std::string& key, const std::string& fingerprint,
                                    const OutboxEvent& event, double now) = 0;

  // Moves alarm `name` into `firing` (true: triggered, false: resolved) and
  // queues `event`, in one transaction, unless it is so already: then it
  // only records `value`, `detail` and `now` as checked_at, and returns
  // false. So when
  // several processes see the same change, exactly one sends it. An alarm
  // with no row is resolved.
  virtual Result<bool> SetAlarm(const std::string& name, bool firing, double value,
                                const nlohmann::json& detail, const OutboxEvent& event,
                                double now) = 0;
  virtual Result<std::vector<AlarmRecord>> Alarms() = 0;
};

// Opens "sqlite://PATH" (relative or absolute) or
// "postgresql://user@host:port/db" (libpq's URL syntax; the password, if not
// in `password`, comes from PGPASSWORD or ~/.pgpass as libpq finds it).
// kInvalidArgument for an unknown scheme; the schema is not migrated until
// Migrate(). Messages never show a password.
// Called by a catalog at named points inside its transactions, so a test
// can pause one there ("apply:fenced": Apply, after its lease check, before
// its writes). Empty outside tests.
using TestHook = std::function<void(std::string_view point)>;

Result<std::unique_ptr<Catalog>> Open(std::string_view url, const std::string& password = "",
                                      TestHook test_hook = {});

// The video a user means by `ref`: "id:N", "name:NAME", or a bare NAME; a
// bare number is the id when no video has that name, the name when no video
// has that id, and kInvalidArgument (naming both spellings) when it is both.
Result<Video> FindVideo(Catalog& catalog, std::string_view ref);

// `url` with any password replaced by "***", for messages and logs.
std::string RedactUrl(const std::string& url);

}  // namespace vidgate::catalog
