// The server over real loopback sockets: the health endpoints (all well,
// intake stuck, the store failing), who may call what (token, Host, Origin),
// the listen addresses refused, and the API's reads.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/document.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/util.h"
#include "server/internal/http_util.h"
#include "storage/testing/error_store.h"

namespace vidgate::server {
namespace {

using nlohmann::json;

// A TCP connection to the port of `url` on 127.0.0.1; -1 if refused.
int ConnectTo(const std::string& url) {
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class HttpServerTest : public ::testing::Test {
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
  ServerDeps Deps() {
    return ServerDeps{catalog_.get(), store_.get(), log_.get(), &clock_,
                      [this] { return since_turn_.load(); }};
  }
  void Serve(const std::string& listen = "127.0.0.1:0", const std::string& token = "",
             double io_timeout_seconds = 30) {
    ServerOptions o;
    o.io_timeout_seconds = io_timeout_seconds;
    o.listen = listen;
    o.token = token;
    o.stall_seconds = 60;
    o.max_upload_bytes = 100000;
    o.required_metadata = {"title"};
    o.upload_id_wait_seconds = 0.2;  // no intake here
    server_ = std::make_unique<HttpServer>(Deps(), o);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  // The port alone: a server on 0.0.0.0 is reached on 127.0.0.1.
  std::string Url() {
    const std::string a = server_->address();
    return "http://127.0.0.1:" + a.substr(a.rfind(':') + 1);
  }
  std::pair<int, json> Get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client client(Url());
    auto res = client.Get(path.c_str(), headers);
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> Post(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client client(Url());
    auto res = client.Post(path.c_str(), headers, "", "application/json");
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::string RawGet(const std::string& path) { return Raw("GET", path); }
  // The whole answer to a request sent as written (`headers`: lines ending
  // in CRLF), as it came over the socket.
  // With `keep_alive` the request asks to keep the connection: the answer
  // is then whatever came before the server closed it.
  std::string Raw(const std::string& method, const std::string& path,
                  const std::string& headers = "", const std::string& body = "",
                  bool keep_alive = false) {
    const int fd = ConnectTo(Url());
    if (fd < 0) return "";
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                (keep_alive ? "" : "Connection: close\r\n") + headers + "\r\n" +
                                body;
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      ::close(fd);
      return "";
    }
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }
  int64_t Register(const std::string& name, catalog::State state = catalog::State::kQueued) {
    auto id = catalog_->Register(
        catalog::NewVideo{name, "uploads/" + name + ".mp4", state, clock_.Now()}, {});
    EXPECT_TRUE(id.ok() && id->has_value());
    clock_.Advance(1);
    return id.ok() && id->has_value() ? **id : 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::Store> memory_;
  std::unique_ptr<storage::ErrorStore> store_;
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
  std::atomic<double> since_turn_{-1};
  FakeClock clock_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthyAndReadyOnceIntakeTurns) {
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

TEST_F(HttpServerTest, AStuckIntakeLoopIsUnhealthy) {
  Serve();
  since_turn_ = 61;
  auto [status, body] = Get("/healthz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["status"], "stalled");
  EXPECT_EQ(body["message"], "the intake loop has not turned for 61 s");
  EXPECT_EQ(Get("/readyz").second["checks"]["intake"], "stalled");
}

TEST_F(HttpServerTest, AFailingStoreIsNotReadyAndSaysWhy) {
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

TEST_F(HttpServerTest, UnknownPathsAreJsonErrors) {
  Serve();
  auto [status, body] = Get("/nothing/here");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["code"], "not_found");
  EXPECT_EQ(body["error"]["message"], "no such path: /nothing/here");
}

TEST_F(HttpServerTest, ListenAddressesThatAreRefused) {
  for (const std::string bad : {"8080", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":80"}) {
    ServerOptions o;
    o.listen = bad;
    HttpServer s(Deps(), o);
    Status started = s.Start();
    EXPECT_EQ(started.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(started.message().find("server.listen '" + bad + "'"), std::string::npos)
        << started.message();
  }
  ServerOptions open;
  open.listen = "0.0.0.0:0";
  HttpServer everyone(Deps(), open);
  Status refused = everyone.Start();
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("not a loopback address and server.token is not set"),
            std::string::npos)
      << refused.message();
  // A token a client could not send as it is.
  for (const std::string token : {"50%off", "two words", "tab\there", "caf\xC3\xA9"}) {
    ServerOptions odd;
    odd.listen = "127.0.0.1:0";
    odd.token = token;
    HttpServer s(Deps(), odd);
    Status started = s.Start();
    EXPECT_EQ(started.code(), Code::kInvalidArgument) << token;
    EXPECT_NE(started.message().find("server.token"), std::string::npos) << started.message();
  }
  // A port in use, by another vidgate say: a sentence, not a shared port.
  Serve();
  ServerOptions same;
  same.listen = server_->address();
  HttpServer second(Deps(), same);
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

TEST_F(HttpServerTest, WithATokenChangesAlwaysNeedItAndReadsNeedItOffLoopback) {
  Serve("127.0.0.1:0", "s3cret-token");
  // Reads on loopback are open; health is always open.
  EXPECT_EQ(Get("/api/videos").first, 200);
  EXPECT_EQ(Get("/healthz").first, 200);
  // A change without the token: 401 with a challenge; with another: 403.
  auto [status, body] = Post("/api/videos/1/retry");
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"]["code"], "unauthorized");
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Authorization", "Bearer wrong"}}).first, 403);
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Authorization", "Basic czNjcmV0"}}).first, 401);
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Authorization", "Bearer s3cret-token-and-more"}}).first,
            403);
  // The right token passes the gate (there is no such route yet, or video).
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Authorization", "Bearer s3cret-token"}}).first, 404);

  // Off loopback, reads need the token as well.
  Serve("0.0.0.0:0", "s3cret-token");
  EXPECT_EQ(Get("/api/videos").first, 401);
  EXPECT_EQ(Get("/metrics").first, 401);
  EXPECT_EQ(Get("/api/videos", {{"Authorization", "Bearer nope"}}).first, 403);
  EXPECT_EQ(Get("/api/videos", {{"Authorization", "Bearer s3cret-token"}}).first, 200);
  EXPECT_EQ(Get("/healthz").first, 200);
  // A wrong token is told apart from a store's refusal (403 forbidden).
  EXPECT_EQ(Get("/api/videos", {{"Authorization", "Bearer nope"}}).second["error"]["code"],
            "bad_token");
}

TEST_F(HttpServerTest, TheDashboardsSessionCookieOpensReadsOnly) {
  Serve("0.0.0.0:0", "s3cret-token");
  httplib::Client client(Url());
  // Set with the token only; HttpOnly, and not the token itself.
  EXPECT_EQ(client.Post("/api/session")->status, 401);
  auto opened =
      client.Post("/api/session", {{"Authorization", "Bearer s3cret-token"}}, "", "text/plain");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->status, 204);
  const std::string set = opened->get_header_value("Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_NE(set.find("Path=/api/"), std::string::npos) << set;
  EXPECT_EQ(set.find("s3cret-token"), std::string::npos) << set;
  const std::string cookie = set.substr(0, set.find(';'));
  // Reads of /api/ take it (pictures, the player); a change, /metrics and a
  // forged value do not.
  EXPECT_EQ(Get("/api/videos", {{"Cookie", "theme=dark; " + cookie}}).first, 200);
  EXPECT_EQ(Get("/api/videos", {{"Cookie", "vidgate_read=0123"}}).first, 403);
  EXPECT_EQ(Get("/api/videos", {{"Cookie", "vidgate_token=s3cret-token"}}).first, 401);
  EXPECT_EQ(Get("/metrics", {{"Cookie", cookie}}).first, 401);
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Cookie", cookie}}).first, 401);
  // Anyone may forget it.
  auto closed = client.Delete("/api/session");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 204);
  EXPECT_NE(closed->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(HttpServerTest, ARefusedCallsBodyIsNeverReadAsTheNextRequest) {
  Serve("127.0.0.1:0", "s3cret-token");
  // A refused call whose body looks like another request: the answer is
  // the refusal alone, and the connection is closed after it.
  const std::string smuggled = "GET /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  const std::string answer =
      Raw("POST", "/api/videos/1/retry",
          "Content-Type: text/plain\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n",
          smuggled, /*keep_alive=*/true);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "closed at once";
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 401")) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  // Chunked bodies and large ones, on any method but an upload: refused.
  EXPECT_TRUE(
      Raw("DELETE", "/api/videos/1", "Transfer-Encoding: chunked\r\n").starts_with("HTTP/1.1 413"));
  EXPECT_TRUE(
      Raw("PUT", "/api/videos/1", "Content-Length: 99999999\r\n").starts_with("HTTP/1.1 413"));
}

TEST_F(HttpServerTest, TheDashboardIsServedFromTheBinaryWithoutTheToken) {
  // Off loopback with a token: the page and its files hold no data, so a
  // browser loads them; the API they read still asks for the token.
  Serve("0.0.0.0:0", "s3cret-token");
  httplib::Client client(Url());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script type=\"module\""), std::string::npos) << page->body;
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  auto app = client.Get("/assets/app.js");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_EQ(app->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto again = client.Get("/assets/app.js", {{"If-None-Match", app->get_header_value("ETag")}});
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(client.Get("/assets/vendor/preact.module.js")->status, 200);
  for (const char* outside : {"/assets/../CMakeLists.txt", "/assets/%2e%2e/README.md",
                              "/assets/index.html%00.js", "/assets/nothing.js", "/assets/"}) {
    auto r = client.Get(outside);
    ASSERT_TRUE(r) << outside;
    EXPECT_EQ(r->status, 404) << outside;
  }
  EXPECT_EQ(Get("/api/videos").first, 401);
}

TEST_F(HttpServerTest, OnLoopbackWithoutATokenOtherSitesAreRefused) {
  Serve();
  // A page whose name was rebound to 127.0.0.1 sends its own Host.
  auto [status, body] = Get("/api/videos", {{"Host", "attacker.example"}});
  EXPECT_EQ(status, 403);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("Host header"), std::string::npos);
  EXPECT_EQ(Get("/api/videos", {{"Host", "localhost:8080"}}).first, 200);
  EXPECT_EQ(Get("/healthz", {{"Host", "attacker.example"}}).first, 200) << "probes are open";
  // Another site's page may not change anything through the browser.
  const std::string host = "127.0.0.1:" + Url().substr(Url().rfind(':') + 1);
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Origin", "https://attacker.example"}}).first, 403);
  // This server's own page may; so may a client that sends no Origin.
  EXPECT_EQ(Post("/api/videos/1/retry", {{"Origin", "http://" + host}}).first, 404);
  EXPECT_EQ(Post("/api/videos/1/retry").first, 404);
}

TEST_F(HttpServerTest, VideoListPagesNewestFirstFiltersAndSearches) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Register("clip" + std::to_string(i)));
  Serve();
  auto [status, page] = Get("/api/videos?limit=2");
  ASSERT_EQ(status, 200) << page.dump();
  ASSERT_EQ(page["videos"].size(), 2u);
  EXPECT_EQ(page["videos"][0]["id"], ids[4]);
  EXPECT_EQ(page["videos"][0]["name"], "clip4");
  EXPECT_EQ(page["videos"][0]["state"], "queued");
  std::vector<int64_t> seen;
  std::string cursor = page["next_cursor"];
  for (const auto& v : page["videos"]) seen.push_back(v["id"]);
  while (true) {
    auto [st, next] = Get("/api/videos?limit=2&cursor=" + cursor);
    ASSERT_EQ(st, 200);
    for (const auto& v : next["videos"]) seen.push_back(v["id"]);
    if (next["next_cursor"].is_null()) break;
    cursor = next["next_cursor"];
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_EQ(Get("/api/videos?q=clip3").second["videos"].size(), 1u);
  EXPECT_EQ(Get("/api/videos?state=processed").second["videos"].size(), 0u);
  EXPECT_EQ(Get("/api/videos?state=queued").second["videos"].size(), 5u);
  // Bad parameters are named.
  for (const std::string bad :
       {"state=done", "limit=0", "limit=501", "limit=x", "cursor=-3", "cursor=abc"}) {
    auto [st, err] = Get("/api/videos?" + bad);
    EXPECT_EQ(st, 400) << bad;
    EXPECT_EQ(err["error"]["code"], "bad_request") << bad;
    EXPECT_NE(err["error"]["message"].get<std::string>().find(bad.substr(0, bad.find('='))),
              std::string::npos)
        << err.dump();
  }
}

TEST_F(HttpServerTest, OneVideoIsTheShowDocument) {
  const int64_t id = Register("clip");
  catalog::VideoChange c;
  c.video_id = id;
  c.now = clock_.Now();
  c.metadata = json{{"title", "Clip"}};
  c.outputs.push_back(
      catalog::Output{"processed/clip/renditions/main.mp4", 10, "h264", 64, 36, 1, ""});
  ASSERT_TRUE(catalog_->Apply(c).ok());
  Serve();
  auto [status, doc] = Get("/api/videos/" + std::to_string(id));
  ASSERT_EQ(status, 200) << doc.dump();
  auto expected = catalog::VideoDocument(*catalog_, *catalog_->GetVideo(id));
  EXPECT_EQ(doc, *expected);
  EXPECT_EQ(doc["metadata"]["title"], "Clip");
  EXPECT_EQ(doc["outputs"][0]["codec"], "h264");
  for (const std::string missing : {"999", "0", "abc", "-1", "1%2F..%2F"}) {
    auto [st, err] = Get("/api/videos/" + missing);
    EXPECT_EQ(st, 404) << missing;
    EXPECT_EQ(err["error"]["code"], "not_found") << missing;
  }
}

TEST_F(HttpServerTest, StatsCountTheFleet) {
  Register("a");
  Register("b", catalog::State::kAwaitingMetadata);
  Serve();
  auto [status, stats] = Get("/api/stats");
  ASSERT_EQ(status, 200) << stats.dump();
  EXPECT_EQ(stats["videos"]["queued"], 1);
  EXPECT_EQ(stats["videos"]["awaiting_metadata"], 1);
  EXPECT_EQ(stats["videos"]["processed"], 0);
  EXPECT_EQ(stats["total"], 2);
  EXPECT_EQ(stats["last_hour"]["failure_ratio"], 0.0);
  EXPECT_DOUBLE_EQ(stats["oldest_queued_seconds"].get<double>(), 2.0);
}

TEST_F(HttpServerTest, ACallWithoutABodyOrWithAHugeOneIsAnsweredAtOnce) {
  Serve();
  // `curl -X POST URL` sends neither Content-Length nor a body: httplib
  // waited 5 s for one and answered 400.
  const auto start = std::chrono::steady_clock::now();
  const std::string answer = Raw("POST", "/api/videos/999/retry");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 404")) << answer;
  // Only an upload is large: a call announcing more is refused before its
  // body is read.
  const std::string huge = Raw("POST", "/api/videos/999/retry", "Content-Length: 100000000\r\n");
  EXPECT_TRUE(huge.starts_with("HTTP/1.1 413")) << huge;
  EXPECT_NE(huge.find("\"too_large\""), std::string::npos) << huge;
  // A malformed Range (refused before any route) still gets a JSON error.
  const std::string range = Raw("GET", "/api/videos/1/original", "Range: bytes=20-10\r\n");
  EXPECT_TRUE(range.starts_with("HTTP/1.1 416")) << range;
  EXPECT_NE(range.find("\"range_not_satisfiable\""), std::string::npos) << range;
}

// A socket to the server that sent `bytes` and then nothing more; -1 if it
// could not connect.
int Stalled(const std::string& url, const std::string& bytes) {
  const int fd = ConnectTo(url);
  if (fd >= 0 && ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True once the server closed `fd` (a read sees the end) before `deadline`;
// whatever the server answers first (a 400) is read and dropped.
bool ClosedBy(int fd, std::chrono::steady_clock::time_point deadline) {
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

TEST_F(HttpServerTest, StalledClientsHoldNobodyElseUpAndAreCutOff) {
  Register("clip");
  Serve("127.0.0.1:0", "", /*io_timeout_seconds=*/1);
  // Half a request line, headers without their end, an upload that stops.
  std::vector<int> stalled;
  for (int i = 0; i < 10; ++i) {
    stalled.push_back(Stalled(Url(), "GET /api/vid"));
    stalled.push_back(Stalled(Url(), "GET /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  stalled.push_back(Stalled(Url(),
                            "POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Type: video/mp4\r\nX-Vidgate-Filename: a.mp4\r\n"
                            "X-Vidgate-Metadata: {\"title\":\"a\"}\r\n"
                            "Content-Length: 90000\r\n\r\nonly the start"));
  for (int fd : stalled) ASSERT_GE(fd, 0);
  // Everyone else is answered at once meanwhile.
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(Get("/api/videos").first, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  // And the stalled ones are cut off after the time-out (1 s), not kept
  // forever: not even a client that got its 400 for headers without an end
  // is then held for httplib's 5 s keep-alive wait.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(3500);
  for (size_t i = 0; i < stalled.size(); ++i) {
    EXPECT_TRUE(ClosedBy(stalled[i], deadline)) << "stalled client " << i;
    ::close(stalled[i]);
  }
  // The cut upload left nothing behind.
  auto uploads = memory_->List("uploads/");
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->empty());
}

TEST_F(HttpServerTest, TwoHundredConcurrentRequestsAreAllAnswered) {
  for (int i = 0; i < 30; ++i) Register("v" + std::to_string(i));
  Serve();
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::mutex mu;
  std::vector<std::thread> clients;
  const char* paths[] = {"/api/videos", "/api/stats", "/api/videos/1", "/healthz", "/api/alarms"};
  for (int i = 0; i < 200; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client client(Url());
      client.set_connection_timeout(10, 0);
      client.set_read_timeout(10, 0);
      const std::string path = paths[i % 5];
      auto res = client.Get(path.c_str());
      if (res && res->status == 200) {
        ++ok;
      } else {
        std::lock_guard lock(mu);
        failures.push_back(path + ": " +
                           (res ? std::to_string(res->status) : httplib::to_string(res.error())));
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 200) << ::testing::PrintToString(failures);
}

TEST(HttpErrorTest, EveryStatusCodeHasItsAnswer) {
  EXPECT_EQ(internal::HttpStatusOf(InvalidArgument("x")), 400);
  EXPECT_EQ(internal::HttpStatusOf(NotFound("x")), 404);
  EXPECT_EQ(internal::HttpStatusOf(FailedPrecondition("x")), 409);
  // A full disk or a database out of connections is no client's fault.
  EXPECT_EQ(internal::HttpStatusOf(ResourceExhausted("too many connections")), 503);
  EXPECT_EQ(internal::ErrorCodeOf(ResourceExhausted("x")), "unavailable");
  EXPECT_EQ(internal::HttpStatusOf(DeadlineExceeded("x")), 504);
  EXPECT_EQ(internal::HttpStatusOf(Internal("x")), 500);
}

TEST_F(HttpServerTest, FilesStreamWithTypesTagsAndRanges) {
  const int64_t id = Register("clip");
  std::string movie;
  for (int i = 0; i < 3'000'000; ++i) movie.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(memory_->Write("processed/clip/vidgate/renditions/main.mp4", movie).ok());
  ASSERT_TRUE(memory_->Write("processed/clip/vidgate/thumbnails/poster.jpg", "JPEG").ok());
  ASSERT_TRUE(memory_->Write("processed/clip/vidgate/thumbnails/0002.jpg", "JPEG2").ok());
  ASSERT_TRUE(memory_->Write("processed/clip/vidgate/hls/main/00001.m4s", "SEG").ok());
  ASSERT_TRUE(memory_->Write("processed/clip/clip one.mp4", "ORIGINAL").ok());
  ASSERT_TRUE(memory_->Write("processed/secret.txt", "SECRET").ok());
  catalog::VideoChange filed;
  filed.video_id = id;
  filed.now = clock_.Now();
  filed.state = catalog::State::kProcessed;
  filed.job = catalog::VideoChange::Job::kRemove;
  filed.location = "processed/clip";
  filed.current_key = "processed/clip/clip one.mp4";
  ASSERT_TRUE(catalog_->Apply(filed).ok());
  Serve();
  httplib::Client client(Url());
  const std::string base = "/api/videos/" + std::to_string(id);

  auto whole = client.Get((base + "/outputs/renditions/main.mp4").c_str());
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, movie);
  EXPECT_EQ(whole->get_header_value("Content-Type"), "video/mp4");
  EXPECT_EQ(whole->get_header_value("Content-Length"), std::to_string(movie.size()));
  EXPECT_EQ(whole->get_header_value("Accept-Ranges"), "bytes");
  const std::string etag = whole->get_header_value("ETag");
  EXPECT_FALSE(etag.empty());

  auto part = client.Get((base + "/outputs/renditions/main.mp4").c_str(),
                         {{"Range", "bytes=1000000-1000099"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, movie.substr(1000000, 100));
  EXPECT_EQ(part->get_header_value("Content-Range"), "bytes 1000000-1000099/3000000");
  auto tail = client.Get((base + "/outputs/renditions/main.mp4").c_str(), {{"Range", "bytes=-10"}});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, movie.substr(movie.size() - 10));
  // A range that runs past the end is cut at the end (RFC 9110).
  auto past = client.Get((base + "/outputs/renditions/main.mp4").c_str(),
                         {{"Range", "bytes=2999990-3999999"}});
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 206);
  EXPECT_EQ(past->body, movie.substr(2999990));
  EXPECT_EQ(past->get_header_value("Content-Range"), "bytes 2999990-2999999/3000000");
  for (const std::string unsatisfiable : {"bytes=5000000-5000001", "bytes=3000000-", "bytes=-0"}) {
    auto beyond =
        client.Get((base + "/outputs/renditions/main.mp4").c_str(), {{"Range", unsatisfiable}});
    ASSERT_TRUE(beyond) << unsatisfiable;
    EXPECT_EQ(beyond->status, 416) << unsatisfiable;
    EXPECT_EQ(beyond->get_header_value("Content-Range"), "bytes */3000000") << unsatisfiable;
    EXPECT_EQ(beyond->get_header_value_count("Content-Range"), 1u) << unsatisfiable;
    EXPECT_EQ(nlohmann::json::parse(beyond->body)["error"]["code"], "range_not_satisfiable");
  }
  // Several ranges: the whole object (httplib framed them wrongly).
  auto several = client.Get((base + "/outputs/renditions/main.mp4").c_str(),
                            {{"Range", "bytes=2999000-,0-599"}});
  ASSERT_TRUE(several);
  EXPECT_EQ(several->status, 200);
  EXPECT_EQ(several->body, movie);
  EXPECT_EQ(several->get_header_value("X-Content-Type-Options"), "nosniff");
  // A suffix longer than the object is the whole object.
  auto longer =
      client.Get((base + "/outputs/renditions/main.mp4").c_str(), {{"Range", "bytes=-5000000"}});
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->status, 206);
  EXPECT_EQ(longer->body.size(), movie.size());
  EXPECT_EQ(longer->get_header_value("Content-Range"), "bytes 0-2999999/3000000");
  // A Range on anything else than a file is ignored: the document and an
  // error come whole (httplib would cut them too).
  auto document = client.Get(base.c_str(), {{"Range", "bytes=0-9"}});
  ASSERT_TRUE(document);
  EXPECT_EQ(document->status, 200);
  EXPECT_FALSE(document->has_header("Content-Range"));
  EXPECT_EQ(nlohmann::json::parse(document->body)["name"], "clip");
  auto missing =
      client.Get((base + "/outputs/renditions/none.mp4").c_str(), {{"Range", "bytes=5-9"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"]["code"], "not_found");
  // Malformed (httplib refuses it before the route).
  EXPECT_EQ(client.Get((base + "/outputs/renditions/main.mp4").c_str(), {{"Range", "bytes=20-10"}})
                ->status,
            416);

  auto cached =
      client.Get((base + "/outputs/renditions/main.mp4").c_str(), {{"If-None-Match", etag}});
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304);
  EXPECT_EQ(cached->body, "");

  auto poster = client.Get((base + "/poster").c_str());
  ASSERT_TRUE(poster);
  EXPECT_EQ(poster->status, 200);
  EXPECT_EQ(poster->body, "JPEG");
  EXPECT_EQ(poster->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(client.Get((base + "/thumbnails/2").c_str())->body, "JPEG2");
  EXPECT_EQ(client.Get((base + "/thumbnails/3").c_str())->status, 404);
  EXPECT_EQ(client.Get((base + "/sprite").c_str())->status, 404);  // none was made
  auto segment = client.Get((base + "/outputs/hls/main/00001.m4s").c_str());
  EXPECT_EQ(segment->get_header_value("Content-Type"), "video/iso.segment");

  auto original = client.Get((base + "/original").c_str());
  ASSERT_TRUE(original);
  EXPECT_EQ(original->body, "ORIGINAL");
  // On the wire the name is percent-encoded (httplib's client decodes
  // header values, so the raw answer is read here).
  const std::string raw = RawGet(base + "/original");
  EXPECT_NE(raw.find("Content-Disposition: inline; filename*=UTF-8''clip%20one.mp4\r\n"),
            std::string::npos)
      << raw;

  // Only plain paths inside the video's own folder.
  for (const std::string bad :
       {"/outputs/..%2F..%2Fsecret.txt", "/outputs/../../secret.txt", "/outputs//etc/passwd",
        "/outputs/renditions/%00main.mp4", "/outputs/renditions%5C..%5C..%5Csecret.txt",
        "/outputs/./renditions/main.mp4"}) {
    auto res = client.Get((base + bad).c_str());
    ASSERT_TRUE(res) << bad;
    EXPECT_TRUE(res->status == 400 || res->status == 404) << bad << ": " << res->status;
    EXPECT_EQ(res->body.find("SECRET"), std::string::npos) << bad;
    EXPECT_EQ(json::parse(res->body, nullptr, false)["error"].is_object(), true) << bad;
  }
  EXPECT_EQ(client.Get("/api/videos/999/poster")->status, 404);
  const int64_t waiting = Register("waiting");
  EXPECT_EQ(client.Get(("/api/videos/" + std::to_string(waiting) + "/poster").c_str())->status,
            404);
}

TEST_F(HttpServerTest, RetryRunsAWaitingVideoNowAndASetAsideOneAgain) {
  // Waiting for its retry in an hour.
  const int64_t waiting = Register("waiting");
  catalog::VideoChange wait;
  wait.video_id = waiting;
  wait.now = clock_.Now();
  wait.state = catalog::State::kRetryWait;
  wait.job = catalog::VideoChange::Job::kSchedule;
  wait.job_available_at = clock_.Now() + 3600;
  ASSERT_TRUE(catalog_->Apply(wait).ok());
  // Set aside, with its original, sidecar and report kept.
  auto set_aside = [&](const std::string& name) {
    const int64_t id = Register(name);
    const std::string folder = "unable_to_process/" + name;
    EXPECT_TRUE(memory_->Write(folder + "/" + name + ".mp4", "MOVIE").ok());
    EXPECT_TRUE(memory_->Write(folder + "/" + name + ".json", R"({"title":"T"})").ok());
    EXPECT_TRUE(memory_->Write(folder + "/vidgate/report.json", "{}").ok());
    catalog::VideoChange c;
    c.video_id = id;
    c.now = clock_.Now();
    c.state = catalog::State::kUnableToProcess;
    c.job = catalog::VideoChange::Job::kRemove;
    c.location = folder;
    c.current_key = folder + "/" + name + ".mp4";
    c.sidecar_key = folder + "/" + name + ".json";
    EXPECT_TRUE(catalog_->Apply(c).ok());
    clock_.Advance(10);
    return id;
  };
  const int64_t aside = set_aside("aside");
  const int64_t done = Register("done");
  catalog::VideoChange processed;
  processed.video_id = done;
  processed.now = clock_.Now();
  processed.state = catalog::State::kProcessed;
  processed.job = catalog::VideoChange::Job::kRemove;
  ASSERT_TRUE(catalog_->Apply(processed).ok());
  Serve();

  auto [status, body] = Post("/api/videos/" + std::to_string(waiting) + "/retry");
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["action"], "retry_now");
  EXPECT_EQ(catalog_->GetVideo(waiting)->state, catalog::State::kQueued);

  std::tie(status, body) = Post("/api/videos/" + std::to_string(aside) + "/retry");
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["action"], "rerun");
  EXPECT_EQ(body["key"], "uploads/aside.mp4");
  EXPECT_EQ(*memory_->Read("uploads/aside.mp4", 100), "MOVIE");
  EXPECT_TRUE(memory_->Stat("uploads/aside.json").ok());
  EXPECT_TRUE(memory_->List("unable_to_process/")->empty()) << "the old report went too";
  // Again: its folder was released, there is nothing left to run again.
  std::tie(status, body) = Post("/api/videos/" + std::to_string(aside) + "/retry");
  EXPECT_EQ(status, 409) << body.dump();

  std::tie(status, body) = Post("/api/videos/" + std::to_string(done) + "/retry");
  EXPECT_EQ(status, 409);
  EXPECT_EQ(body["error"]["code"], "conflict");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("done is processed"),
            std::string::npos);
  EXPECT_EQ(Post("/api/videos/424242/retry").first, 404);

  // In bulk: only what changed since the time given.
  const int64_t older = set_aside("older");
  const std::string since = FormatTime(clock_.Now());
  const int64_t newer = set_aside("newer");
  std::tie(status, body) = Post("/api/retry?state=unable_to_process&since=" + since);
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["queued"], 1);
  EXPECT_TRUE(body["failed"].empty());
  EXPECT_TRUE(memory_->Stat("uploads/newer.mp4").ok());
  EXPECT_FALSE(memory_->Stat("uploads/older.mp4").ok());
  EXPECT_EQ(catalog_->GetVideo(older)->location, "unable_to_process/older");
  EXPECT_EQ(catalog_->GetVideo(newer)->location, "");
  EXPECT_EQ(Post("/api/retry?state=processed").first, 400);
  EXPECT_EQ(Post("/api/retry").first, 400);
  EXPECT_EQ(Post("/api/retry?state=rejected&since=yesterday").first, 400);
}

TEST_F(HttpServerTest, UploadsLandInUploadsWithTheirSidecar) {
  Serve();
  httplib::Client client(Url());
  const std::string movie(50000, 'm');
  httplib::MultipartFormDataItems form = {
      {"file", movie, "clip one.mp4", "video/mp4"},
      {"metadata", R"({"title":"Clip One"})", "", "application/json"},
  };
  auto res = client.Post("/api/videos", form);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;  // no intake here to give it an id
  json body = json::parse(res->body);
  EXPECT_EQ(body["key"], "uploads/clip one.mp4");
  EXPECT_EQ(body["name"], "clip one");
  EXPECT_EQ(body["sidecar_key"], "uploads/clip one.json");
  EXPECT_TRUE(body["id"].is_null());
  EXPECT_EQ(*memory_->Read("uploads/clip one.mp4", 1 << 20), movie);
  EXPECT_EQ(*memory_->Read("uploads/clip one.json", 1 << 20), R"({"title":"Clip One"})");

  // The raw form: the video as the body, the rest in headers.
  res = client.Post(
      "/api/videos",
      {{"X-Vidgate-Filename", "raw%20%C3%A9.mov"}, {"X-Vidgate-Metadata", R"({"title":"Raw"})"}},
      "RAW", "video/quicktime");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(*memory_->Read("uploads/raw \xC3\xA9.mov", 100), "RAW");

  // A name taken: nothing is overwritten.
  res = client.Post("/api/videos", form);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_EQ(*memory_->Read("uploads/clip one.mp4", 1 << 20), movie);
}

TEST_F(HttpServerTest, BadUploadsAreRefusedAndLeaveNothing) {
  Serve();
  httplib::Client client(Url());
  auto post = [&](const httplib::MultipartFormDataItems& form) {
    auto res = client.Post("/api/videos", form);
    if (!res) return std::make_pair(-1, json());
    return std::make_pair(res->status, json::parse(res->body, nullptr, false));
  };
  auto item = [](const char* name, const std::string& content, const char* file = "") {
    return httplib::MultipartFormData{name, content, file, ""};
  };
  // Over server.max_upload_bytes (100000 here).
  auto [status, body] = post(
      {item("file", std::string(150000, 'x'), "big.mp4"), item("metadata", R"({"title":"Big"})")});
  EXPECT_TRUE(status == 413 || status == -1) << status << body.dump();
  // A required key missing, named.
  std::tie(status, body) = post({item("file", "v", "a.mp4"), item("metadata", R"({"x":1})")});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"]["code"], "invalid_metadata");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("title"), std::string::npos)
      << body.dump();
  std::tie(status, body) = post({item("file", "v", "a.mp4"), item("metadata", "{not json")});
  EXPECT_EQ(status, 400) << body.dump();
  std::tie(status, body) = post({item("file", "v", "a.mp4")});
  EXPECT_EQ(status, 422) << "no metadata: " << body.dump();
  std::tie(status, body) = post({item("metadata", R"({"title":"T"})")});
  EXPECT_EQ(status, 400) << "no file: " << body.dump();
  std::tie(status, body) =
      post({item("file", "v", "a.mp4"), item("metadata", R"({"title":"T"})"), item("extra", "?")});
  EXPECT_EQ(status, 400) << body.dump();
  // Names uploads/ would not take, or that would leave it.
  for (const std::string name :
       {"../escape.mp4", "a/b.mp4", ".hidden.mp4", "clip.json", "vidgate", "", "x.mp4.part"}) {
    std::tie(status, body) =
        post({item("file", "v", name.c_str()), item("metadata", R"({"title":"T"})")});
    EXPECT_EQ(status, 400) << "'" << name << "': " << body.dump();
  }
  // Neither multipart nor a video.
  auto res = client.Post("/api/videos", R"({"file":"x"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  // A declared length over the limit is refused before anything is read.
  res = client.Post("/api/videos", {{"X-Vidgate-Filename", "x.mp4"}}, std::string(200000, 'z'),
                    "video/mp4");
  EXPECT_TRUE(!res || res->status == 413);
  EXPECT_TRUE(memory_->List("uploads/")->empty()) << "nothing kept";
}

// Reads an event stream on a thread of its own until told to stop.
class EventReader {
 public:
  EventReader(const std::string& url, const httplib::Headers& headers) {
    thread_ = std::thread([this, url, headers] {
      httplib::Client client(url);
      client.set_read_timeout(5, 0);
      client.Get(
          "/api/events", headers,
          [this](const httplib::Response& r) {
            std::lock_guard lock(mu_);
            status_ = r.status;
            return true;
          },
          [this](const char* data, size_t size) {
            std::lock_guard lock(mu_);
            text_.append(data, size);
            return !stop_.load();
          });
    });
  }
  ~EventReader() {
    stop_ = true;
    thread_.join();
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  // Waits for `needle` in the stream.
  bool WaitFor(const std::string& needle, double seconds = 5) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (text().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::string text_;
  int status_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(HttpServerTest, EventsStreamEveryChangeAndResume) {
  const int64_t before = Register("before");  // not in a stream that starts now
  Serve();
  std::string resume_at;
  {
    EventReader reader(Url(), {});
    ASSERT_TRUE(reader.WaitFor("retry: 2000"));
    const int64_t id = Register("clip", catalog::State::kAwaitingMetadata);
    catalog::VideoChange queued;
    queued.video_id = id;
    queued.now = clock_.Now();
    queued.state = catalog::State::kQueued;
    queued.job = catalog::VideoChange::Job::kSchedule;
    queued.events.push_back(catalog::OutboxEvent{
        "ev-1", "vidgate.video.queued", {{"id", "ev-1"}, {"subject", "clip"}}, {}});
    ASSERT_TRUE(catalog_->Apply(queued).ok());
    ASSERT_TRUE(reader.WaitFor("\"state\":\"queued\"")) << reader.text();
    ASSERT_TRUE(reader.WaitFor("event: notification")) << reader.text();
    const std::string text = reader.text();
    EXPECT_NE(text.find("\nevent: video\ndata: {"), std::string::npos) << text;
    EXPECT_NE(text.find("\"state\":\"awaiting_metadata\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"name\":\"clip\""), std::string::npos);
    EXPECT_NE(text.find(R"({"id":"ev-1","subject":"clip"})"), std::string::npos) << text;
    EXPECT_EQ(text.find("\"name\":\"before\""), std::string::npos) << "only what is new";
    (void)before;
    // The first message's id: resuming there gives what followed.
    const size_t at = text.find("id: ");
    resume_at = text.substr(at + 4, text.find('\n', at) - at - 4);
  }
  EventReader resumed(Url(), {{"Last-Event-ID", resume_at}});
  EXPECT_TRUE(resumed.WaitFor("\"state\":\"queued\"")) << resumed.text();
  EXPECT_TRUE(resumed.WaitFor("event: notification")) << resumed.text();
  // Each message has its own id: the one resumed after is not sent again.
  EXPECT_EQ(resumed.text().find("awaiting_metadata"), std::string::npos) << resumed.text();
  EXPECT_EQ(Get("/api/events?after=x:y").first, 400);
  // The server stops with a stream open, at once.
  const auto from = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - from, std::chrono::seconds(3));
}

}  // namespace
}  // namespace vidgate::server
