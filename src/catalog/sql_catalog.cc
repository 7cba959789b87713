// Catalog over SqlConnection: the queries are written once for every SQL
// backend (see internal/sql.h for the shared subset).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/internal/postgres_connection.h"
#include "catalog/internal/sql.h"
#include "catalog/internal/sqlite_connection.h"
#include "catalog/migrations.h"

namespace vidgate::catalog {

using internal::SqlConnection;
using internal::SqlParams;
using internal::SqlRow;
using internal::Transaction;

std::string_view StateName(State state) {
  switch (state) {
    case State::kAwaitingMetadata:
      return "awaiting_metadata";
    case State::kQueued:
      return "queued";
    case State::kProcessing:
      return "processing";
    case State::kRetryWait:
      return "retry_wait";
    case State::kProcessed:
      return "processed";
    case State::kRejected:
      return "rejected";
    case State::kUnableToProcess:
      return "unable_to_process";
  }
  return "unknown";
}

Result<State> ParseState(std::string_view name) {
  for (State s : kAllStates) {
    if (StateName(s) == name) return s;
  }
  return InvalidArgument("unknown state '" + std::string(name) +
                         "' (expected awaiting_metadata, queued, processing, retry_wait, "
                         "processed, rejected or unable_to_process)");
}

bool IsTerminal(State state) {
  return state == State::kProcessed || state == State::kRejected ||
         state == State::kUnableToProcess;
}

namespace {

constexpr const char* kVideoColumns =
    "v.id, v.name, v.source_key, v.current_key, v.sidecar_key, v.state, v.attempts, v.metadata, "
    "v.probe, v.qc, v.location, v.sidecar_fingerprint, v.metadata_notice_sent, v.last_error, "
    "v.created_at, v.updated_at, COALESCE(j.available_at, 0), v.pending_key, "
    "v.pending_sidecar_key, v.title, v.verdict, v.duration, v.sha256 "
    "FROM videos v LEFT JOIN jobs j ON j.video_id = v.id";
// The same columns, the documents (metadata, probe, QC report) left out: a
// list of thousands of videos reads no report.
constexpr const char* kVideoListColumns =
    "v.id, v.name, v.source_key, v.current_key, v.sidecar_key, v.state, v.attempts, NULL, "
    "NULL, NULL, v.location, v.sidecar_fingerprint, v.metadata_notice_sent, v.last_error, "
    "v.created_at, v.updated_at, COALESCE(j.available_at, 0), v.pending_key, "
    "v.pending_sidecar_key, v.title, v.verdict, v.duration, v.sha256 "
    "FROM videos v LEFT JOIN jobs j ON j.video_id = v.id";

nlohmann::json ParseJsonColumn(const SqlRow& row, size_t i) {
  if (row.IsNull(i)) return nullptr;
  return nlohmann::json::parse(row.Text(i), nullptr, /*allow_exceptions=*/false);
}

Video VideoFromRow(const SqlRow& row) {
  Video v;
  v.id = row.Int(0);
  v.name = row.Text(1);
  v.source_key = row.Text(2);
  v.current_key = row.Text(3);
  v.sidecar_key = row.Text(4);
  auto state = ParseState(row.Text(5));
  v.state = state.ok() ? *state : State::kQueued;
  v.attempts = static_cast<int>(row.Int(6));
  v.metadata = ParseJsonColumn(row, 7);
  v.probe = ParseJsonColumn(row, 8);
  v.qc = ParseJsonColumn(row, 9);
  v.location = row.Text(10);
  v.sidecar_fingerprint = row.Text(11);
  v.metadata_notice_sent = row.Int(12) != 0;
  v.last_error = row.Text(13);
  v.created_at = row.Real(14);
  v.updated_at = row.Real(15);
  v.next_attempt_at = row.Real(16);
  v.pending_key = row.Text(17);
  v.pending_sidecar_key = row.Text(18);
  v.title = row.Text(19);
  v.verdict = row.Text(20);
  v.duration = row.Real(21);
  v.sha256 = row.Text(22);
  return v;
}

std::string Str(std::string_view s) { return std::string(s); }

// The LISTEN/NOTIFY channel for "a job is due now".
constexpr const char* kWorkChannel = "vidgate_work";

// pg_advisory_xact_lock key for migrations ("vidg" in ASCII).
constexpr int64_t kMigrationLockKey = 0x76696467;
// pg_advisory_xact_lock key for folder reservations ("vidf").
constexpr int64_t kLocationLockKey = 0x76696466;

class SqlCatalog final : public Catalog {
 public:
  using Connector = std::function<Result<std::unique_ptr<SqlConnection>>()>;

  SqlCatalog(std::unique_ptr<SqlConnection> db, std::string url, Connector connect, TestHook hook)
      : dialect_(db->dialect()),
        url_(std::move(url)),
        connect_(std::move(connect)),
        hook_(std::move(hook)) {
    idle_.push_back(std::move(db));
  }

  bool SignalsWork() const override { return dialect_ == internal::Dialect::kPostgres; }

  Result<bool> WaitForWork(double timeout_seconds) override {
    if (dialect_ != internal::Dialect::kPostgres) {
      std::this_thread::sleep_for(std::chrono::duration<double>(timeout_seconds));
      return false;
    }
    if (!listener_) {
      VG_ASSIGN_OR_RETURN(listener_, connect_());
      VG_RETURN_IF_ERROR(listener_->Listen(kWorkChannel));
    }
    return listener_->WaitForNotification(timeout_seconds);
  }

  Status Migrate() override {
    // Processes starting together race to create the schema; the loser of a
    // lock race tries again (the winner's work then makes it a no-op).
    Status st;
    for (int attempt = 0; attempt < 100; ++attempt) {
      st = MigrateOnce();
      if (st.code() != Code::kUnavailable) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + attempt));
    }
    return st;
  }

