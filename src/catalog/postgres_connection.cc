#include "catalog/internal/postgres_connection.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/secrets.h"

namespace vidgate::catalog::internal {
namespace {

struct ConnFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnFinish>;
using PgResultPtr = std::unique_ptr<PGresult, ResultClear>;

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

// Maps an SQLSTATE to our codes (PostgreSQL manual, appendix A).
Code CodeForSqlState(std::string_view state) {
  if (state == "23505") return Code::kAlreadyExists;             // unique_violation
  if (state.starts_with("08")) return Code::kUnavailable;        // connection exception
  if (state.starts_with("53")) return Code::kResourceExhausted;  // insufficient resources
  if (state == "42501") return Code::kPermissionDenied;          // insufficient_privilege
  if (state == "57014") return Code::kCancelled;                 // query_canceled
  if (state.starts_with("40")) return Code::kUnavailable;        // serialization, deadlock
  if (state.starts_with("57P")) return Code::kUnavailable;       // admin/crash shutdown
  if (state.starts_with("42")) return Code::kInternal;           // a bug in our SQL
  return Code::kUnavailable;
}

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(ConnPtr conn, std::string url)
      : conn_(std::move(conn)), url_(std::move(url)) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<int64_t> Exec(std::string_view sql, const SqlParams& params) override {
    VG_ASSIGN_OR_RETURN(PgResultPtr res, Run(sql, params));
    const char* n = PQcmdTuples(res.get());
    return n && *n ? std::stoll(n) : int64_t{0};
  }

  Status ExecScript(std::string_view sql) override {
    VG_RETURN_IF_ERROR(EnsureConnected());
    PgResultPtr res(PQexec(conn_.get(), std::string(sql).c_str()));
    return Check(res.get());
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const SqlParams& params) override {
    VG_ASSIGN_OR_RETURN(PgResultPtr res, Run(sql, params));
    std::vector<SqlRow> rows;
    const int nrows = PQntuples(res.get());
    const int ncols = PQnfields(res.get());
    rows.reserve(static_cast<size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      std::vector<SqlValue> values;
      values.reserve(static_cast<size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          values.emplace_back(nullptr);
          continue;
        }
        const char* text = PQgetvalue(res.get(), r, c);
        switch (PQftype(res.get(), c)) {
          case kInt8:
          case kInt4:
          case kInt2:
            values.emplace_back(static_cast<int64_t>(std::stoll(text)));
            break;
          case kFloat8:
          case kFloat4:
          case kNumeric:
            values.emplace_back(std::stod(text));
            break;
          default:
            values.emplace_back(
                std::string(text, static_cast<size_t>(PQgetlength(res.get(), r, c))));
        }
      }
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  Status Listen(const std::string& channel) override {
    channel_ = channel;
    return ExecScript("LISTEN " + channel);
  }

  Result<bool> WaitForNotification(double timeout_seconds) override {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      VG_RETURN_IF_ERROR(EnsureConnected());
      if (!channel_.empty()) VG_RETURN_IF_ERROR(ExecScript("LISTEN " + channel_));
    }
    if (TakeNotifications()) return true;
    pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(timeout_seconds * 1000));
    if (rc < 0 && errno != EINTR)
      return Unavailable("catalog " + RedactUrl(url_) + ": poll failed");
    if (rc > 0 && PQconsumeInput(conn_.get()) == 0) {
      return Unavailable("catalog " + RedactUrl(url_) + ": " + PQerrorMessage(conn_.get()));
    }
    return TakeNotifications();
  }

  Status Begin() override {
    VG_RETURN_IF_ERROR(ExecScript("BEGIN"));
    in_transaction_ = true;
    return Status();
  }
  Status Commit() override {
    in_transaction_ = false;
    return ExecScript("COMMIT");
  }
  Status Rollback() override {
    in_transaction_ = false;
    return ExecScript("ROLLBACK");
  }

