// GetSecretValue against a loopback stand-in for Secrets Manager: what is
// sent (signed for the secret's region), what comes back, and each error.
#include "aws/secrets_manager.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace vidgate::aws {
namespace {

constexpr const char* kArn =
    "arn:aws:secretsmanager:eu-west-3:123456789012:secret:vidgate-db-AbCdEf";

class SecretsManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++calls_;
      target_ = req.get_header_value("X-Amz-Target");
      authorization_ = req.get_header_value("Authorization");
      body_ = req.body;
      if (failures_left_ > 0) {
        --failures_left_;
        res.status = 503;
        res.set_content(R"({"__type":"InternalServiceError","message":"try again"})",
                        "application/x-amz-json-1.1");
        return;
      }
      res.status = status_;
      res.set_content(answer_, "application/x-amz-json-1.1");
    });
    server_.set_keep_alive_max_count(1);  // a closed connection: stop() need not wait for it
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  Result<std::string> Get(const std::string& id) {
    SecretsManagerOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_) + "/";
    o.sleep = [](double) {};
    return GetSecretString(o, id, creds_.get(), &http_, &clock_);
  }
  void Answer(int status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    answer_ = std::move(body);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  int calls_ = 0;
  int failures_left_ = 0;
  int status_ = 200;
  std::string answer_, target_, authorization_, body_;
  net::CurlGlobal curl_;
  net::Client http_;
  std::unique_ptr<CredentialsProvider> creds_ = StaticCredentials({"AKIDEXAMPLE", "SK", "", 0});
  SystemClock clock_;
};

TEST_F(SecretsManagerTest, ReadsTheSecretSignedForItsRegion) {
  Answer(200, nlohmann::json{{"ARN", kArn},
                             {"SecretString", R"({"username":"vidgate","password":"p@ss w0rd"})"}}
                  .dump());
  auto got = Get(kArn);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*PasswordOf(*got), "p@ss w0rd");
  EXPECT_EQ(target_, "secretsmanager.GetSecretValue");
  EXPECT_NE(authorization_.find("Credential=AKIDEXAMPLE/"), std::string::npos);
  EXPECT_NE(authorization_.find("/eu-west-3/secretsmanager/aws4_request"), std::string::npos)
      << authorization_;
  EXPECT_EQ(nlohmann::json::parse(body_)["SecretId"], kArn);
}

TEST_F(SecretsManagerTest, RetriesAFlakyServiceAndNamesTheSecretNeverItsValue) {
  {
    std::lock_guard lock(mu_);
    failures_left_ = 2;
  }
  Answer(200, R"({"SecretString":"plain-secret"})");
  auto got = Get(kArn);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(*PasswordOf(*got), "plain-secret");  // not JSON: the whole string

  Answer(
      400,
      R"({"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."})");
  auto missing = Get("nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("secret 'nope'"), std::string::npos);

  Answer(400, R"({"__type":"AccessDeniedException","message":"not authorized"})");
  EXPECT_EQ(Get(kArn).status().code(), Code::kPermissionDenied);

  Answer(200, R"({"SecretBinary":"AAEC"})");
  auto binary = Get(kArn);
  EXPECT_EQ(binary.status().code(), Code::kInvalidArgument);

  {
    std::lock_guard lock(mu_);
    failures_left_ = 100;
  }
  auto down = Get(kArn);
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_EQ(down.status().message().find("plain-secret"), std::string::npos);
}

TEST(PasswordOfTest, AJsonSecretWithoutAPasswordIsRefused) {
  EXPECT_EQ(PasswordOf(R"({"username":"u"})").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PasswordOf(R"({"password":7})").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(*PasswordOf("[1,2]"), "[1,2]");  // not an object: the string as it is
}

}  // namespace
}  // namespace vidgate::aws
