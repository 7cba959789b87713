#include "catalog/internal/sqlite_connection.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

namespace vidgate::catalog::internal {

int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (auto* p = std::get_if<int64_t>(&v)) return *p;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return s->empty() ? 0 : std::stoll(*s);
  return 0;
}

double SqlRow::Real(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto* s = std::get_if<std::string>(&v)) return s->empty() ? 0 : std::stod(*s);
  return 0;
}

std::string SqlRow::Text(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "";
}

namespace {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

Status SqliteStatus(int rc, sqlite3* db, std::string_view what, const char* detail = nullptr) {
  std::string msg = std::string(what) + ": " +
                    (detail ? detail
                     : db   ? sqlite3_errmsg(db)
                            : sqlite3_errstr(rc));
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT:
      return AlreadyExists(msg);
    case SQLITE_FULL:
      return ResourceExhausted(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDenied(msg);
    case SQLITE_CANTOPEN:
      return Unavailable(msg);
    case SQLITE_INTERRUPT:
      return Cancelled(msg);
    default:
      return Unavailable(msg);  // BUSY, LOCKED, IOERR, CORRUPT...: operator or time fixes it
  }
}

bool IsBusy(int rc) { return (rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED; }

// SQLite answers "busy" without calling its busy handler in a few cases
// (another process switching a new file to WAL, WAL recovery); a statement
// that got "busy" did nothing, so it is run again after a short pause, for
// up to about ten seconds.
void BusyPause(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 + attempt * 5, 100)));
}
constexpr int kBusyRetries = 150;

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<int64_t> Exec(std::string_view sql, const SqlParams& params) override {
    VG_ASSIGN_OR_RETURN(Prepared stmt, Prepare(sql, params));
    int rc = 0;
    for (int attempt = 0;; ++attempt) {
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      }
      if (!IsBusy(rc) || attempt >= kBusyRetries) break;
      sqlite3_reset(stmt.get());
      BusyPause(attempt);
    }
    if (rc != SQLITE_DONE) return SqliteStatus(rc, db_.get(), Where());
    return static_cast<int64_t>(sqlite3_changes(db_.get()));
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    int rc = 0;
    for (int attempt = 0;; ++attempt) {
      rc = sqlite3_exec(db_.get(), std::string(sql).c_str(), nullptr, nullptr, &err);
      if (!IsBusy(rc) || attempt >= kBusyRetries) break;
      sqlite3_free(err);
      err = nullptr;
      BusyPause(attempt);
    }
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return SqliteStatus(rc, nullptr, Where(), msg.c_str());
    }
    return Status();
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const SqlParams& params) override {
    VG_ASSIGN_OR_RETURN(Prepared stmt, Prepare(sql, params));
    std::vector<SqlRow> rows;
    int rc = 0;
    for (int attempt = 0; attempt < kBusyRetries; ++attempt) {
      rc = sqlite3_step(stmt.get());
      if (!IsBusy(rc)) break;
      sqlite3_reset(stmt.get());
      BusyPause(attempt);
    }
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt.get())) {
      int n = sqlite3_column_count(stmt.get());
      std::vector<SqlValue> values;
      values.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt.get(), i)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt.get(), i)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt.get(), i));
            break;
          case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), i));
            int len = sqlite3_column_bytes(stmt.get(), i);
            values.emplace_back(std::string(text ? text : "", static_cast<size_t>(len)));
          }
        }
      }
      rows.emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) return SqliteStatus(rc, db_.get(), Where());
    return rows;
  }

  Status Begin() override { return Exec("BEGIN IMMEDIATE", {}).status(); }
  Status Commit() override { return Exec("COMMIT", {}).status(); }
  Status Rollback() override { return Exec("ROLLBACK", {}).status(); }

 private:
  std::string Where() const { return "catalog '" + path_ + "'"; }

  // A statement borrowed from the cache, reset when the borrower is done so
  // that it holds no read transaction open.
  class Prepared {
   public:
    explicit Prepared(sqlite3_stmt* stmt) : stmt_(stmt) {}
    Prepared(Prepared&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;
    Prepared& operator=(Prepared&&) = delete;
    ~Prepared() {
      if (stmt_ != nullptr) sqlite3_reset(stmt_);
    }
    sqlite3_stmt* get() const { return stmt_; }

   private:
    sqlite3_stmt* stmt_;
  };

  // Statements stay prepared, keyed by their text: the catalog runs the same
  // few dozen again and again, and parsing them was most of an idle poll's
  // cost.
  Result<Prepared> Prepare(std::string_view sql, const SqlParams& params) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc =
          sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
      StmtPtr owned(raw);
      if (rc != SQLITE_OK) return SqliteStatus(rc, db_.get(), Where());
      if (statements_.size() >= kMaxCachedStatements) statements_.clear();
      it = statements_.emplace(std::string(sql), std::move(owned)).first;
    }
    Prepared stmt(it->second.get());
    sqlite3_clear_bindings(stmt.get());
    int rc = SQLITE_OK;
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      if (auto* p = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt.get(), idx, *p);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt.get(), idx, *d);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt.get(), idx, s->data(), static_cast<int>(s->size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt.get(), idx);
      }
      if (rc != SQLITE_OK) return SqliteStatus(rc, db_.get(), Where());
    }
    return stmt;
  }

  static constexpr size_t kMaxCachedStatements = 128;

  DbPtr db_;
  std::string path_;
  // Declared after db_: the statements are finalized before it closes.
  std::map<std::string, StmtPtr, std::less<>> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder for the catalog", parent.string());
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db.get(), "cannot open catalog '" + path + "'");
  sqlite3_busy_timeout(db.get(), 10000);
  auto conn = std::make_unique<SqliteConnection>(std::move(db), path);
  VG_RETURN_IF_ERROR(
      conn->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                       "PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace vidgate::catalog::internal
