#include "catalog/migrations.h"

namespace vidgate::catalog::internal {
namespace {

constexpr const char* kV1 = R"sql(
CREATE TABLE videos (
  id {ID},
  name TEXT NOT NULL,
  source_key TEXT NOT NULL,
  current_key TEXT NOT NULL,
  sidecar_key TEXT NOT NULL DEFAULT '',
  pending_key TEXT NOT NULL DEFAULT '',
  pending_sidecar_key TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  metadata TEXT,
  probe TEXT,
  qc TEXT,
  location TEXT NOT NULL DEFAULT '',
  sidecar_fingerprint TEXT NOT NULL DEFAULT '',
  metadata_notice_sent INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at {REAL} NOT NULL,
  updated_at {REAL} NOT NULL
);
CREATE UNIQUE INDEX videos_active_key ON videos (current_key)
  WHERE state NOT IN ('processed', 'rejected', 'unable_to_process');
CREATE UNIQUE INDEX videos_location ON videos (location) WHERE location <> '';
CREATE INDEX videos_name ON videos (name);
CREATE INDEX videos_state ON videos (state);
CREATE TABLE jobs (
  video_id BIGINT PRIMARY KEY REFERENCES videos (id),
  available_at {REAL} NOT NULL,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at {REAL} NOT NULL DEFAULT 0
);
CREATE INDEX jobs_due ON jobs (available_at);
CREATE TABLE attempts (
  id {ID},
  video_id BIGINT NOT NULL REFERENCES videos (id),
  number INTEGER NOT NULL,
  worker TEXT NOT NULL,
  started_at {REAL} NOT NULL,
  finished_at {REAL} NOT NULL DEFAULT 0,
  outcome TEXT NOT NULL DEFAULT 'running',
  error TEXT NOT NULL DEFAULT '',
  retryable INTEGER NOT NULL DEFAULT 0,
  UNIQUE (video_id, number)
);
CREATE TABLE outputs (
  id {ID},
  video_id BIGINT NOT NULL REFERENCES videos (id),
  key TEXT NOT NULL,
  size BIGINT NOT NULL,
  codec TEXT NOT NULL DEFAULT '',
  width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  duration {REAL} NOT NULL DEFAULT 0
);
CREATE INDEX outputs_video ON outputs (video_id);
CREATE TABLE outbox (
  id {ID},
  event_id TEXT NOT NULL UNIQUE,
  video_id BIGINT,
  type TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at {REAL} NOT NULL
);
CREATE INDEX outbox_video ON outbox (video_id);
CREATE TABLE deliveries (
  id {ID},
  outbox_id BIGINT NOT NULL REFERENCES outbox (id),
  sink TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at {REAL} NOT NULL,
  delivered_at {REAL} NOT NULL DEFAULT 0,
  gave_up INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_due ON deliveries (delivered_at, gave_up, next_attempt_at);
CREATE TABLE notices (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  at {REAL} NOT NULL
);
CREATE TABLE event_log (
  id {ID},
  video_id BIGINT,
  at {REAL} NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX event_log_video ON event_log (video_id);
)sql";

// The API's stats and the alarms read the last hour of attempts and events;
// its change feed says which state each line of the log entered.
constexpr const char* kV2 = R"sql(
CREATE INDEX attempts_finished ON attempts (finished_at);
CREATE INDEX outbox_created ON outbox (created_at);
ALTER TABLE event_log ADD COLUMN state TEXT NOT NULL DEFAULT '';
)sql";

// The alarms' state, shared by the fleet: one row per rule that ever fired,
// so that only one process sends each change (see Catalog::SetAlarm).
constexpr const char* kV3 = R"sql(
CREATE TABLE alarms (
  name TEXT PRIMARY KEY,
  firing INTEGER NOT NULL,
  since {REAL} NOT NULL,
  checked_at {REAL} NOT NULL,
  value {REAL} NOT NULL,
  detail TEXT NOT NULL
);
)sql";

// A digest of the documents for lists (the API's and the dashboard's), so
// a page of videos reads no document. Rows filed before it show none.
constexpr const char* kV4 = R"sql(
ALTER TABLE videos ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE videos ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE videos ADD COLUMN duration {REAL} NOT NULL DEFAULT 0;
)sql";

// Fixity and exact duplicates: the original's SHA-256 (indexed, to find
// the same bytes filed before), each output's, and every filed file's.
constexpr const char* kV5 = R"sql(
ALTER TABLE videos ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
CREATE INDEX videos_sha256 ON videos (sha256) WHERE sha256 <> '';
ALTER TABLE outputs ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
CREATE TABLE checksums (
  video_id BIGINT NOT NULL REFERENCES videos (id),
  path TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (video_id, path)
);
)sql";

// Near duplicates: each decoded video's perceptual fingerprint, and an
// index of its hashes' bands so that a new video finds the footage it
// shares among many without reading every fingerprint.
constexpr const char* kV6 = R"sql(
CREATE TABLE fingerprints (
  video_id BIGINT PRIMARY KEY REFERENCES videos (id),
  hashes TEXT NOT NULL
);
CREATE TABLE fingerprint_index (
  band_key BIGINT NOT NULL,
  video_id BIGINT NOT NULL REFERENCES videos (id),
  win INTEGER NOT NULL
);
CREATE INDEX fingerprint_index_key ON fingerprint_index (band_key);
CREATE INDEX fingerprint_index_video ON fingerprint_index (video_id);
)sql";

// Folder clashes are looked up by byte ranges of location (see
// ClashesLocked): PostgreSQL needs an index that compares bytes for that;
// SQLite's index on location already does.
constexpr const char* kV7 = R"sql(
{LOCATION_BYTES_INDEX}
)sql";

std::string Substitute(std::string sql, Dialect dialect) {
  auto replace_all = [&sql](const std::string& from, const std::string& to) {
    for (size_t pos = sql.find(from); pos != std::string::npos;
         pos = sql.find(from, pos + to.size())) {
      sql.replace(pos, from.size(), to);
    }
  };
  if (dialect == Dialect::kSqlite) {
    replace_all("{ID}", "INTEGER PRIMARY KEY");
    replace_all("{REAL}", "REAL");
    replace_all("{LOCATION_BYTES_INDEX}", "-- nothing on SQLite");
  } else {
    replace_all("{ID}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    replace_all("{REAL}", "DOUBLE PRECISION");
    replace_all("{LOCATION_BYTES_INDEX}",
                "CREATE INDEX videos_location_bytes ON videos (location COLLATE \"C\") "
                "WHERE location <> '';");
  }
  return sql;
}

}  // namespace

std::vector<Migration> Migrations(Dialect dialect) {
  return {{1, Substitute(kV1, dialect)}, {2, Substitute(kV2, dialect)},
          {3, Substitute(kV3, dialect)}, {4, Substitute(kV4, dialect)},
          {5, Substitute(kV5, dialect)}, {6, Substitute(kV6, dialect)},
          {7, Substitute(kV7, dialect)}};
}

}  // namespace vidgate::catalog::internal