  Status MigrateOnce() {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    if (db->dialect() == internal::Dialect::kPostgres) {
      // Two processes starting at once must not both migrate: the second
      // waits here, then finds the work done.
      VG_RETURN_IF_ERROR(
          db->Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status());
    }
    VG_RETURN_IF_ERROR(
        db->ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                       "applied_at DOUBLE PRECISION NOT NULL)"));
    VG_ASSIGN_OR_RETURN(int current, VersionLocked(*db));
    auto migrations = internal::Migrations(db->dialect());
    int latest = migrations.empty() ? 0 : migrations.back().version;
    if (current > latest) {
      return FailedPrecondition("catalog " + url_ + " has schema version " +
                                std::to_string(current) + ", newer than this vidgate (" +
                                std::to_string(latest) + "); upgrade vidgate");
    }
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      VG_RETURN_IF_ERROR(
          db->ExecScript(m.sql).WithContext("migration " + std::to_string(m.version)));
      VG_RETURN_IF_ERROR(
          db->Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                   {int64_t{m.version}, 0.0})
              .status());
    }
    return tx.Commit();
  }

  Result<int> SchemaVersion() override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return VersionLocked(*db);
  }

  Result<std::optional<int64_t>> Register(const NewVideo& video,
                                          const std::vector<OutboxEvent>& events) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    VG_ASSIGN_OR_RETURN(
        auto rows,
        db->Query(
            "INSERT INTO videos (name, source_key, current_key, state, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            {video.name, video.key, video.key, Str(StateName(video.state)), video.now, video.now}));
    if (rows.empty()) return std::optional<int64_t>();
    int64_t id = rows[0].Int(0);
    if (video.state == State::kQueued) {
      VG_RETURN_IF_ERROR(
          db->Exec("INSERT INTO jobs (video_id, available_at) VALUES (?, ?)", {id, video.now})
              .status());
      VG_RETURN_IF_ERROR(NotifyWorkLocked(*db));
    }
    VG_RETURN_IF_ERROR(
        LogLocked(*db, id, video.now,
                  "registered " + video.key + " as " + std::string(StateName(video.state)),
                  StateName(video.state)));
    for (const auto& e : events) VG_RETURN_IF_ERROR(EnqueueLocked(*db, id, e, video.now));
    VG_RETURN_IF_ERROR(tx.Commit());
    return std::optional<int64_t>(id);
  }

  Result<std::vector<std::string>> ActiveKeys() override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT current_key, sidecar_key, pending_key, "
                                             "pending_sidecar_key FROM videos WHERE state NOT IN "
                                             "('processed', 'rejected', 'unable_to_process')"));
    std::vector<std::string> keys;
    for (const auto& r : rows) {
      for (size_t i = 0; i < 4; ++i) {
        if (!r.Text(i).empty()) keys.push_back(r.Text(i));
      }
    }
    return keys;
  }

  Result<std::vector<Video>> ListVideos(std::optional<State> state) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    std::string sql = std::string("SELECT ") + kVideoListColumns;
    SqlParams params;
    if (state) {
      sql += " WHERE v.state = ?";
      params.emplace_back(Str(StateName(*state)));
    }
    sql += " ORDER BY v.created_at DESC, v.id DESC";
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(sql, params));
    std::vector<Video> out;
    for (const auto& r : rows) out.push_back(VideoFromRow(r));
    return out;
  }

  Result<std::vector<Video>> FindVideos(const VideoQuery& q) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    const bool postgres = db->dialect() == internal::Dialect::kPostgres;
    std::string sql = std::string("SELECT ") + kVideoListColumns + " WHERE 1 = 1";
    SqlParams params;
    if (q.state) {
      sql += " AND v.state = ?";
      params.emplace_back(Str(StateName(*q.state)));
    }
    if (q.before_id > 0) {
      sql += " AND v.id < ?";
      params.emplace_back(q.before_id);
    }
    if (!q.text.empty()) {
      // A literal match: the user's % and _ are escaped.
      std::string pattern = "%";
      for (char ch : q.text) {
        if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
        pattern += ch;
      }
      pattern += '%';
      const char* like = postgres ? "ILIKE" : "LIKE";
      const char* title =
          postgres ? "(v.metadata::jsonb ->> 'title')" : "json_extract(v.metadata, '$.title')";
      sql += fmt::format(" AND (v.name {0} ? ESCAPE '\\' OR {1} {0} ? ESCAPE '\\')", like, title);
      params.emplace_back(pattern);
      params.emplace_back(pattern);
    }
    sql += " ORDER BY v.id DESC LIMIT ?";
    params.emplace_back(int64_t{std::max(1, q.limit)});
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(sql, params));
    std::vector<Video> out;
    for (const auto& r : rows) out.push_back(VideoFromRow(r));
    return out;
  }

  Result<Video> GetVideo(int64_t id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return GetLocked(*db, id);
  }

  Result<Video> FindVideoByName(std::string_view name) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kVideoColumns +
                                                 " WHERE v.name = ? ORDER BY v.id DESC LIMIT 1",
                                             {Str(name)}));
    if (rows.empty()) return NotFound("no video named '" + Str(name) + "'");
    return VideoFromRow(rows[0]);
  }

  Result<std::vector<std::string>> FolderClashes(std::string_view folder,
                                                 int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return ClashesLocked(*db, folder, video_id);
  }

  Status Apply(const VideoChange& c) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    const bool postgres = db->dialect() == internal::Dialect::kPostgres;
    if (!c.lease_owner.empty()) {
      // The row stays locked until the commit (PostgreSQL; SQLite's write
      // transaction already excludes every other writer), so a ClaimNext
      // cannot take the lease between this check and the writes below.
      VG_ASSIGN_OR_RETURN(auto rows,
                          db->Query(std::string("SELECT lease_owner FROM jobs WHERE video_id = ?") +
                                        (postgres ? " FOR UPDATE" : ""),
                                    {c.video_id}));
      if (rows.empty() || rows[0].Text(0) != c.lease_owner) {
        return FailedPrecondition("video " + std::to_string(c.video_id) +
                                  ": this worker's lease was taken over; not applying");
      }
      if (hook_) hook_("apply:fenced");  // tests pause here
    }
    if (c.location && !c.location->empty()) {
      // A video's folder never holds another video's folder, nor lies inside
      // one: deleting one must never delete another. Reservations take turns
      // (PostgreSQL: a transaction lock; SQLite: its one writer).
      if (postgres) {
        VG_RETURN_IF_ERROR(
            db->Query("SELECT pg_advisory_xact_lock(?)", {kLocationLockKey}).status());
      }
      VG_ASSIGN_OR_RETURN(auto clash, ClashesLocked(*db, *c.location, c.video_id));
      if (!clash.empty()) {
        return AlreadyExists("folder " + *c.location + " clashes with " + clash[0] +
                             ", another video's folder");
      }
    }
    std::string sql = "UPDATE videos SET updated_at = ?";
    SqlParams p{c.now};
    auto set_text = [&](const char* col, const std::optional<std::string>& v) {
      if (!v) return;
      sql += std::string(", ") + col + " = ?";
      p.emplace_back(*v);
    };
    auto set_json = [&](const char* col, const std::optional<nlohmann::json>& v) {
      if (!v) return;
      sql += std::string(", ") + col + " = ?";
      if (v->is_null()) {
        p.emplace_back(nullptr);
      } else {
        p.emplace_back(v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    };
    if (c.state) {
      sql += ", state = ?";
      p.emplace_back(Str(StateName(*c.state)));
    }
    set_text("current_key", c.current_key);
    set_text("sidecar_key", c.sidecar_key);
    set_text("pending_key", c.pending_key);
    set_text("pending_sidecar_key", c.pending_sidecar_key);
    set_text("location", c.location);
    set_text("sidecar_fingerprint", c.sidecar_fingerprint);
    set_text("last_error", c.last_error);
    set_text("sha256", c.sha256);
    set_json("metadata", c.metadata);
    set_json("probe", c.probe);
    set_json("qc", c.qc);
    // The digest lists show, kept beside the documents they come from.
    if (c.metadata) {
      sql += ", title = ?";
      const auto title = c.metadata->is_object() ? c.metadata->find("title") : c.metadata->end();
      p.emplace_back(c.metadata->is_object() && title != c.metadata->end() && title->is_string()
                         ? title->get<std::string>()
                         : std::string());
    }
    if (c.qc) {
      sql += ", verdict = ?";
      p.emplace_back(c.qc->is_object() ? c.qc->value("verdict", std::string()) : std::string());
    }
    if (c.probe) {
      sql += ", duration = ?";
      double duration = 0;
      if (c.probe->is_object() && c.probe->contains("format") && (*c.probe)["format"].is_object()) {
        const auto& d = (*c.probe)["format"].value("duration", nlohmann::json());
        if (d.is_number()) duration = d.get<double>();
      }
      p.emplace_back(duration);
    }
    if (c.metadata_notice_sent) {
      sql += ", metadata_notice_sent = ?";
      p.emplace_back(int64_t{*c.metadata_notice_sent ? 1 : 0});
    }
    sql += " WHERE id = ?";
    p.emplace_back(c.video_id);
    if (c.expect_state) {
      sql += " AND state = ?";
      p.emplace_back(Str(StateName(*c.expect_state)));
    }
    if (c.expect_notice_sent) {
      sql += " AND metadata_notice_sent = ?";
      p.emplace_back(int64_t{*c.expect_notice_sent ? 1 : 0});
    }
    if (c.expect_sidecar_fingerprint) {
      sql += " AND sidecar_fingerprint = ?";
      p.emplace_back(*c.expect_sidecar_fingerprint);
    }
    VG_ASSIGN_OR_RETURN(int64_t changed, db->Exec(sql, p));
    if (changed == 0) {
      const bool conditional =
          c.expect_state || c.expect_notice_sent || c.expect_sidecar_fingerprint;
      if (!conditional) return NotFound("no video with id " + std::to_string(c.video_id));
      VG_ASSIGN_OR_RETURN(Video current, GetLocked(*db, c.video_id));
      if (!c.expect_state || current.state == *c.expect_state) {
        return FailedPrecondition("video " + std::to_string(c.video_id) +
                                  ": another process judged its sidecar meanwhile; not applying");
      }
      return FailedPrecondition("video " + std::to_string(c.video_id) + " is " +
                                std::string(StateName(current.state)) + ", no longer " +
                                std::string(StateName(*c.expect_state)) + "; not applying");
    }

    if (c.end_attempt) {
      VG_RETURN_IF_ERROR(
          db->Exec("UPDATE attempts SET finished_at = ?, outcome = ?, error = ?, retryable = ? "
                   "WHERE video_id = ? AND outcome = 'running'",
                   {c.now, c.end_attempt->outcome, c.end_attempt->error,
                    int64_t{c.end_attempt->retryable ? 1 : 0}, c.video_id})
              .status());
    }
    if (c.release_attempt) {
      VG_RETURN_IF_ERROR(
          db->Exec("DELETE FROM attempts WHERE video_id = ? AND outcome = 'running'", {c.video_id})
              .status());
      VG_RETURN_IF_ERROR(db->Exec("UPDATE videos SET attempts = (SELECT COUNT(*) FROM attempts "
                                  "WHERE video_id = ?) WHERE id = ?",
                                  {c.video_id, c.video_id})
                             .status());
    }
    if (c.job == VideoChange::Job::kSchedule) {
      VG_RETURN_IF_ERROR(db->Exec("DELETE FROM jobs WHERE video_id = ?", {c.video_id}).status());
      VG_RETURN_IF_ERROR(db->Exec("INSERT INTO jobs (video_id, available_at) VALUES (?, ?)",
                                  {c.video_id, c.job_available_at})
                             .status());
      if (c.job_available_at <= c.now) VG_RETURN_IF_ERROR(NotifyWorkLocked(*db));
    } else if (c.job == VideoChange::Job::kRemove) {
      VG_RETURN_IF_ERROR(db->Exec("DELETE FROM jobs WHERE video_id = ?", {c.video_id}).status());
    }
    for (const auto& o : c.outputs) {
      VG_RETURN_IF_ERROR(
          db->Exec("INSERT INTO outputs (video_id, key, size, codec, width, height, duration, "
                   "sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   {c.video_id, o.key, o.size, o.codec, int64_t{o.width}, int64_t{o.height},
                    o.duration, o.sha256})
              .status());
    }
    if (c.fingerprint) {
      VG_RETURN_IF_ERROR(
          db->Exec("DELETE FROM fingerprint_index WHERE video_id = ?", {c.video_id}).status());
      VG_RETURN_IF_ERROR(
          db->Exec("DELETE FROM fingerprints WHERE video_id = ?", {c.video_id}).status());
      VG_RETURN_IF_ERROR(db->Exec("INSERT INTO fingerprints (video_id, hashes) VALUES (?, ?)",
                                  {c.video_id, c.fingerprint->hashes})
                             .status());
      // Many rows a statement: an hour of video has thousands.
      const auto& index = c.fingerprint->index;
      constexpr size_t kRows = 200;
      for (size_t at = 0; at < index.size(); at += kRows) {
        const size_t n = std::min(kRows, index.size() - at);
        std::string insert = "INSERT INTO fingerprint_index (band_key, video_id, win) VALUES ";
        SqlParams rows;
        for (size_t i = 0; i < n; ++i) {
          insert += i == 0 ? "(?, ?, ?)" : ", (?, ?, ?)";
          rows.emplace_back(index[at + i].first);
          rows.emplace_back(c.video_id);
          rows.emplace_back(int64_t{index[at + i].second});
        }
        VG_RETURN_IF_ERROR(db->Exec(insert, rows).status());
      }
    }
    if (c.checksums) {
      VG_RETURN_IF_ERROR(
          db->Exec("DELETE FROM checksums WHERE video_id = ?", {c.video_id}).status());
      for (const auto& f : *c.checksums) {
        VG_RETURN_IF_ERROR(db->Exec("INSERT INTO checksums (video_id, path, size, sha256) "
                                    "VALUES (?, ?, ?, ?)",
                                    {c.video_id, f.path, f.size, f.sha256})
                               .status());
      }
    }
    // Every change of state is in the log (the API's change feed).
    const std::string_view entered = c.state ? StateName(*c.state) : "";
    if (!c.log.empty() || c.state) {
      VG_RETURN_IF_ERROR(LogLocked(*db, c.video_id, c.now,
                                   c.log.empty() ? "now " + Str(entered) : c.log, entered));
    }
    for (const auto& e : c.events) VG_RETURN_IF_ERROR(EnqueueLocked(*db, c.video_id, e, c.now));
    return tx.Commit();
  }

  Result<std::optional<Claim>> ClaimNext(const std::string& owner, double now, double lease_seconds,
                                         int max_attempts) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    std::string pick =
        "SELECT video_id, lease_owner FROM jobs WHERE (lease_owner = '' AND available_at <= ?) "
        "OR (lease_owner <> '' AND lease_expires_at <= ?) ORDER BY available_at, video_id LIMIT 1";
    // An idle worker asks about once a second: a plain read answers "nothing"
    // without the write transaction a claim needs (SQLite's one writer lock;
    // on PostgreSQL one round trip instead of three).
    VG_ASSIGN_OR_RETURN(auto any, db->Query(pick, {now, now}));
    if (any.empty()) return std::optional<Claim>();
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    if (db->dialect() == internal::Dialect::kPostgres) pick += " FOR UPDATE SKIP LOCKED";
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(pick, {now, now}));
    if (rows.empty()) return std::optional<Claim>();
    int64_t id = rows[0].Int(0);
    Claim claim;
    claim.interrupted = !rows[0].Text(1).empty();
    if (claim.interrupted) {
      VG_RETURN_IF_ERROR(
          db->Exec("UPDATE attempts SET finished_at = ?, outcome = 'interrupted', error = ?, "
                   "retryable = 1 WHERE video_id = ? AND outcome = 'running'",
                   {now, "the worker " + rows[0].Text(1) + " stopped renewing its lease", id})
              .status());
      VG_RETURN_IF_ERROR(
          LogLocked(*db, id, now,
                    "lease of " + rows[0].Text(1) + " expired; attempt recorded as interrupted"));
    }
    VG_RETURN_IF_ERROR(
        db->Exec("UPDATE jobs SET lease_owner = ?, lease_expires_at = ? WHERE video_id = ?",
                 {owner, now + lease_seconds, id})
            .status());
    VG_ASSIGN_OR_RETURN(Video video, GetLocked(*db, id));
    if (video.attempts >= max_attempts) {
      claim.exhausted = true;
    } else {
      claim.attempt_number = video.attempts + 1;
      VG_RETURN_IF_ERROR(db->Exec("UPDATE videos SET attempts = ?, state = 'processing', "
                                  "updated_at = ? WHERE id = ?",
                                  {int64_t{claim.attempt_number}, now, id})
                             .status());
      VG_RETURN_IF_ERROR(
          db->Exec(
                "INSERT INTO attempts (video_id, number, worker, started_at) VALUES (?, ?, ?, ?)",
                {id, int64_t{claim.attempt_number}, owner, now})
              .status());
      VG_RETURN_IF_ERROR(LogLocked(
          *db, id, now, "attempt " + std::to_string(claim.attempt_number) + " started by " + owner,
          "processing"));
      // What the UPDATE above changed, without reading the row again.
      video.attempts = claim.attempt_number;
      video.state = State::kProcessing;
      video.updated_at = now;
    }
    claim.video = std::move(video);
    VG_RETURN_IF_ERROR(tx.Commit());
    return std::optional<Claim>(std::move(claim));
  }

  Status RenewLease(int64_t video_id, const std::string& owner, double until) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(int64_t n, db->Exec("UPDATE jobs SET lease_expires_at = ? WHERE "
                                            "video_id = ? AND lease_owner = ?",
                                            {until, video_id, owner}));
    if (n == 0) {
      return FailedPrecondition("video " + std::to_string(video_id) + ": lease lost by " + owner);
    }
    return Status();
  }

  Status RetryNow(int64_t video_id, double now) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    VG_ASSIGN_OR_RETURN(int64_t n, db->Exec("UPDATE jobs SET available_at = ? WHERE video_id = ? "
                                            "AND lease_owner = ''",
                                            {now, video_id}));
    if (n == 0) {
      return FailedPrecondition("video " + std::to_string(video_id) +
                                " has no attempt waiting (it is being processed, waits for its "
                                "metadata, or is finished)");
    }
    VG_RETURN_IF_ERROR(
        db->Exec("UPDATE videos SET state = 'queued', updated_at = ? WHERE id = ?", {now, video_id})
            .status());
    VG_RETURN_IF_ERROR(LogLocked(*db, video_id, now, "retry requested", "queued"));
    VG_RETURN_IF_ERROR(NotifyWorkLocked(*db));
    return tx.Commit();
  }

  Result<std::vector<Attempt>> Attempts(int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows,
                        db->Query("SELECT number, worker, started_at, finished_at, outcome, "
                                  "error, retryable FROM attempts WHERE video_id = ? ORDER BY "
                                  "number",
                                  {video_id}));
    std::vector<Attempt> out;
    for (const auto& r : rows) {
      out.push_back(Attempt{static_cast<int>(r.Int(0)), r.Text(1), r.Real(2), r.Real(3), r.Text(4),
                            r.Text(5), r.Int(6) != 0});
    }
    return out;
  }

  Result<std::vector<Output>> Outputs(int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows,
                        db->Query("SELECT key, size, codec, width, height, duration, sha256 "
                                  "FROM outputs WHERE video_id = ? ORDER BY id",
                                  {video_id}));
    std::vector<Output> out;
    for (const auto& r : rows) {
      out.push_back(Output{r.Text(0), r.Int(1), r.Text(2), static_cast<int>(r.Int(3)),
                           static_cast<int>(r.Int(4)), r.Real(5), r.Text(6)});
    }
    return out;
  }

  Result<std::vector<FileChecksum>> Checksums(int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT path, size, sha256 FROM checksums "
                                             "WHERE video_id = ?",
                                             {video_id}));
    std::vector<FileChecksum> out;
    for (const auto& r : rows) out.push_back(FileChecksum{r.Text(0), r.Int(1), r.Text(2)});
    // Byte order on every backend (PostgreSQL's ORDER BY follows its locale).
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return out;
  }

  Result<std::vector<FingerprintHit>> FingerprintHits(const std::vector<int64_t>& keys,
                                                      int64_t video_id, int limit) override {
    std::vector<FingerprintHit> hits;
    if (keys.empty() || limit <= 0) return hits;
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    // Two steps, each on its own index, so no planner walks the videos
    // first: the entries under the keys, then which of their videos count.
    constexpr size_t kChunk = 400;
    for (size_t at = 0; at < keys.size() && static_cast<int>(hits.size()) < limit; at += kChunk) {
      const size_t n = std::min(kChunk, keys.size() - at);
      std::string sql = "SELECT video_id, band_key, win FROM fingerprint_index WHERE band_key IN (";
      SqlParams p;
      for (size_t i = 0; i < n; ++i) {
        sql += i == 0 ? "?" : ", ?";
        p.emplace_back(keys[at + i]);
      }
      sql += ") LIMIT ?";
      p.emplace_back(int64_t{limit - static_cast<int>(hits.size())});
      VG_ASSIGN_OR_RETURN(auto rows, db->Query(sql, p));
      for (const auto& r : rows) {
        if (r.Int(0) == video_id) continue;
        hits.push_back(FingerprintHit{r.Int(0), r.Int(1), static_cast<int>(r.Int(2))});
      }
    }
    std::vector<int64_t> videos;
    for (const auto& h : hits) videos.push_back(h.video_id);
    std::sort(videos.begin(), videos.end());
    videos.erase(std::unique(videos.begin(), videos.end()), videos.end());
    std::vector<int64_t> filed;
    for (size_t at = 0; at < videos.size(); at += kChunk) {
      const size_t n = std::min(kChunk, videos.size() - at);
      std::string sql =
          "SELECT id FROM videos WHERE state IN ('processed', 'rejected', 'unable_to_process') "
          "AND location <> '' AND substr(current_key, 1, length(location) + 1) = location || '/' "
          "AND id IN (";
      SqlParams p;
      for (size_t i = 0; i < n; ++i) {
        sql += i == 0 ? "?" : ", ?";
        p.emplace_back(videos[at + i]);
      }
      sql += ")";
      VG_ASSIGN_OR_RETURN(auto rows, db->Query(sql, p));
      for (const auto& r : rows) filed.push_back(r.Int(0));
    }
    std::sort(filed.begin(), filed.end());
    std::erase_if(hits, [&](const FingerprintHit& h) {
      return !std::binary_search(filed.begin(), filed.end(), h.video_id);
    });
    return hits;
  }

  Result<std::string> FingerprintOf(int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        auto rows, db->Query("SELECT hashes FROM fingerprints WHERE video_id = ?", {video_id}));
    return rows.empty() ? std::string() : rows[0].Text(0);
  }

  Result<std::vector<Video>> FiledWithSha256(std::string_view sha256, int64_t video_id) override {
    if (sha256.empty()) return std::vector<Video>{};
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        auto rows,
        db->Query(std::string("SELECT ") + kVideoListColumns +
                      " WHERE v.sha256 = ? AND v.sha256 <> '' AND v.id <> ? AND v.state IN "
                      "('processed', "
                      "'rejected', 'unable_to_process') AND v.location <> '' AND "
                      "substr(v.current_key, 1, length(v.location) + 1) = v.location || '/' "
                      "ORDER BY v.id",
                  {Str(sha256), video_id}));
    std::vector<Video> out;
    for (const auto& r : rows) out.push_back(VideoFromRow(r));
    return out;
  }

  Result<std::vector<NotificationRecord>> Notifications(int64_t video_id) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        auto rows,
        db->Query("SELECT o.event_id, o.type, d.sink, o.created_at, d.delivered_at, d.attempts, "
                  "d.gave_up, d.last_error FROM outbox o JOIN deliveries d ON d.outbox_id = o.id "
                  "WHERE o.video_id = ? ORDER BY o.id, d.id",
                  {video_id}));
    std::vector<NotificationRecord> out;
    for (const auto& r : rows) {
      out.push_back(NotificationRecord{r.Text(0), r.Text(1), r.Text(2), r.Real(3), r.Real(4),
                                       static_cast<int>(r.Int(5)), r.Int(6) != 0, r.Text(7)});
    }
    return out;
  }

  Result<std::vector<Delivery>> TakeDueDeliveries(double now, int limit, double hold_seconds,
                                                  const std::string& sink) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    const std::string for_sink = sink.empty() ? "" : " AND sink = ?";
    SqlParams params{now};
    if (!sink.empty()) params.emplace_back(sink);
    // Most calls find nothing due: a plain read says so without the write
    // transaction that taking them needs (SQLite's one writer lock; on
    // PostgreSQL one round trip instead of three).
    VG_ASSIGN_OR_RETURN(auto any,
                        db->Query("SELECT 1 FROM deliveries WHERE delivered_at = 0 AND gave_up = 0 "
                                  "AND next_attempt_at <= ?" +
                                      for_sink + " LIMIT 1",
                                  params));
    if (any.empty()) return std::vector<Delivery>();
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    std::string sql =
        "SELECT d.id, d.sink, d.attempts, o.document FROM deliveries d JOIN outbox o ON o.id = "
        "d.outbox_id WHERE d.delivered_at = 0 AND d.gave_up = 0 AND d.next_attempt_at <= ?" +
        (sink.empty() ? std::string() : " AND d.sink = ?") + " ORDER BY d.id LIMIT ?";
    if (db->dialect() == internal::Dialect::kPostgres) sql += " FOR UPDATE OF d SKIP LOCKED";
    params.emplace_back(int64_t{limit});
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(sql, params));
    std::vector<Delivery> out;
    for (const auto& r : rows) {
      VG_RETURN_IF_ERROR(db->Exec("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?",
                                  {now + hold_seconds, r.Int(0)})
                             .status());
      out.push_back(Delivery{r.Int(0), r.Text(1), static_cast<int>(r.Int(2)),
                             nlohmann::json::parse(r.Text(3), nullptr, false)});
    }
    VG_RETURN_IF_ERROR(tx.Commit());
    return out;
  }

  Status MarkDelivered(int64_t delivery_id, double now) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return db
        ->Exec(
            "UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1, "
            "last_error = '' WHERE id = ?",
            {now, delivery_id})
        .status();
  }

  Status MarkDeliveryFailed(int64_t delivery_id, double next_at, const std::string& error,
                            bool give_up) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return db
        ->Exec(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, "
            "last_error = ?, gave_up = ? WHERE id = ?",
            {next_at, error, int64_t{give_up ? 1 : 0}, delivery_id})
        .status();
  }

  Result<int> MarkSinkFailed(const std::string& sink, double now, double next_at,
                             const std::string& error, int max_attempts) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        int64_t marked,
        db->Exec("UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, "
                 "last_error = ?, gave_up = CASE WHEN attempts + 1 >= ? THEN 1 ELSE 0 END "
                 "WHERE sink = ? AND delivered_at = 0 AND gave_up = 0 AND next_attempt_at <= ?",
                 {next_at, error, int64_t{max_attempts}, sink, now}));
    return static_cast<int>(marked);
  }

  Result<int> GiveUpUnknownSinks(const std::vector<std::string>& sinks,
                                 const std::string& error) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    std::string sql =
        "UPDATE deliveries SET gave_up = 1, last_error = ? WHERE delivered_at = 0 AND gave_up = 0";
    SqlParams params{error};
    if (!sinks.empty()) {
      sql += " AND sink NOT IN (";
      for (size_t i = 0; i < sinks.size(); ++i) {
        sql += i == 0 ? "?" : ", ?";
        params.emplace_back(sinks[i]);
      }
      sql += ")";
    }
    VG_ASSIGN_OR_RETURN(int64_t given_up, db->Exec(sql, params));
    return static_cast<int>(given_up);
  }

  Status DeferDelivery(int64_t delivery_id, double at) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    return db->Exec("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?", {at, delivery_id})
        .status();
  }

  Result<Pending> PendingWork() override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Pending p;
    VG_ASSIGN_OR_RETURN(
        auto jobs, db->Query("SELECT COUNT(*), MIN(available_at), MIN(CASE WHEN lease_owner = '' "
                             "THEN available_at ELSE lease_expires_at END) FROM jobs"));
    p.jobs = jobs[0].Int(0);
    if (!jobs[0].IsNull(1)) p.next_due = jobs[0].Real(1);
    if (!jobs[0].IsNull(2)) p.next_claimable = jobs[0].Real(2);
    VG_ASSIGN_OR_RETURN(auto dels,
                        db->Query("SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries WHERE "
                                  "delivered_at = 0 AND gave_up = 0"));
    p.deliveries = dels[0].Int(0);
    if (!dels[0].IsNull(1)) {
      double d = dels[0].Real(1);
      p.next_due = p.next_due ? std::min(*p.next_due, d) : d;
    }
    VG_ASSIGN_OR_RETURN(auto awaiting,
                        db->Query("SELECT COUNT(*) FROM videos WHERE state = "
                                  "'awaiting_metadata' AND metadata_notice_sent = 0"));
    p.awaiting_notice = awaiting[0].Int(0);
    return p;
  }

  Result<FleetStats> Stats(double now, double window_seconds) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    FleetStats f;
    f.window_seconds = window_seconds;
    const double since = now - window_seconds;
    VG_ASSIGN_OR_RETURN(auto states,
                        db->Query("SELECT state, COUNT(*) FROM videos GROUP BY state"));
    for (State s : kAllStates) {
      int64_t n = 0;
      for (const auto& r : states) {
        if (r.Text(0) == StateName(s)) n = r.Int(1);
      }
      f.videos.emplace_back(s, n);
    }
    // Due and free to claim (never leased, or the lease ran out).
    VG_ASSIGN_OR_RETURN(auto due, db->Query("SELECT MIN(available_at) FROM jobs WHERE "
                                            "available_at <= ? AND (lease_owner = '' OR "
                                            "lease_expires_at <= ?)",
                                            {now, now}));
    if (!due[0].IsNull(0)) f.oldest_queued_seconds = std::max(0.0, now - due[0].Real(0));
    VG_ASSIGN_OR_RETURN(auto busy, db->Query("SELECT COUNT(*) FROM jobs WHERE lease_owner <> '' "
                                             "AND lease_expires_at > ?",
                                             {now}));
    f.workers_busy = busy[0].Int(0);
    VG_ASSIGN_OR_RETURN(auto backlog, db->Query("SELECT COUNT(*) FROM deliveries WHERE "
                                                "delivered_at = 0 AND gave_up = 0"));
    f.outbox_backlog = backlog[0].Int(0);
    VG_ASSIGN_OR_RETURN(
        auto attempts,
        db->Query(
            "SELECT outcome, COUNT(*) FROM attempts WHERE finished_at > 0 AND finished_at > ? "
            "AND finished_at <= ? GROUP BY outcome",
            {since, now}));
    for (const auto& r : attempts) f.attempts[r.Text(0)] = r.Int(1);
    VG_ASSIGN_OR_RETURN(auto events,
                        db->Query("SELECT type, COUNT(*) FROM outbox WHERE created_at > ? AND "
                                  "created_at <= ? GROUP BY type",
                                  {since, now}));
    for (const auto& r : events) f.events[r.Text(0)] = r.Int(1);
    return f;
  }

  Result<std::vector<LogEntry>> LogAfter(int64_t after, int limit) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        auto rows,
        db->Query("SELECT l.id, COALESCE(l.video_id, 0), COALESCE(v.name, ''), l.state, l.at, "
                  "l.message FROM event_log l LEFT JOIN videos v ON v.id = l.video_id WHERE "
                  "l.id > ? ORDER BY l.id LIMIT ?",
                  {after, int64_t{std::max(1, limit)}}));
    std::vector<LogEntry> out;
    for (const auto& r : rows) {
      out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Real(4), r.Text(5)});
    }
    return out;
  }

  Result<std::vector<RecordedEvent>> EventsAfter(int64_t after, int limit) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(
        auto rows, db->Query("SELECT id, document FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                             {after, int64_t{std::max(1, limit)}}));
    std::vector<RecordedEvent> out;
    for (const auto& r : rows) out.push_back({r.Int(0), ParseJsonColumn(r, 1)});
    return out;
  }

  Result<std::pair<int64_t, int64_t>> FeedHead() override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT (SELECT COALESCE(MAX(id), 0) FROM event_log), "
                                             "(SELECT COALESCE(MAX(id), 0) FROM outbox)"));
    return std::make_pair(rows[0].Int(0), rows[0].Int(1));
  }

  Result<bool> RecordNotice(const std::string& key, const std::string& fingerprint,
                            const OutboxEvent& event, double now) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    const std::string current = "SELECT fingerprint FROM notices WHERE key = ?";
    // Intake asks on every scan about every orphan it still sees: a plain
    // read answers "noticed already" without the write transaction.
    VG_ASSIGN_OR_RETURN(auto seen, db->Query(current, {key}));
    if (!seen.empty() && seen[0].Text(0) == fingerprint) return false;
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    VG_ASSIGN_OR_RETURN(auto rows, db->Query(current, {key}));
    if (!rows.empty() && rows[0].Text(0) == fingerprint) return false;
    VG_RETURN_IF_ERROR(db->Exec("DELETE FROM notices WHERE key = ?", {key}).status());
    VG_RETURN_IF_ERROR(db->Exec("INSERT INTO notices (key, fingerprint, at) VALUES (?, ?, ?)",
                                {key, fingerprint, now})
                           .status());
    VG_RETURN_IF_ERROR(EnqueueLocked(*db, 0, event, now));
    VG_RETURN_IF_ERROR(tx.Commit());
    return true;
  }

  Result<bool> SetAlarm(const std::string& name, bool firing, double value,
                        const nlohmann::json& detail, const OutboxEvent& event,
                        double now) override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    Transaction tx(*db);
    VG_RETURN_IF_ERROR(tx.Begin());
    const std::string text = detail.dump();
    // The change is conditional on the row's state, so of several processes
    // that see it at once (PostgreSQL makes the later ones wait for the
    // first's row lock, then re-check), exactly one changes a row.
    int64_t changed = 0;
    if (firing) {
      VG_ASSIGN_OR_RETURN(
          changed,
          db->Exec("INSERT INTO alarms (name, firing, since, checked_at, value, detail) VALUES "
                   "(?, 1, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET firing = 1, since = "
                   "excluded.since, checked_at = excluded.checked_at, value = excluded.value, "
                   "detail = excluded.detail WHERE alarms.firing = 0",
                   {name, now, now, value, text}));
    } else {
      VG_ASSIGN_OR_RETURN(changed,
                          db->Exec("UPDATE alarms SET firing = 0, since = ?, checked_at = "
                                   "?, value = ?, detail = ? WHERE name = ? AND firing = 1",
                                   {now, now, value, text, name}));
    }
    if (changed == 0) {
      // Still so: the figure, the check and the rule as it is now (a
      // severity changed while it fires shows).
      VG_RETURN_IF_ERROR(db->Exec("UPDATE alarms SET checked_at = ?, value = ?, detail = ? WHERE "
                                  "name = ?",
                                  {now, value, text, name})
                             .status());
    } else {
      VG_RETURN_IF_ERROR(EnqueueLocked(*db, 0, event, now));
    }
    VG_RETURN_IF_ERROR(tx.Commit());
    return changed > 0;
  }

  Result<std::vector<AlarmRecord>> Alarms() override {
    auto db = Acquire();
    VG_RETURN_IF_ERROR(db.status());
    VG_ASSIGN_OR_RETURN(auto rows,
                        db->Query("SELECT name, firing, since, checked_at, value, detail "
                                  "FROM alarms ORDER BY name"));
    std::vector<AlarmRecord> out;
    for (const auto& r : rows) {
      out.push_back(
          {r.Text(0), r.Int(1) != 0, r.Real(2), r.Real(3), r.Real(4), ParseJsonColumn(r, 5)});
    }
    return out;
  }

 private:
  Result<int> VersionLocked(SqlConnection& db) {
    VG_ASSIGN_OR_RETURN(auto exists,
                        db.Query(db.dialect() == internal::Dialect::kSqlite
                                     ? "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                                       "'schema_migrations'"
                                     : "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                       "table_name = 'schema_migrations' AND table_schema = "
                                       "current_schema()"));
    if (exists[0].Int(0) == 0) return 0;
    VG_ASSIGN_OR_RETURN(auto rows,
                        db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    return static_cast<int>(rows[0].Int(0));
  }

  // Other videos' folders equal to `folder`, inside it or holding it.
  Result<std::vector<std::string>> ClashesLocked(SqlConnection& db, std::string_view folder,
                                                 int64_t video_id) {
    // The folder itself, the folders it lies in (each of its ancestors), and
    // those inside it (the byte range from "F/" up to "F0", '0' following
    // '/'): every condition one the location index answers, so filing does
    // not read every video (it did: 100 000 videos made each filing slow).
    const std::string f(folder);
    const bool postgres = db.dialect() == internal::Dialect::kPostgres;
    // PostgreSQL compares text by its locale unless told; bytes here.
    const std::string column = postgres ? "location COLLATE \"C\"" : "location";
    std::string sql = "SELECT location FROM videos WHERE id <> ? AND location <> '' AND (" +
                      column + " = ? OR (" + column + " >= ? AND " + column + " < ?)";
    SqlParams p{video_id, f, f + "/", f + "0"};
    for (size_t slash = f.find('/'); slash != std::string::npos; slash = f.find('/', slash + 1)) {
      sql += " OR " + column + " = ?";
      p.emplace_back(f.substr(0, slash));
    }
    sql += ")";
    VG_ASSIGN_OR_RETURN(auto rows, db.Query(sql, p));
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.Text(0));
    std::sort(out.begin(), out.end());  // bytewise, whatever the database's collation
    return out;
  }

  Result<Video> GetLocked(SqlConnection& db, int64_t id) {
    VG_ASSIGN_OR_RETURN(auto rows,
                        db.Query(std::string("SELECT ") + kVideoColumns + " WHERE v.id = ?", {id}));
    if (rows.empty()) return NotFound("no video with id " + std::to_string(id));
    return VideoFromRow(rows[0]);
  }

  Status LogLocked(SqlConnection& db, int64_t video_id, double now, const std::string& message,
                   std::string_view state = "") {
    return db
        .Exec("INSERT INTO event_log (video_id, at, message, state) VALUES (?, ?, ?, ?)",
              {video_id, now, message, Str(state)})
        .status();
  }

  Status EnqueueLocked(SqlConnection& db, int64_t video_id, const OutboxEvent& e, double now) {
    SqlParams vid = video_id > 0 ? SqlParams{video_id} : SqlParams{nullptr};
    VG_ASSIGN_OR_RETURN(
        auto rows,
        db.Query("INSERT INTO outbox (event_id, video_id, type, document, "
                 "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                 {e.id, vid[0], e.type,
                  e.document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), now}));
    int64_t outbox_id = rows.at(0).Int(0);
    for (const auto& sink : e.sinks) {
      VG_RETURN_IF_ERROR(db.Exec("INSERT INTO deliveries (outbox_id, sink, next_attempt_at) "
                                 "VALUES (?, ?, ?)",
                                 {outbox_id, sink, now})
                             .status());
    }
    return Status();
  }

  // Tells listening processes that a job is due now (PostgreSQL; delivered
  // at commit, so only for work that really was queued).
  Status NotifyWorkLocked(SqlConnection& db) {
    if (db.dialect() != internal::Dialect::kPostgres) return Status();
    return db.Query(std::string("SELECT pg_notify('") + kWorkChannel + "', '')").status();
  }

  // A connection checked out of the pool for one call; returned on
  // destruction. Each thread works on its own connection, so PostgreSQL
  // serves several workers at once and SQLite lets readers run beside a
  // writer (WAL).
  class PooledConnection {
   public:
    PooledConnection(SqlCatalog* owner, std::unique_ptr<SqlConnection> conn, Status status)
        : owner_(owner), conn_(std::move(conn)), status_(std::move(status)) {}
    PooledConnection(PooledConnection&&) = default;
    PooledConnection(const PooledConnection&) = delete;
    PooledConnection& operator=(const PooledConnection&) = delete;
    ~PooledConnection() {
      if (conn_) owner_->Release(std::move(conn_));
    }
    const Status& status() const { return status_; }
    SqlConnection* operator->() { return conn_.get(); }
    SqlConnection& operator*() { return *conn_; }

   private:
    SqlCatalog* owner_;
    std::unique_ptr<SqlConnection> conn_;
    Status status_;
  };

  PooledConnection Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return PooledConnection(this, std::move(conn), Status());
      }
    }
    auto conn = connect_();
    if (!conn.ok()) return PooledConnection(this, nullptr, conn.status());
    return PooledConnection(this, std::move(conn).value(), Status());
  }

  void Release(std::unique_ptr<SqlConnection> conn) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
  }

  static constexpr size_t kMaxIdleConnections = 16;
  const internal::Dialect dialect_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;  // guarded by mu_
  std::string url_;
  Connector connect_;
  TestHook hook_;                            // called at named points; empty outside tests
  std::unique_ptr<SqlConnection> listener_;  // WaitForWork's own connection
};

}  // namespace

