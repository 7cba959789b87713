#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "catalog/catalog.h"
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
