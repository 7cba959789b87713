// The health endpoints on loopback: what they say while all is well, when
// intake is stuck, when the store or the catalog fails; and the listen
// addresses that are refused.
#include "server/health_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/util.h"
#include "storage/testing/error_store.h"

namespace vidgate::server {
namespace {

using nlohmann::json;

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-server-test-" + NewUuid());
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
    memory_ = storage::NewMemoryStore();
    store_ = std::make_unique<storage::ErrorStore>(memory_.get());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Serve(const std::string& listen = "127.0.0.1:0") {
    ServerOptions o;
    o.listen = listen;
    o.stall_seconds = 60;
    server_ = std::make_unique<HealthServer>(
        ServerDeps{catalog_.get(), store_.get(), log_.get(), [this] { return since_turn_.load(); }},
        o);
    ASSERT_TRUE(server_->Start().ok());
  }
  std::pair<int, json> Get(const std::string& path) {
    httplib::Client client("http://" + server_->address());
    auto res = client.Get(path.c_str());
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::Store> memory_;
  std::unique_ptr<storage::ErrorStore> store_;
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
  std::atomic<double> since_turn_{-1};
  std::unique_ptr<HealthServer> server_;
};

TEST_F(HealthServerTest, HealthyAndReadyOnceIntakeTurns) {
  Serve();
  EXPECT_EQ(Get("/healthz").first, 200);  // up, even before the first turn
  auto [status, body] = Get("/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["checks"]["intake"], "not started yet");
  since_turn_ = 0.5;
  std::tie(status, body) = Get("/readyz");
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(
      body,
      json::parse(R"({"status":"ready","checks":{"catalog":"ok","store":"ok","intake":"ok"}})"));
}

TEST_F(HealthServerTest, AStuckIntakeLoopIsUnhealthy) {
  Serve();
  since_turn_ = 61;
  auto [status, body] = Get("/healthz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["status"], "stalled");
  EXPECT_EQ(body["message"], "the intake loop has not turned for 61 s");
  EXPECT_EQ(Get("/readyz").second["checks"]["intake"], "stalled");
}

TEST_F(HealthServerTest, AFailingStoreIsNotReadyAndSaysWhy) {
  Serve();
  since_turn_ = 0.5;
  storage::FaultRule down;
  down.method = "Stat";
  down.error = Unavailable("s3://media: connection refused");
  store_->Fail(down);
  auto [status, body] = Get("/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["status"], "unavailable");
  EXPECT_NE(body["checks"]["store"].get<std::string>().find("s3://media: connection refused"),
            std::string::npos)
      << body.dump();
  EXPECT_EQ(body["checks"]["catalog"], "ok");
  EXPECT_EQ(Get("/healthz").first, 200) << "alive, only not ready";
}

TEST_F(HealthServerTest, UnknownPathsAreJsonErrors) {
  Serve();
  auto [status, body] = Get("/nothing/here");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["code"], "not_found");
  EXPECT_EQ(body["error"]["message"], "no such path: /nothing/here");
}

TEST_F(HealthServerTest, ListenAddressesThatAreRefused) {
  for (const std::string bad : {"8080", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":80"}) {
    ServerOptions o;
    o.listen = bad;
    HealthServer s(ServerDeps{catalog_.get(), store_.get(), log_.get(), {}}, o);
    Status started = s.Start();
    EXPECT_EQ(started.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(started.message().find("server.listen '" + bad + "'"), std::string::npos)
        << started.message();
  }
  ServerOptions open;
  open.listen = "0.0.0.0:0";
  HealthServer everyone(ServerDeps{catalog_.get(), store_.get(), log_.get(), {}}, open);
  Status refused = everyone.Start();
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("not a loopback address"), std::string::npos);
  // A port in use, by another vidgate say: a sentence, not a shared port.
  Serve();
  ServerOptions same;
  same.listen = server_->address();
  HealthServer second(ServerDeps{catalog_.get(), store_.get(), log_.get(), {}}, same);
  Status taken = second.Start();
  EXPECT_EQ(taken.code(), Code::kUnavailable);
  EXPECT_NE(taken.message().find("--no-server"), std::string::npos);
  EXPECT_TRUE(ParseListen("[::1]:8080")->loopback);
  EXPECT_TRUE(ParseListen("localhost:8080")->loopback);
  EXPECT_FALSE(ParseListen("10.0.0.5:8080")->loopback);
  // A name that only looks like loopback could resolve anywhere.
  EXPECT_FALSE(ParseListen("127.example.com:8080")->loopback);
  EXPECT_FALSE(ParseListen("127.0.0.1.nip.io:8080")->loopback);
  EXPECT_TRUE(ParseListen("127.1.2.3:8080")->loopback);
}

}  // namespace
}  // namespace vidgate::server
