// PostgreSQL implementation of SqlConnection over libpq: the catalog's '?'
// placeholders become $1..$n, values travel as text, results are typed from
// the column's type.
#pragma once

#include <memory>
#include <string>

#include "catalog/internal/sql.h"

namespace vidgate::catalog::internal {

// Connects to `url` ("postgresql://user@host:port/db"; the password comes
// from PGPASSWORD or ~/.pgpass, as libpq does). kUnavailable naming the
// server (never the password) if it cannot connect.
Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url,
                                                    const std::string& password = "");

// `url` with any password replaced by "***", for messages and logs.
std::string RedactUrl(const std::string& url);

// Rewrites '?' placeholders (outside quotes) as $1, $2, ...
std::string NumberPlaceholders(std::string_view sql);

}  // namespace vidgate::catalog::internal
