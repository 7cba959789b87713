// SQLite implementation of SqlConnection: WAL mode, a busy timeout so several
// processes (run, list, show) can share one file.
#pragma once

#include <memory>
#include <string>

#include "catalog/internal/sql.h"

namespace vidgate::catalog::internal {

// Opens (creating if needed) the database file at `path`; kUnavailable or
// kPermissionDenied naming the file if it cannot be opened.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path);

}  // namespace vidgate::catalog::internal
