#include "notify/webhook_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/util.h"

namespace vidgate::notify {
namespace {

using namespace std::chrono_literals;

// libcurl is initialised once for the whole binary, as app/main does.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    curl_ = std::make_unique<net::CurlGlobal>();
    ASSERT_TRUE(curl_->status().ok()) << curl_->status().ToString();
    client_ = std::make_unique<net::Client>();
  }
  void TearDown() override {
    client_.reset();  // its handles go before libcurl does
    curl_.reset();
  }
  net::Client& client() { return *client_; }

 private:
  std::unique_ptr<net::CurlGlobal> curl_;
  std::unique_ptr<net::Client> client_;
};
auto* const kCurlEnvironment =
    static_cast<CurlEnvironment*>(::testing::AddGlobalTestEnvironment(new CurlEnvironment));

// One HTTP client for the whole binary, as app has.
net::Client& TestClient() { return kCurlEnvironment->client(); }

struct Received {
  std::string body;
  std::string content_type;
  std::optional<std::string> signature;
  std::optional<std::string> event_id;
  std::optional<std::string> webhook_id, webhook_timestamp, webhook_signature;
};

// A cpp-httplib server on 127.0.0.1 and a free port, serving in its own thread.
//   POST /hook       records the request, answers `status_` (200 by default)
//   POST /slow       blocks until the test ends (or 5 s), then answers 200
//   POST /moved      307 to /hook
//   POST /loop       302 to itself
class WebhookSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_keep_alive_timeout(1);
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      Received r{req.body, req.get_header_value("Content-Type"), {}, {}, {}, {}, {}};
      for (auto [name, field] : {std::pair{"webhook-id", &r.webhook_id},
                                 std::pair{"webhook-timestamp", &r.webhook_timestamp},
                                 std::pair{"webhook-signature", &r.webhook_signature}}) {
        if (req.has_header(name)) *field = req.get_header_value(name);
      }
      if (req.has_header("X-Vidgate-Signature")) {
        r.signature = req.get_header_value("X-Vidgate-Signature");
      }
      if (req.has_header("X-Vidgate-Event-Id")) {
        r.event_id = req.get_header_value("X-Vidgate-Event-Id");
      }
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(std::move(r));
      res.status = status_;
      res.set_content(reply_, "text/plain");
    });
    server_.Post("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      released_cv_.wait_for(lock, 5s, [this] { return released_; });
      res.status = 200;
    });
    server_.Post("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/hook", 307);
    });
    server_.Post("/loop", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/loop", 302);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only works once the server runs; the port already accepts connections.
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }

  void TearDown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::unique_ptr<WebhookSink> MakeSink(const std::string& path, std::string secret = "",
                                        double timeout_seconds = 5) {
    auto sink = WebhookSink::Create({Url(path), std::move(secret), timeout_seconds, "", nullptr},
                                    &TestClient());
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return sink.ok() ? std::move(sink).value() : nullptr;
  }

  std::vector<Received> TakeReceived() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(received_);
  }

  static nlohmann::json Event() {
    return {
        {"specversion", "1.0"},
        {"id", "7d9c3a52-0000-4000-8000-000000000001"},
        {"source", "vidgate://test"},
        {"type", "vidgate.video.processed"},
        {"time", "2026-01-01T00:00:00.000Z"},
        {"subject", "clip \"one\".mp4"},
        {"data",
         {{"video_id", "v1"},
          {"name", "clip \"one\".mp4"},
          {"state", "processed"},
          {"attempts", 1}}},
    };
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Received> received_;
  int status_ = 200;
  std::string reply_;
  bool released_ = false;
  std::condition_variable released_cv_;
};

TEST_F(WebhookSinkTest, DeliversBodyContentTypeAndEventId) {
  auto sink = MakeSink("/hook");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->id(), "webhook:" + Url("/hook"));
  Status s = sink->Deliver(Event());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto got = TakeReceived();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, Event().dump());
  EXPECT_EQ(got[0].content_type, "application/cloudevents+json; charset=utf-8");
  EXPECT_EQ(got[0].event_id, "7d9c3a52-0000-4000-8000-000000000001");
}

TEST_F(WebhookSinkTest, SignsBodyWhenSecretIsSet) {
  auto sink = MakeSink("/hook", "s3cr3t");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->id().find("s3cr3t"), std::string::npos);
  ASSERT_TRUE(sink->Deliver(Event()).ok());
  auto got = TakeReceived();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].signature.has_value());
  EXPECT_EQ(*got[0].signature, "sha256=" + HmacSha256Hex("s3cr3t", got[0].body));
}

TEST_F(WebhookSinkTest, NoSignatureWithoutSecret) {
  auto sink = MakeSink("/hook");
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Deliver(Event()).ok());
  auto got = TakeReceived();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].signature.has_value());
}

TEST_F(WebhookSinkTest, ServerErrorIsUnavailable) {
  status_ = 500;
  reply_ = "database\ndown";
  auto sink = MakeSink("/hook", "s3cr3t");
  ASSERT_NE(sink, nullptr);
  Status s = sink->Deliver(Event());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "webhook " + Url("/hook") + " answered HTTP 500: database down");
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos);
}

