#include "net/http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace vidgate::net {
namespace {

// A real HTTP server on a free loopback port.
class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Thing", "  a value  ");
      res.set_content("hello", "text/plain");
    });
    server_.Put("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      last_ = req;
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      last_ = req;
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/hello");
    });
    // Answers after 30 s, or when the test ends: a client that does not
    // give up on its own waits that long.
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(slow_mu_);
      slow_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return slow_released_; });
      res.set_content("late", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100000, 'x'), "text/plain");
    });
    server_.Get("/port", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ports_.insert(req.remote_port);
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost, and join() would wait forever.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    {
      std::lock_guard lock(slow_mu_);
      slow_released_ = true;
    }
    slow_cv_.notify_all();
    client_.reset();  // closes its kept-alive connections, or stop() waits them out
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  CurlGlobal curl_;
  std::unique_ptr<Client> client_ = std::make_unique<Client>();
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::mutex slow_mu_;
  std::condition_variable slow_cv_;
  bool slow_released_ = false;
  httplib::Request last_;
  std::set<int> ports_;
};

TEST_F(HttpTest, GetGivesStatusHeadersAndBody) {
  Request r;
  r.url = Url("/hello");
  auto got = client_->Send(r);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->HeaderValue("x-thing"), "a value");
  EXPECT_EQ(got->HeaderValue("X-THING"), "a value");
  EXPECT_EQ(got->HeaderValue("absent"), "");
}

TEST_F(HttpTest, BodiesGoWithContentLengthNeverChunked) {
  const std::string payload(300000, 'p');
  Request r;
  r.method = "PUT";
  r.url = Url("/echo");
  size_t offset = 0;
  r.read_body = [&](char* buf, size_t size) -> Result<size_t> {
    size_t n = std::min(size, payload.size() - offset);
    std::copy_n(payload.data() + offset, n, buf);
    offset += n;
    return n;
  };
  r.body_size = static_cast<int64_t>(payload.size());
  auto got = client_->Send(r);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200);
  std::lock_guard lock(mu_);
  EXPECT_EQ(last_.body, payload);
  EXPECT_EQ(last_.get_header_value("Content-Length"), std::to_string(payload.size()));
  EXPECT_FALSE(last_.has_header("Transfer-Encoding"));
  EXPECT_FALSE(last_.has_header("Expect"));
}

TEST_F(HttpTest, AnEmptyPostSaysContentLengthZero) {
  Request r;
  r.method = "POST";
  r.url = Url("/echo");
  r.headers = {{"X-Evil", "one\r\nInjected: two"}};
  auto got = client_->Send(r);
  ASSERT_TRUE(got.ok()) << got.status().message();
  std::lock_guard lock(mu_);
  EXPECT_EQ(last_.get_header_value("Content-Length"), "0");
  EXPECT_FALSE(last_.has_header("Injected")) << "a header value made a second header";
}

TEST_F(HttpTest, RedirectsAreAnswersNotFollowed) {
  Request r;
  r.url = Url("/moved");
  auto got = client_->Send(r);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 302);
  EXPECT_NE(got->body, "hello");
}

TEST_F(HttpTest, TimeOutIsDeadlineExceeded) {
  Request r;
  r.url = Url("/slow");
  r.timeout_seconds = 0.3;
  auto got = client_->Send(r);
  EXPECT_EQ(got.status().code(), Code::kDeadlineExceeded) << got.status().message();
}

TEST_F(HttpTest, CancelCutsARequestShort) {
  std::atomic<bool> cancel{false};
  Request r;
  r.url = Url("/slow");
  r.cancel = &cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = client_->Send(r);
  stopper.join();
  EXPECT_EQ(got.status().code(), Code::kCancelled);
  // curl looks at the flag about once a second while nothing moves; the
  // server would answer after 30 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
}

TEST_F(HttpTest, NoServerIsUnavailableAndSecretsStayHidden) {
  client_.reset();
  server_.stop();
  thread_.join();
  Client fresh;
  Request r;
  r.url = "http://user:hunter2@127.0.0.1:" + std::to_string(port_) + "/x?token=s3cr3t";
  auto got = fresh.Send(r);
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_EQ(got.status().message().find("hunter2"), std::string::npos) << got.status().message();
  EXPECT_EQ(got.status().message().find("s3cr3t"), std::string::npos) << got.status().message();
}

TEST_F(HttpTest, BodiesAreStreamedOrCappedNeverUnbounded) {
  Request r;
  r.url = Url("/big");
  r.max_body_bytes = 1000;
  auto capped = client_->Send(r);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->body.size(), 1000u);
  EXPECT_TRUE(capped->body_truncated);

  size_t streamed = 0;
  r.write_body = [&](std::string_view piece) {
    streamed += piece.size();
    return Status();
  };
  auto whole = client_->Send(r);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(streamed, 100000u);
  EXPECT_TRUE(whole->body.empty());

  r.write_body = [](std::string_view) { return ResourceExhausted("disk full"); };
  auto failed = client_->Send(r);
  EXPECT_EQ(failed.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(failed.status().message(), "disk full");
}

TEST_F(HttpTest, ConnectionsAreReused) {
  Request r;
  r.url = Url("/port");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->Send(r).ok());
  std::lock_guard lock(mu_);
  EXPECT_EQ(ports_.size(), 1u) << "every request opened a connection";
}

TEST(RetryTest, TransientFailuresAreTriedAgainWithGrowingCappedWaits) {
  int calls = 0;
  std::vector<double> waits;
  RetryPolicy p;
  p.max_tries = 5;
  p.base_seconds = 1;
  p.max_seconds = 3;
  Status s = Retry(
      p,
      [&] {
        ++calls;
        return Unavailable("down");
      },
      [&](double w) { waits.push_back(w); });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 5);
  ASSERT_EQ(waits.size(), 4u);
  const double caps[] = {1, 2, 3, 3};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], 0);
    EXPECT_LE(waits[i], caps[i]);
  }
}

TEST(RetryTest, LastingFailuresAndSuccessStopAtOnce) {
  int calls = 0;
  auto no_sleep = [](double) {};
  EXPECT_EQ(Retry(
                {}, [&] { return ++calls, PermissionDenied("no"); }, no_sleep)
                .code(),
            Code::kPermissionDenied);
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_TRUE(Retry(
                  {}, [&] { return ++calls < 2 ? Unavailable("x") : Status(); }, no_sleep)
                  .ok());
  EXPECT_EQ(calls, 2);
}

TEST(HttpStatusTest, MapsToTheRetryPolicysCodes) {
  EXPECT_EQ(HttpStatus(403, "m").code(), Code::kPermissionDenied);
  EXPECT_EQ(HttpStatus(404, "m").code(), Code::kNotFound);
  EXPECT_EQ(HttpStatus(412, "m").code(), Code::kFailedPrecondition);
  EXPECT_EQ(HttpStatus(400, "m").code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpStatus(503, "m").code(), Code::kUnavailable);
  EXPECT_EQ(HttpStatus(429, "m").code(), Code::kUnavailable);
  EXPECT_EQ(HttpStatus(503, "m").message(), "m");
}

}  // namespace
}  // namespace vidgate::net