 private:
  bool TakeNotifications() {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_.get())) {
      PQfreemem(n);
      any = true;
    }
    return any;
  }

  // A dropped connection is re-opened between transactions (never inside
  // one: its work would be lost silently).
  Status EnsureConnected() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return Status();
    if (in_transaction_) {
      return Unavailable("catalog " + RedactUrl(url_) + ": connection lost inside a transaction");
    }
    PQreset(conn_.get());
    prepared_.clear();  // a new session has none of them
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return Unavailable("catalog " + RedactUrl(url_) +
                         ": cannot reconnect: " + PQerrorMessage(conn_.get()));
    }
    return Status();
  }

  Result<PgResultPtr> Run(std::string_view sql, const SqlParams& params) {
    VG_RETURN_IF_ERROR(EnsureConnected());
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (auto* p = std::get_if<int64_t>(&v)) {
        texts[i] = std::to_string(*p);
      } else if (auto* d = std::get_if<double>(&v)) {
        texts[i] = fmt::format("{:.17g}", *d);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        texts[i] = *s;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    // Each distinct statement is prepared once per connection, then run by
    // name: the server parses and plans it once.
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(prepared_.size());
      std::string numbered = NumberPlaceholders(sql);
      PgResultPtr prep(PQprepare(conn_.get(), name.c_str(), numbered.c_str(),
                                 static_cast<int>(params.size()), nullptr));
      VG_RETURN_IF_ERROR(Check(prep.get()));
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    PgResultPtr res(PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(params.size()),
                                   values.data(), nullptr, nullptr, 0));
    VG_RETURN_IF_ERROR(Check(res.get()));
    return res;
  }

  Status Check(PGresult* res) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status();
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_.get());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    Code code = state ? CodeForSqlState(state) : Code::kUnavailable;
    return Status(code, "catalog " + RedactUrl(url_) + ": " + msg);
  }

  ConnPtr conn_;
  std::string url_;
  bool in_transaction_ = false;
  std::string channel_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

}  // namespace

std::string RedactUrl(const std::string& url) {
  if (url.starts_with("sqlite://")) return url;
  // libpq knows which of its settings are secret (password, sslpassword...):
  // those are hidden wherever the text carries them.
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  if (error != nullptr) PQfreemem(error);
  if (!options) {
    // Unparseable: no telling where a secret sits; show only what it is.
    const auto scheme = url.find("://");
    return scheme == std::string::npos ? "(a connection string libpq cannot parse)"
                                       : url.substr(0, scheme + 3) + std::string(kRedacted);
  }
  std::set<std::string, std::less<>> secret;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->dispchar != nullptr && std::string_view(o->dispchar).find('*') != std::string::npos) {
      secret.insert(o->keyword);
    }
  }
  if (url.find("://") != std::string::npos) {
    UrlRedaction how;
    how.secret_parameter = [&](std::string_view key) { return secret.contains(key); };
    return vidgate::RedactUrl(url, how);
  }
  // A "key=value ..." string: rebuilt from what libpq read, secrets hidden.
  std::string out;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string value = secret.contains(o->keyword) ? std::string(kRedacted) : o->val;
    if (value.empty() || value.find_first_of(" '\\") != std::string::npos) {
      std::string quoted = "'";
      for (char c : value)
        quoted += (c == '\'' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      value = quoted + "'";
    }
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "=" + value;
  }
  return out;
}

std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char ch : sql) {
    if (quote) {
      if (ch == quote) quote = 0;
      out += ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      out += ch;
    } else if (ch == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out += ch;
    }
  }
  return out;
}

Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url,
                                                    const std::string& password) {
  // expand_dbname: the URL gives everything but, maybe, the password.
  const char* keys[] = {"dbname", password.empty() ? nullptr : "password", nullptr};
  const char* values[] = {url.c_str(), password.empty() ? nullptr : password.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Unavailable("cannot connect to catalog " + RedactUrl(url) + ": " + msg);
  }
  // Our notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlConnection>(std::make_unique<PostgresConnection>(std::move(conn), url));
}

}  // namespace vidgate::catalog::internal
