// The HTTP API and /metrics of a real `vidgate run`, over loopback: what it
// serves is what the catalog holds (the same document as `vidgate show
// --json`), the fleet's gauges agree with it, and a real Prometheus server
// scrapes it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/e2e/harness.h"

extern char** environ;

namespace vidgate::e2e {
namespace {

using nlohmann::json;

class ApiTest : public VidgateTest {};

json GetJson(httplib::Client& client, const std::string& path, int* status = nullptr) {
  auto res = client.Get(path.c_str());
  if (!res) return json();
  if (status != nullptr) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

// The value of the series whose line starts with `series` + " ", or -1.
double Sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

// A free loopback port for a peer to listen on: below the kernel's
// ephemeral range (32768 up), so no outgoing connection takes it between
// this check and the peer's bind.
int FreePort() {
  std::random_device seed;
  std::mt19937 rng(seed());
  for (int tries = 0; tries < 100; ++tries) {
    const int port = 20000 + static_cast<int>(rng() % 12000);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    at.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0;
    ::close(fd);
    if (bound) return port;
  }
  return -1;
}

// A child process, its output in `log`, killed when the test ends.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    if (posix_spawn(&pid_, args[0], &files, nullptr, args.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&files);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = 0;
};

TEST_F(ApiTest, ServesTheCatalogAndTheFleetsFigures) {
  Upload("first.mp4", Clip(), "The First Clip");
  RunUntilIdle();  // another process did this one
  pid_t daemon = StartDaemon({"run"});
  const std::string address = ServedAddress(daemon);
  ASSERT_FALSE(address.empty());
  httplib::Client client("http://" + address);

  int status = 0;
  json list = GetJson(client, "/api/videos", &status);
  ASSERT_EQ(status, 200) << list.dump();
  ASSERT_EQ(list["videos"].size(), 1u) << list.dump();
  EXPECT_EQ(list["videos"][0]["name"], "first");
  EXPECT_EQ(list["videos"][0]["state"], "processed");
  EXPECT_TRUE(list["next_cursor"].is_null());
  EXPECT_EQ(GetJson(client, "/api/videos?q=first%20clip")["videos"].size(), 1u) << "the title";
  EXPECT_EQ(GetJson(client, "/api/videos?q=nothing")["videos"].size(), 0u);
  // One builder for the API and `vidgate show --json`.
  const int64_t id = list["videos"][0]["id"];
  EXPECT_EQ(GetJson(client, "/api/videos/" + std::to_string(id)), Show("first"));
  EXPECT_EQ(GetJson(client, "/api/videos/12345", &status)["error"]["code"], "not_found");
  EXPECT_EQ(status, 404);

  json stats = GetJson(client, "/api/stats", &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(stats["videos"]["processed"], 1);
  EXPECT_EQ(stats["last_hour"]["processed"], 1);
  EXPECT_EQ(stats["last_hour"]["failure_ratio"], 0.0);

  // The fleet's gauges count what another process did; this process's own
  // counters start at 0.
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Sample(metrics->body, R"(vidgate_videos{state="processed"})"), 1) << metrics->body;
  EXPECT_EQ(Sample(metrics->body, R"(vidgate_attempts_total{outcome="processed"})"), 0);

  // A video this process handles shows in its counters and histograms.
  Upload("second.mp4", Clip(), "Second");
  ASSERT_TRUE(
      WaitUntil([&] { return StateOf("second") == "processed"; }, Seconds(60), "second processed"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto m = client.Get("/metrics");
        return m && Sample(m->body, R"(vidgate_attempts_total{outcome="processed"})") == 1;
      },
      Seconds(10), "the attempt counted"));
  metrics = client.Get("/metrics");
  EXPECT_EQ(Sample(metrics->body, R"(vidgate_videos{state="processed"})"), 2);
  EXPECT_EQ(Sample(metrics->body, "vidgate_upload_to_processed_seconds_count"), 1);
  EXPECT_EQ(Sample(metrics->body, R"(vidgate_stage_duration_seconds_count{stage="probe"})"), 1);
  EXPECT_GT(Sample(metrics->body, R"(vidgate_bytes_total{direction="out"})"), 0);
  // Deliveries count by sink, named by its id (secrets hidden).
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto m = client.Get("/metrics");
        return m &&
               m->body.find(
                   R"(vidgate_notifications_total{result="delivered",sink="webhook:http://127.0.0.1:)") !=
                   std::string::npos;
      },
      Seconds(10), "a delivery counted"));
  list = GetJson(client, "/api/videos?limit=1");
  ASSERT_EQ(list["videos"].size(), 1u);
  EXPECT_EQ(list["videos"][0]["name"], "second");
  ASSERT_FALSE(list["next_cursor"].is_null());
  list = GetJson(client, "/api/videos?limit=1&cursor=" + list["next_cursor"].get<std::string>());
  EXPECT_EQ(list["videos"][0]["name"], "first");
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
}

