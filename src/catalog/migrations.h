// migrations.h: the catalog schema, one source of truth for every database.
// Tokens in the SQL are replaced per dialect: {ID} an auto-increment primary
// key, {REAL} a double. Append new migrations; never edit an applied one.
#pragma once

#include <string>
#include <vector>

#include "catalog/internal/sql.h"

namespace vidgate::catalog::internal {

struct Migration {
  int version;
  std::string sql;
};

// Migrations in order, with dialect tokens replaced.
std::vector<Migration> Migrations(Dialect dialect);

}  // namespace vidgate::catalog::internal
