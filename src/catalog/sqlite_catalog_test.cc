#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "catalog/internal/sqlite_connection.h"
#include "catalog/testing/catalog_conformance.h"
#include "common/util.h"

namespace vidgate::catalog {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Catalog> MakeSqlite() {
  fs::path dir = fs::temp_directory_path() / ("vidgate-catalog-test-" + NewUuid());
  auto catalog = Open("sqlite://" + (dir / "vidgate.db").string());
  if (!catalog.ok() || !(*catalog)->Migrate().ok()) return nullptr;
  return std::move(catalog).value();
}

using conformance::CatalogConformance;
INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogConformance, ::testing::Values(MakeSqlite),
                         [](const auto&) { return std::string("sqlite"); });

TEST(SqliteCatalogTest, NewerSchemaIsAClearError) {
  fs::path dir = fs::temp_directory_path() / ("vidgate-catalog-test-" + NewUuid());
  std::string url = "sqlite://" + (dir / "vidgate.db").string();
  {
    auto c = std::move(Open(url)).value();
    ASSERT_TRUE(c->Migrate().ok());
  }
  {
    // Pretend a newer vidgate migrated this file.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "vidgate.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    auto c = std::move(Open(url)).value();
    Status st = c->Migrate();
    EXPECT_EQ(st.code(), Code::kFailedPrecondition);
    EXPECT_NE(st.message().find("newer"), std::string::npos) << st.message();
  }
  fs::remove_all(dir);
}

// Statements are kept prepared between calls: each call must see its own
// parameters, the cache must survive more statements than it keeps, and a
// statement left behind must not hold a read open that blocks other writers.
TEST(SqliteConnectionTest, PreparedStatementsAreReusedSafely) {
  fs::path dir = fs::temp_directory_path() / ("vidgate-catalog-test-" + NewUuid());
  const std::string path = (dir / "vidgate.db").string();
  auto conn = std::move(internal::OpenSqlite(path)).value();
  ASSERT_TRUE(conn->ExecScript("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
  for (int64_t k = 0; k < 5; ++k) {
    ASSERT_TRUE(
        conn->Exec("INSERT INTO t (k, v) VALUES (?, ?)", {k, "v" + std::to_string(k)}).ok());
  }
  for (int64_t k = 4; k >= 0; --k) {
    auto rows = conn->Query("SELECT v FROM t WHERE k = ?", {k});
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].Text(0), "v" + std::to_string(k));
  }
  // More distinct statements than the cache holds.
  for (int i = 0; i < 300; ++i) {
    auto rows = conn->Query("SELECT " + std::to_string(i) + " + ?", {int64_t{1}});
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    EXPECT_EQ((*rows)[0].Int(0), i + 1);
  }
  // A query stopped part-way (LIMIT leaves rows unread inside SQLite) and a
  // failed statement leave no transaction behind: another connection writes.
  ASSERT_TRUE(conn->Query("SELECT k FROM t LIMIT 1", {}).ok());
  EXPECT_FALSE(conn->Exec("INSERT INTO t (k, v) VALUES (?, ?)", {int64_t{1}, "dup"}).ok());
  auto other = std::move(internal::OpenSqlite(path)).value();
  ASSERT_TRUE(other->Begin().ok());
  ASSERT_TRUE(other->Exec("DELETE FROM t WHERE k = ?", {int64_t{0}}).ok());
  ASSERT_TRUE(other->Commit().ok());
  auto rows = conn->Query("SELECT COUNT(*) FROM t", {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 4);
  fs::remove_all(dir);
}

TEST(CatalogOpenTest, UnknownSchemeNamesTheKey) {
  auto r = Open("mysql://x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("database.url"), std::string::npos);
}

TEST(StateTest, NamesRoundTrip) {
  for (State s : {State::kAwaitingMetadata, State::kQueued, State::kProcessing, State::kRetryWait,
                  State::kProcessed, State::kRejected, State::kUnableToProcess}) {
    EXPECT_EQ(*ParseState(StateName(s)), s);
  }
  EXPECT_EQ(ParseState("done").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(IsTerminal(State::kRejected));
  EXPECT_FALSE(IsTerminal(State::kRetryWait));
}

}  // namespace
}  // namespace vidgate::catalog
