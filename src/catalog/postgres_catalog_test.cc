// The catalog contract on a real PostgreSQL (the throwaway server that the
// test harness starts: scripts/pg-test-server.sh), one fresh database per test.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/internal/postgres_connection.h"
#include "catalog/migrations.h"
#include "catalog/testing/catalog_conformance.h"
#include "common/util.h"

namespace vidgate::catalog {
namespace {

std::string ServerUrl() {
  std::ifstream in(VIDGATE_PG_STATE);
  std::string url;
  std::getline(in, url);
  return url;
}

// A new empty database on the test server; returns its URL.
std::string FreshDatabase() {
  std::string base = ServerUrl();
  if (base.empty()) return "";
  std::string name = "t_" + NewUuid().substr(0, 8) + NewUuid().substr(0, 8);
  PGconn* conn = PQconnectdb(base.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return "";
  }
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  PQfinish(conn);
  if (!ok) return "";
  return base.substr(0, base.rfind('/') + 1) + name;
}

std::unique_ptr<Catalog> MakePostgres() {
  std::string url = FreshDatabase();
  if (url.empty()) return nullptr;
  auto catalog = Open(url);
  if (!catalog.ok() || !(*catalog)->Migrate().ok()) return nullptr;
  return std::move(catalog).value();
}

using conformance::CatalogConformance;
INSTANTIATE_TEST_SUITE_P(Postgres, CatalogConformance, ::testing::Values(MakePostgres),
                         [](const auto&) { return std::string("postgres"); });

// A worker whose lease is taken over between Apply's lease check and its
// writes must not write: the check locks what it reads. The worker is
// paused there (a test hook) while another claims the job.
TEST(PostgresCatalogTest, ALeaseTakenOverMidApplyIsNeverWrittenThrough) {
  std::string url = FreshDatabase();
  ASSERT_FALSE(url.empty());
  std::mutex mu;
  std::condition_variable cv;
  bool paused = false, resume = false;
  auto slow = std::move(Open(url, "", [&](std::string_view point) {
                if (point != "apply:fenced") return;
                std::unique_lock lock(mu);
                paused = true;
                cv.notify_all();
                cv.wait_for(lock, std::chrono::seconds(30), [&] { return resume; });
              })).value();
  ASSERT_TRUE(slow->Migrate().ok());
  auto other = std::move(Open(url)).value();
  const int64_t id = **slow->Register(NewVideo{"v", "uploads/v.mp4", State::kQueued, 100}, {});
  ASSERT_TRUE(slow->ClaimNext("w1", 100, 30, 5)->has_value());

  // w1, its lease run out at 131 unknown to it, files the video...
  VideoChange publish;
  publish.video_id = id;
  publish.now = 131;
  publish.state = State::kProcessed;
  publish.end_attempt = AttemptEnd{"succeeded", "", false};
  publish.job = VideoChange::Job::kRemove;
  publish.lease_owner = "w1";
  auto applied = std::async(std::launch::async, [&] { return slow->Apply(publish); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return paused; }));
  }
  // ...while w2 tries to take the expired job over. It must not get it
  // while w1's check holds; once w1 has committed, there is nothing to take.
  auto claimed = std::async(std::launch::async, [&] { return other->ClaimNext("w2", 131, 30, 5); });
  // (A claim blocked behind w1 would wait the hook's 30 s: 10 s tells it.)
  EXPECT_EQ(claimed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  {
    std::lock_guard lock(mu);
    resume = true;
  }
  cv.notify_all();
  EXPECT_TRUE(applied.get().ok());
  auto claim = claimed.get();
  ASSERT_TRUE(claim.ok());
  EXPECT_FALSE(claim->has_value()) << "w2 took a job whose lease w1 was writing under";
  // One attempt, w1's, succeeded; nothing of w2's.
  auto attempts = *other->Attempts(id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].worker, "w1");
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  EXPECT_EQ(other->GetVideo(id)->state, State::kProcessed);
}

TEST(PostgresCatalogTest, ConcurrentMigrationsDoNotRace) {
  std::string url = FreshDatabase();
  ASSERT_FALSE(url.empty()) << "no test PostgreSQL; is the pg_server_start fixture running?";
  std::vector<Status> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto c = Open(url);
      results[i] = c.ok() ? (*c)->Migrate() : c.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*(*Open(url))->SchemaVersion(),
            internal::Migrations(internal::Dialect::kPostgres).back().version);
}

