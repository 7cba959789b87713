#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "common/util.h"

namespace vidgate::aws {
namespace {

namespace fs = std::filesystem;

// A fake environment, a temp HOME, and a real HTTP server on loopback that
// plays the container endpoint and the instance metadata service.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("vidgate-creds-" + NewUuid());
    fs::create_directories(home_ / ".aws");
    env_["HOME"] = home_.string();
    env_["AWS_EC2_METADATA_DISABLED"] = "true";
    server_.Get("/ecs", [this](const httplib::Request& req, httplib::Response& res) {
      ++ecs_calls_;
      if (req.get_header_value("Authorization") != expected_token_) {
        res.status = 403;
        return;
      }
      res.set_content(ecs_answer_, "application/json");
    });
    server_.Put("/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
        res.status = 400;
        return;
      }
      res.set_content("imds-token", "text/plain");
    });
    server_.Get("/latest/meta-data/iam/security-credentials/",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!ImdsAuthorised(req, res)) return;
                  res.set_content("the-role\n", "text/plain");
                });
    server_.Get("/latest/meta-data/iam/security-credentials/the-role",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!ImdsAuthorised(req, res)) return;
                  res.set_content(R"({"Code":"Success","AccessKeyId":"ASIAIMDS",
                    "SecretAccessKey":"imds-secret","Token":"imds-session",
                    "Expiration":"2030-01-01T00:00:00Z"})",
                                  "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost, and join() would wait forever.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    http_.reset();  // closes its kept-alive connections, or stop() waits them out
    server_.stop();
    thread_.join();
    fs::remove_all(home_);
  }
  bool ImdsAuthorised(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-aws-ec2-metadata-token") == "imds-token") return true;
    res.status = 401;  // IMDSv1 (no token) refused, as on an instance that requires v2
    return false;
  }
  std::string Base() { return "http://127.0.0.1:" + std::to_string(port_); }
  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(home_ / relative, std::ios::binary) << text;
  }
  std::unique_ptr<CredentialsProvider> Chain() {
    ChainOptions o;
    o.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    o.http = http_.get();
    o.clock = &clock_;
    return DefaultChain(o);
  }

  fs::path home_;
  std::map<std::string, std::string> env_;
  FakeClock clock_{1'900'000'000.0};
  std::unique_ptr<net::Client> http_ = std::make_unique<net::Client>();
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> ecs_calls_{0};
  std::string expected_token_ = "Bearer ecs-token";
  std::string ecs_answer_ = R"({"AccessKeyId":"ASIAECS","SecretAccessKey":"ecs-secret",
      "Token":"ecs-session","Expiration":"2030-03-17T18:46:40Z"})";
};

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  env_["AWS_SESSION_TOKEN"] = "env-session";
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = x\n");
  auto c = Chain()->Get();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, "env-secret");
  EXPECT_EQ(c->session_token, "env-session");
  EXPECT_EQ(c->expires_at, 0);
}

TEST_F(CredentialsTest, HalfAnEnvironmentPairIsAnErrorNamingTheMissingHalf) {
  env_["AWS_SECRET_ACCESS_KEY"] = "lonely-secret";
  auto c = Chain()->Get();
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(c.status().message().find("lonely-secret"), std::string::npos);
}

TEST_F(CredentialsTest, SharedFilesByProfileWithTheCredentialsFileWinning) {
  Write(".aws/credentials",
        "# a comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n"
        "[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=w\n");
  Write(".aws/config",
        "[default]\nregion = eu-west-1\n[profile work]\naws_access_key_id = AKIAIGNORED\n"
        "s3 =\n  addressing_style = path\n[profile cfgonly]\naws_access_key_id = AKIACFG\n"
        "aws_secret_access_key = c\naws_session_token = t\n");
  auto d = Chain()->Get();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  env_["AWS_PROFILE"] = "work";
  auto w = Chain()->Get();
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->access_key_id, "AKIAWORK");
  env_["AWS_PROFILE"] = "cfgonly";
  auto cfg = Chain()->Get();
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->access_key_id, "AKIACFG");
  EXPECT_EQ(cfg->session_token, "t");
  env_["AWS_PROFILE"] = "nope";
  auto none = Chain()->Get();
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("\"nope\""), std::string::npos);
}