// A video uploaded through the API (multipart) is taken in, processed and
// served back: its poster, a byte range of its rendition, its original.
// Runs on file://, on PostgreSQL and on S3.
TEST_F(ApiTest, UploadedThroughTheApiIsProcessedAndServed) {
  pid_t daemon = StartDaemon({"run"});
  const std::string address = ServedAddress(daemon);
  ASSERT_FALSE(address.empty());
  httplib::Client client("http://" + address);
  client.set_read_timeout(60, 0);
  const std::string movie = ReadFile(Clip());
  ASSERT_FALSE(movie.empty());
  httplib::MultipartFormDataItems form = {
      {"file", movie, "from the web.mp4", "video/mp4"},
      {"metadata", Metadata("From the web").dump(), "", "application/json"},
  };
  auto res = client.Post("/api/videos", form);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  json body = json::parse(res->body);
  EXPECT_EQ(body["name"], "from the web");
  EXPECT_EQ(body["bytes"], movie.size());
  const std::string id = std::to_string(body["id"].get<int64_t>());
  ASSERT_TRUE(WaitUntil(
      [&] { return GetJson(client, "/api/videos/" + id).value("state", "") == "processed"; },
      Seconds(60), "processed"));
  json shown = GetJson(client, "/api/videos/" + id);
  EXPECT_EQ(shown["metadata"]["title"], "From the web");

  auto poster = client.Get(("/api/videos/" + id + "/poster").c_str());
  ASSERT_TRUE(poster);
  EXPECT_EQ(poster->status, 200);
  EXPECT_EQ(poster->get_header_value("Content-Type"), "image/jpeg");
  ASSERT_GE(poster->body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(poster->body[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(poster->body[1]), 0xD8);
  const std::string rendition =
      ReadFile(Path("processed/from the web/vidgate/renditions/main.mp4"));
  ASSERT_GT(rendition.size(), 1000u);
  auto part = client.Get(("/api/videos/" + id + "/outputs/renditions/main.mp4").c_str(),
                         {{"Range", "bytes=100-599"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, rendition.substr(100, 500));
  auto original = client.Get(("/api/videos/" + id + "/original").c_str());
  ASSERT_TRUE(original);
  EXPECT_EQ(original->body, movie);
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
}

// Two processes on one catalog (run on SQLite and on PostgreSQL): each
// serves the whole fleet, and their own counters add up to it.
TEST_F(ApiTest, TwoProcessesEachShowTheWholeFleet) {
  pid_t one = StartDaemon({"run"});
  pid_t two = StartDaemon({"run"});
  const std::string a = ServedAddress(one);
  const std::string b = ServedAddress(two);
  ASSERT_FALSE(a.empty() || b.empty());
  ASSERT_NE(a, b);
  for (int i = 0; i < 4; ++i) {
    Upload("v" + std::to_string(i) + ".mp4", Clip(), "Video " + std::to_string(i));
  }
  httplib::Client ca("http://" + a);
  httplib::Client cb("http://" + b);
  ASSERT_TRUE(WaitUntil(
      [&] {
        json s = GetJson(ca, "/api/stats");
        return s.is_object() && s["videos"]["processed"] == 4;
      },
      Seconds(120), "four videos processed"));
  EXPECT_EQ(GetJson(cb, "/api/stats")["videos"]["processed"], 4);
  EXPECT_EQ(GetJson(ca, "/api/videos"), GetJson(cb, "/api/videos"));
  double attempts = 0;
  for (auto* c : {&ca, &cb}) {
    auto m = c->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_EQ(Sample(m->body, R"(vidgate_videos{state="processed"})"), 4);
    attempts += Sample(m->body, R"(vidgate_attempts_total{outcome="processed"})");
  }
  EXPECT_EQ(attempts, 4) << "each attempt counted once, by the process that made it";
  EXPECT_EQ(Signal(one, SIGTERM, Seconds(20)), 0);
  EXPECT_EQ(Signal(two, SIGTERM, Seconds(20)), 0);
}

// Every kind of answer the API gives, good and bad, fits the OpenAPI
// document it serves at /api/openapi.json (checked by ajv).
TEST_F(ApiTest, EveryAnswerFitsTheOpenApiDocument) {
  settings_.server_token = "e2e-token";
  settings_.extra_toml = R"(
[[alarm]]
name = "sidecars-missing"
metric = "metadata_missing"
above = 0
interval_seconds = 0.2
)";
  WriteConfig();
  Upload("good.mp4", Clip(), "Good");
  PutBytes("uploads/broken.mp4", "this is no video");
  PutSidecar("uploads/broken.json", Metadata("Broken"));
  PutFile("uploads/lonely.mp4", Clip());  // no sidecar: the alarm fires
  pid_t daemon = StartDaemon({"run"});
  const std::string address = ServedAddress(daemon);
  ASSERT_FALSE(address.empty());
  httplib::Client client("http://" + address);
  client.set_read_timeout(60, 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return StateOf("good") == "processed" && StateOf("broken") == "unable_to_process" &&
               GetJson(client, "/api/alarms")["alarms"].size() == 1;
      },
      Seconds(60), "good processed, broken set aside, the alarm firing"));
  // The error names the original by its key, not the local stand-in the
  // media layer opened (on file://, a /proc/self/fd link).
  const std::string error = Show("broken")["attempts"][0].value("error", "");
  EXPECT_NE(error.find("'uploads/broken.mp4'"), std::string::npos) << error;
  EXPECT_EQ(error.find("/proc/"), std::string::npos) << error;

  json answers = json::array();
  const httplib::Headers token = {{"Authorization", "Bearer e2e-token"}};
  auto keep = [&](const char* method, const std::string& templ, const httplib::Result& res,
                  int expected) {
    ASSERT_TRUE(res) << method << " " << templ;
    EXPECT_EQ(res->status, expected) << method << " " << templ << ": " << res->body;
    answers.push_back({{"method", method},
                       {"path", templ},
                       {"status", res->status},
                       {"answer", json::parse(res->body, nullptr, false)}});
  };
  auto get = [&](const std::string& templ, const std::string& path, int expected,
                 const httplib::Headers& headers = {}) {
    keep("get", templ, client.Get(path.c_str(), headers), expected);
  };
  auto post = [&](const std::string& templ, const std::string& path, int expected,
                  const httplib::Headers& headers) {
    keep("post", templ, client.Post(path.c_str(), headers, "", "text/plain"), expected);
  };
  const std::string good = std::to_string(Show("good")["id"].get<int64_t>());
  const std::string broken = std::to_string(Show("broken")["id"].get<int64_t>());
  const std::string lonely = std::to_string(Show("lonely")["id"].get<int64_t>());

  get("/healthz", "/healthz", 200);
  get("/readyz", "/readyz", 200);
  get("/api/videos", "/api/videos", 200);
  get("/api/videos", "/api/videos?limit=1", 200);
  get("/api/videos", "/api/videos?state=processed&q=good", 200);
  get("/api/videos", "/api/videos?state=bogus", 400);
  get("/api/videos", "/api/videos?limit=0", 400);
  for (const auto& id : {good, broken, lonely}) get("/api/videos/{id}", "/api/videos/" + id, 200);
  get("/api/videos/{id}", "/api/videos/999999", 404);
  get("/api/stats", "/api/stats", 200);
  get("/api/alarms", "/api/alarms", 200);
  get("/api/openapi.json", "/api/openapi.json", 200);
  get("/api/videos/{id}/poster", "/api/videos/" + lonely + "/poster", 404);
  get("/api/videos/{id}/outputs/{path}", "/api/videos/" + good + "/outputs/a/../b", 400);
  get("/api/videos/{id}/outputs/{path}", "/api/videos/" + good + "/outputs/renditions/main.mp4",
      416, {{"Range", "bytes=99999999-"}});
  get("/api/events", "/api/events?after=bogus", 400);
  post("/api/videos/{id}/retry", "/api/videos/" + broken + "/retry", 401, {});
  post("/api/videos/{id}/retry", "/api/videos/" + broken + "/retry", 403,
       {{"Authorization", "Bearer wrong"}});
  post("/api/videos/{id}/retry", "/api/videos/" + good + "/retry", 409, token);
  post("/api/videos/{id}/retry", "/api/videos/999999/retry", 404, token);
  post("/api/retry", "/api/retry?state=retry_wait", 200, token);
  post("/api/retry", "/api/retry?state=processed", 400, token);
  post("/api/videos/{id}/retry", "/api/videos/" + broken + "/retry", 200, token);

  const std::string movie = ReadFile(Clip());
  httplib::MultipartFormDataItems form = {
      {"file", movie, "uploaded.mp4", "video/mp4"},
      {"metadata", Metadata("Uploaded").dump(), "", "application/json"},
  };
  keep("post", "/api/videos", client.Post("/api/videos", token, form), 201);
  // A name still waiting in uploads/ (lonely has no sidecar: it stays; the
  // upload just made may be processed and gone by now).
  form[0].filename = "lonely.mp4";
  keep("post", "/api/videos", client.Post("/api/videos", token, form), 409);
  form[1].content = json{{"description", "no title"}}.dump();
  form[0].filename = "untitled.mp4";
  keep("post", "/api/videos", client.Post("/api/videos", token, form), 422);
  form[1].content = "{not json";
  keep("post", "/api/videos", client.Post("/api/videos", token, form), 400);
  keep("post", "/api/videos", client.Post("/api/videos", token, "text", "text/plain"), 415);

  json openapi = GetJson(client, "/api/openapi.json");
  ASSERT_TRUE(openapi.is_object());
  EXPECT_EQ(openapi["openapi"].get<std::string>().substr(0, 4), "3.0.");
  EXPECT_TRUE(FitsOpenApi(openapi, answers)) << answers.dump(1);
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
}

// An [[alarm]] rule evaluated by two processes: each change reaches the
// webhook once, both list the alarm while it fires, and /metrics shows it.
TEST_F(ApiTest, AnAlarmIsSentOnceByTheFleetAndListedWhileItFires) {
  settings_.extra_toml = R"(
[[alarm]]
name = "sidecars-missing"
metric = "metadata_missing"
above = 0
window_seconds = 6
interval_seconds = 0.2
severity = "critical"
)";
  WriteConfig();
  pid_t one = StartDaemon({"run"});
  pid_t two = StartDaemon({"run"});
  const std::string a = ServedAddress(one);
  const std::string b = ServedAddress(two);
  ASSERT_FALSE(a.empty() || b.empty());
  httplib::Client ca("http://" + a);
  httplib::Client cb("http://" + b);
  EXPECT_EQ(GetJson(ca, "/api/alarms"), json::parse(R"({"alarms":[]})"));

  PutFile("uploads/lonely.mp4", Clip());  // no sidecar: metadata.missing after 1 s
  ASSERT_TRUE(WaitUntil([&] { return !hook_.Events("vidgate.alarm.triggered").empty(); },
                        Seconds(30), "the alarm triggered"));
  json alarms = GetJson(cb, "/api/alarms");
  ASSERT_EQ(alarms["alarms"].size(), 1u) << alarms.dump();
  EXPECT_EQ(alarms["alarms"][0]["name"], "sidecars-missing");
  EXPECT_EQ(alarms["alarms"][0]["metric"], "metadata_missing");
  EXPECT_EQ(alarms["alarms"][0]["severity"], "critical");
  EXPECT_EQ(alarms["alarms"][0]["value"], 1)
      << hook_.Events("vidgate.metadata.missing").size() << " " << hook_.Events().size();
  EXPECT_EQ(GetJson(ca, "/api/alarms")["alarms"].size(), 1u);
  auto m = ca.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(
      Sample(m->body, R"(vidgate_alarm_firing{alarm="sidecars-missing",severity="critical"})"), 1);

  // Out of the window, it resolves.
  ASSERT_TRUE(WaitUntil([&] { return !hook_.Events("vidgate.alarm.resolved").empty(); },
                        Seconds(30), "the alarm resolved"));
  EXPECT_EQ(GetJson(ca, "/api/alarms")["alarms"].size(), 0u);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // time for a second sender to show
  auto triggered = hook_.Events("vidgate.alarm.triggered");
  auto resolved = hook_.Events("vidgate.alarm.resolved");
  ASSERT_EQ(triggered.size(), 1u) << "one process sends each change";
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(triggered[0]["subject"], "alarm/sidecars-missing");
  EXPECT_EQ(triggered[0]["data"]["state"], "firing");
  EXPECT_TRUE(triggered[0]["data"]["video_id"].is_null());
  EXPECT_EQ(resolved[0]["data"]["alarm"]["window_seconds"], 6);
  EXPECT_GT(resolved[0]["data"]["fired_seconds"].get<double>(), 4);
  EXPECT_EQ(Signal(one, SIGTERM, Seconds(20)), 0);
  EXPECT_EQ(Signal(two, SIGTERM, Seconds(20)), 0);
}