TEST(PostgresCatalogTest, TwoWorkersNeverClaimTheSameJob) {
  std::string url = FreshDatabase();
  ASSERT_FALSE(url.empty());
  auto setup = std::move(Open(url)).value();
  ASSERT_TRUE(setup->Migrate().ok());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(setup
                    ->Register(NewVideo{"v" + std::to_string(i), "uploads/v" + std::to_string(i),
                                        State::kQueued, 1},
                               {})
                    .ok());
  }
  std::vector<std::vector<int64_t>> claimed(4);
  std::vector<std::thread> threads;
  for (size_t w = 0; w < claimed.size(); ++w) {
    threads.emplace_back([&, w] {
      auto c = std::move(Open(url)).value();
      for (;;) {
        auto claim = c->ClaimNext("w" + std::to_string(w), 10, 60, 5);
        ASSERT_TRUE(claim.ok()) << claim.status().ToString();
        if (!claim->has_value()) return;
        claimed[w].push_back((*claim)->video.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& ids : claimed) {
    total += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(total, 40u);
  EXPECT_EQ(all.size(), 40u);
}

TEST(PostgresCatalogTest, QueuedWorkWakesOtherProcesses) {
  std::string url = FreshDatabase();
  ASSERT_FALSE(url.empty());
  auto waiter = std::move(Open(url)).value();
  auto writer = std::move(Open(url)).value();
  ASSERT_TRUE(waiter->Migrate().ok());
  // Nothing queued: the wait runs out.
  auto idle = waiter->WaitForWork(0.2);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_FALSE(*idle);
  std::thread queue([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(writer->Register(NewVideo{"a", "uploads/a.mp4", State::kQueued, 1}, {}).ok());
  });
  auto start = std::chrono::steady_clock::now();
  auto woken = waiter->WaitForWork(10);
  queue.join();
  ASSERT_TRUE(woken.ok());
  EXPECT_TRUE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // A video waiting for its metadata is no work: no wake-up.
  ASSERT_TRUE(
      writer->Register(NewVideo{"b", "uploads/b.mp4", State::kAwaitingMetadata, 1}, {}).ok());
  EXPECT_FALSE(*waiter->WaitForWork(0.2));
}

TEST(PostgresCatalogTest, BadServerIsUnavailableAndHidesThePassword) {
  auto c = Open("postgresql://vidgate:s3cret@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("***"), std::string::npos) << c.status().message();
}

// The test server makes the role vidgate_pw give its password (scram);
// every other role is trusted.
TEST(PostgresCatalogTest, PasswordCanBeGivenApart) {
  std::string url = FreshDatabase();
  ASSERT_FALSE(url.empty());
  {
    PGconn* conn = PQconnectdb(url.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
    for (const char* sql : {"CREATE ROLE vidgate_pw LOGIN SUPERUSER",
                            "ALTER ROLE vidgate_pw PASSWORD 'right horse battery'"}) {
      PGresult* res = PQexec(conn, sql);
      PQclear(res);  // the role may be there from an earlier run
    }
    PQfinish(conn);
  }
  const std::string with_role = "postgresql://vidgate_pw@" + url.substr(url.find('@') + 1);
  auto no_password = Open(with_role);
  ASSERT_FALSE(no_password.ok()) << "the server did not ask for a password";
  auto wrong = Open(with_role, "wrong horse");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnavailable);
  EXPECT_NE(wrong.status().message().find("password"), std::string::npos)
      << wrong.status().message();
  EXPECT_EQ(wrong.status().message().find("wrong horse"), std::string::npos)
      << wrong.status().message();
  auto right = Open(with_role, "right horse battery");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_TRUE((*right)->Migrate().ok());
}

TEST(PostgresUrlTest, RedactsOnlyThePassword) {
  EXPECT_EQ(internal::RedactUrl("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(internal::RedactUrl("postgresql://u@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(internal::RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
}

TEST(PostgresUrlTest, APasswordInTheQueryOrAConninfoIsHiddenToo) {
  EXPECT_EQ(internal::RedactUrl("postgresql://u@h/db?sslmode=require&password=hunter2"),
            "postgresql://u@h/db?sslmode=require&password=***");
  EXPECT_EQ(internal::RedactUrl("host=h user=u password=hunter2 dbname=db"),
            "user=u password=*** dbname=db host=h");
  EXPECT_EQ(internal::RedactUrl("host=h password='hunter 2'").find("hunter"), std::string::npos);
  EXPECT_EQ(internal::RedactUrl("host=h password='unclosed").find("unclosed"), std::string::npos);
  // Whatever the form, an unknown scheme's error does not show it.
  auto r = Open("host=h password=hunter2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  r = Open("postgresql://u@127.0.0.1:1/db?password=hunter2&connect_timeout=2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
}

TEST(PostgresUrlTest, NumbersPlaceholdersOutsideQuotes) {
  EXPECT_EQ(internal::NumberPlaceholders("SELECT ? , '?' , \"a?\" , ?"),
            "SELECT $1 , '?' , \"a?\" , $2");
}

}  // namespace
}  // namespace vidgate::catalog