TEST_F(WebhookSinkTest, ClientErrorIsRetryable) {
  status_ = 404;
  auto sink = MakeSink("/hook");
  ASSERT_NE(sink, nullptr);
  Status s = sink->Deliver(Event());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 404"), std::string::npos) << s.message();
}

// A signed body goes to the configured URL and nowhere else: a redirect is
// a failed try, and the place it points to never sees the body.
TEST_F(WebhookSinkTest, NeverFollowsARedirect) {
  auto sink = MakeSink("/moved", "k");
  ASSERT_NE(sink, nullptr);
  Status s = sink->Deliver(Event());
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 307"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not followed"), std::string::npos) << s.message();
  EXPECT_TRUE(TakeReceived().empty());
}

TEST_F(WebhookSinkTest, SignsAsStandardWebhooks) {
  FakeClock clock(1767225600.75);
  const std::string raw_key = std::string("\x01\x02secret\xff", 9);
  for (const std::string& secret :
       {std::string("plain-secret"), "whsec_" + Base64Encode(raw_key)}) {
    auto sink = WebhookSink::Create({Url("/hook"), secret, 5, "", &clock}, &TestClient());
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Deliver(Event()).ok());
    auto got = TakeReceived();
    ASSERT_EQ(got.size(), 1u);
    const std::string key = secret.starts_with("whsec_") ? raw_key : secret;
    EXPECT_EQ(got[0].webhook_id, Event()["id"].get<std::string>());
    EXPECT_EQ(got[0].webhook_timestamp, "1767225600");
    EXPECT_EQ(
        got[0].webhook_signature,
        "v1," + Base64Encode(HmacSha256(key, *got[0].webhook_id + ".1767225600." + got[0].body)));
    // The old header stays for existing receivers: HMAC of the body with the
    // secret as given.
    EXPECT_EQ(got[0].signature, "sha256=" + HmacSha256Hex(secret, got[0].body));
  }
  EXPECT_EQ(WebhookSink::Create({Url("/hook"), "whsec_!!!", 5, "", &clock}, &TestClient())
                .status()
                .code(),
            Code::kInvalidArgument);
}

TEST_F(WebhookSinkTest, RedirectLoopIsUnavailable) {
  auto sink = MakeSink("/loop");
  ASSERT_NE(sink, nullptr);
  Status s = sink->Deliver(Event());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find(Url("/loop")), std::string::npos) << s.message();
}

TEST_F(WebhookSinkTest, SlowServerIsDeadlineExceeded) {
  auto sink = MakeSink("/slow", "", 0.3);
  ASSERT_NE(sink, nullptr);
  auto start = std::chrono::steady_clock::now();
  Status s = sink->Deliver(Event());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find(Url("/slow")), std::string::npos) << s.message();
  EXPECT_LT(elapsed, 2s);
}

TEST_F(WebhookSinkTest, EventWithoutIdIsInvalidArgument) {
  auto sink = MakeSink("/hook");
  ASSERT_NE(sink, nullptr);
  nlohmann::json event = Event();
  event.erase("id");
  EXPECT_EQ(sink->Deliver(event).code(), Code::kInvalidArgument);
  EXPECT_EQ(sink->Deliver(nlohmann::json::array()).code(), Code::kInvalidArgument);
  EXPECT_TRUE(TakeReceived().empty());
}

TEST(WebhookSinkConnectTest, ConnectionRefusedIsUnavailable) {
  // A socket bound but not listening: connecting to its port is refused, and
  // nothing else can take the port while it stays bound.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hook";

  auto sink = WebhookSink::Create({url, "s3cr3t", 2, "", nullptr}, &TestClient());
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  Status s = (*sink)->Deliver({{"id", "x"}});
  close(fd);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(url), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos);
}

TEST(WebhookSinkCreateTest, RejectsBadOptions) {
  EXPECT_EQ(WebhookSink::Create({"not a url", "", 10, "", nullptr}, &TestClient()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(WebhookSink::Create({"ftp://example.com/x", "", 10, "", nullptr}, &TestClient())
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(WebhookSink::Create({"", "", 10, "", nullptr}, &TestClient()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(WebhookSink::Create({"http://example.com/x", "", 0, "", nullptr}, &TestClient())
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(WebhookSink::Create({"http://example.com/x", "", -1, "", nullptr}, &TestClient())
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(
      WebhookSink::Create({"https://example.com/x", "", 10, "", nullptr}, &TestClient()).ok());
}

TEST(WebhookSinkCreateTest, IdHidesEverySecretAUrlCarries) {
  auto sink = WebhookSink::Create(
      {"https://user:pa55@example.com/hook?token=t0k3n#f", "", 10, "", nullptr}, &TestClient());
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->id(), "webhook:https://***@example.com/hook?token=***#***");
  // A bad URL's error does not show the token either.
  auto bad =
      WebhookSink::Create({"http://exa mple.com/?token=t0k3n", "", 10, "", nullptr}, &TestClient());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("t0k3n"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace vidgate::notify