TEST_F(CredentialsTest, FilesNamedByTheEnvironmentAndProfilesVidgateCannotUse) {
  const std::string path = (home_ / "elsewhere.ini").string();
  env_["AWS_SHARED_CREDENTIALS_FILE"] = path;
  std::ofstream(path) << "[default]\naws_access_key_id = AKIAELSE\naws_secret_access_key = e\n"
                         "[assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n";
  auto c = Chain()->Get();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "AKIAELSE");
  env_["AWS_PROFILE"] = "assume";
  auto role = Chain()->Get();
  EXPECT_EQ(role.status().code(), Code::kInvalidArgument);
  EXPECT_NE(role.status().message().find("role_arn"), std::string::npos) << role.status().message();
}

TEST_F(CredentialsTest, ContainerEndpointWithATokenFileAndRefreshBeforeExpiry) {
  Write("token", "Bearer ecs-token\n");
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = Base() + "/ecs";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_ / "token").string();
  const double expires = 1'900'000'000.0 + 3600;  // 2030-03-17T18:46:40Z is 1.9e9 + 3600
  ASSERT_EQ(ParseIso8601("2030-03-17T18:46:40Z"), expires);
  auto chain = Chain();
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "ASIAECS");
  EXPECT_EQ(c->session_token, "ecs-session");
  EXPECT_EQ(c->expires_at, expires);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(ecs_calls_, 1) << "cached credentials were fetched again";
  clock_.Advance(3600 - 299);  // within 5 minutes of expiry
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(ecs_calls_, 2) << "not refreshed ahead of expiry";

  // The endpoint goes away: what has not expired yet is still used...
  server_.stop();
  clock_.Advance(100);
  auto kept = chain->Get();
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  // ...and what has, is not.
  clock_.Advance(4000);
  auto gone = chain->Get();
  EXPECT_EQ(gone.status().code(), Code::kUnavailable) << gone.status().message();
  EXPECT_EQ(gone.status().message().find("ecs-token"), std::string::npos);
}

TEST_F(CredentialsTest, ContainerEndpointRefusalAndPlainHttpElsewhere) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = Base() + "/ecs";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer wrong";
  EXPECT_EQ(Chain()->Get().status().code(), Code::kPermissionDenied);
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://creds.example.com/x";
  EXPECT_EQ(Chain()->Get().status().code(), Code::kInvalidArgument);
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = Base() + "/ecs";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer ecs-token";
  ecs_answer_ = R"({"AccessKeyId":"ASIAECS"})";
  EXPECT_EQ(Chain()->Get().status().code(), Code::kUnavailable);
}

TEST_F(CredentialsTest, InstanceMetadataV2) {
  env_.erase("AWS_EC2_METADATA_DISABLED");
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = Base() + "/";
  auto c = Chain()->Get();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->secret_access_key, "imds-secret");
  EXPECT_EQ(c->session_token, "imds-session");
  EXPECT_EQ(c->expires_at, *ParseIso8601("2030-01-01T00:00:00Z"));
}

TEST_F(CredentialsTest, NothingAnywhereSaysWhatWasTried) {
  auto c = Chain()->Get();
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("environment"), std::string::npos);
  EXPECT_NE(c.status().message().find(".aws/credentials"), std::string::npos);
  EXPECT_NE(c.status().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  // No instance service on this port either: the chain ends, it does not hang.
  env_.erase("AWS_EC2_METADATA_DISABLED");
  server_.stop();
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = Base();
  EXPECT_EQ(Chain()->Get().status().code(), Code::kFailedPrecondition);
}

TEST(Iso8601Test, ParsesWhatTheEndpointsSend) {
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00Z"), 1440938160.0);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.5Z"), 1440938160.5);
  EXPECT_EQ(ParseIso8601("2015-08-30T14:36:00+02:00"), 1440938160.0);
  EXPECT_FALSE(ParseIso8601("yesterday"));
  EXPECT_FALSE(ParseIso8601("2015-08-30T12:36:00"));
  EXPECT_FALSE(ParseIso8601("2015-08-30T12:36:00Zjunk"));
}

}  // namespace
}  // namespace vidgate::aws