TEST_F(ApiTest, APrometheusServerScrapesIt) {
  Upload("clip.mp4", Clip(), "Clip");
  RunUntilIdle();
  pid_t daemon = StartDaemon({"run"});
  const std::string address = ServedAddress(daemon);
  ASSERT_FALSE(address.empty());

  const std::string dir = root() + "/prometheus";
  std::filesystem::create_directories(dir + "/data");
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n"
      << "scrape_configs:\n  - job_name: vidgate\n    static_configs:\n"
      << "      - targets: ['" << address << "']\n";
  const int port = FreePort();
  Child prometheus({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                    "--storage.tsdb.path=" + dir + "/data",
                    "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                   dir + "/log");
  ASSERT_TRUE(prometheus.started());
  httplib::Client api("http://127.0.0.1:" + std::to_string(port));
  json answer;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto res = api.Get("/api/v1/query?query=vidgate_videos");
        if (!res || res->status != 200) return false;
        answer = json::parse(res->body, nullptr, false);
        return answer.is_object() && answer["data"]["result"].size() == 7;
      },
      Seconds(60), "Prometheus to have scraped vidgate_videos by state"))
      << answer.dump() << "\n"
      << ReadFile(dir + "/log");
  std::map<std::string, std::string> by_state;
  for (const auto& r : answer["data"]["result"]) {
    EXPECT_EQ(r["metric"]["job"], "vidgate");
    by_state[r["metric"]["state"]] = r["value"][1];
  }
  EXPECT_EQ(by_state["processed"], "1");
  EXPECT_EQ(by_state["queued"], "0");
  EXPECT_EQ(by_state.size(), 7u);
  // Prometheus saw a healthy target.
  auto targets = api.Get("/api/v1/targets");
  ASSERT_TRUE(targets);
  json t = json::parse(targets->body, nullptr, false);
  ASSERT_EQ(t["data"]["activeTargets"].size(), 1u);
  EXPECT_EQ(t["data"]["activeTargets"][0]["health"], "up") << t.dump();
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
}

}  // namespace
}  // namespace vidgate::e2e
