// sql.h: the narrow SQL seam under catalog::SqlCatalog. One implementation
// per database (SQLite now, PostgreSQL next); the catalog's queries are
// written once, with '?' placeholders, in the subset both dialects share
// (RETURNING, ON CONFLICT DO NOTHING, partial unique indexes).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "common/status.h"

namespace vidgate::catalog::internal {

using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  bool IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(values_.at(i)); }
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;

 private:
  std::vector<SqlValue> values_;
};

enum class Dialect { kSqlite, kPostgres };

// One connection. Not thread-safe: SqlCatalog serialises calls.
class SqlConnection {
 public:
  SqlConnection() = default;
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;
  virtual ~SqlConnection() = default;

  virtual Dialect dialect() const = 0;
  // Runs one statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view sql, const SqlParams& params = {}) = 0;
  // Runs several statements separated by ';' (migrations), no parameters.
  virtual Status ExecScript(std::string_view sql) = 0;
  // Runs one statement and returns its rows.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql, const SqlParams& params = {}) = 0;
  // Starts a transaction that will write (SQLite: BEGIN IMMEDIATE, so two
  // writers never deadlock on lock upgrade).
  virtual Status Begin() = 0;
  // PostgreSQL LISTEN/NOTIFY; other backends have no notifications: Listen
  // does nothing and WaitForNotification sleeps for the timeout, then false.
  virtual Status Listen(const std::string& channel) {
    (void)channel;
    return Status();
  }
  // True when a notification arrived within `timeout_seconds`.
  virtual Result<bool> WaitForNotification(double timeout_seconds);
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
};

inline Result<bool> SqlConnection::WaitForNotification(double timeout_seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(timeout_seconds));
  return false;
}

// Rolls back unless Commit() was called.
class Transaction {
 public:
  explicit Transaction(SqlConnection& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) db_.Rollback().IgnoreError();
  }
  Status Begin() {
    VG_RETURN_IF_ERROR(db_.Begin());
    open_ = true;
    return Status();
  }
  Status Commit() {
    open_ = false;
    return db_.Commit();
  }

 private:
  SqlConnection& db_;
  bool open_ = false;
};

}  // namespace vidgate::catalog::internal