std::string RedactUrl(const std::string& url) { return internal::RedactUrl(url); }

Result<Video> FindVideo(Catalog& catalog, std::string_view ref) {
  auto parse_id = [](std::string_view digits) -> std::optional<int64_t> {
    if (digits.empty() || digits.size() > 18 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    return std::stoll(std::string(digits));
  };
  if (ref.starts_with("id:")) {
    auto id = parse_id(ref.substr(3));
    if (!id) return InvalidArgument("'" + Str(ref) + "': an id is a number, as in id:12");
    return catalog.GetVideo(*id);
  }
  if (ref.starts_with("name:")) return catalog.FindVideoByName(ref.substr(5));
  auto by_name = catalog.FindVideoByName(ref);
  auto id = parse_id(ref);
  if (!id) return by_name;
  auto by_id = catalog.GetVideo(*id);
  if (by_id.status().code() == Code::kNotFound) return by_name;
  if (by_name.status().code() == Code::kNotFound) return by_id;
  VG_RETURN_IF_ERROR(by_name.status());
  VG_RETURN_IF_ERROR(by_id.status());
  if (by_id->id == by_name->id) return by_id;
  return InvalidArgument("'" + Str(ref) + "' is both the id of the video named '" + by_id->name +
                         "' and the name of video " + std::to_string(by_name->id) +
                         "; say id:" + Str(ref) + " or name:" + Str(ref));
}

Result<std::unique_ptr<Catalog>> Open(std::string_view url, const std::string& password,
                                      TestHook test_hook) {
  if (url.starts_with("sqlite://")) {
    std::string path(url.substr(9));
    if (path.empty()) return InvalidArgument("database.url '" + std::string(url) + "' has no path");
    VG_ASSIGN_OR_RETURN(auto conn, internal::OpenSqlite(path));
    return std::unique_ptr<Catalog>(std::make_unique<SqlCatalog>(
        std::move(conn), std::string(url), [path] { return internal::OpenSqlite(path); },
        std::move(test_hook)));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    std::string full(url);
    VG_ASSIGN_OR_RETURN(auto conn, internal::OpenPostgres(full, password));
    return std::unique_ptr<Catalog>(std::make_unique<SqlCatalog>(
        std::move(conn), internal::RedactUrl(full),
        [full, password] { return internal::OpenPostgres(full, password); }, std::move(test_hook)));
  }
  return InvalidArgument("database.url '" + internal::RedactUrl(std::string(url)) +
                         "' has an unknown scheme (expected sqlite:// or postgresql://)");
}

}  // namespace vidgate::catalog
