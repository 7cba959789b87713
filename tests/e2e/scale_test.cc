// Scale-out: several `vidgate run` processes share one store and one catalog
// while some are killed with SIGKILL at random moments and restarted.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

using nlohmann::json;

class ScaleTest : public VidgateTest {};

TEST_F(ScaleTest, ManyWorkersKilledAtRandomProcessEachVideoExactlyOnce) {
  constexpr int kVideos = 200;
  constexpr int kProcesses = 4;
  settings_.workers = 2;
  settings_.lease_seconds = 1;
  settings_.metadata_wait_seconds = 30;
  WriteConfig();
  const std::string clip = Clip("mp4");
  ASSERT_FALSE(clip.empty());
  auto name = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "v%03d", i);
    return std::string(buf);
  };
  for (int i = 0; i < kVideos; ++i) {
    PutSidecar("uploads/" + name(i) + ".json", {{"title", name(i)}});
    PutFile("uploads/" + name(i) + ".mp4", clip);
  }

  std::vector<pid_t> daemons;
  for (int p = 0; p < kProcesses; ++p) daemons.push_back(StartDaemon({"run"}));
  std::mt19937 rng(20261124);
  auto processed_count = [&] {
    json list = List();
    if (!list.is_object()) return -1;
    int n = 0;
    for (const auto& v : list["videos"]) n += v["state"] == "processed";
    return n;
  };
  // Kill a random process every so often while work remains, then restart it.
  int kills = 0;
  for (int round = 0; round < 8; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));
    if (processed_count() >= kVideos) break;
    size_t victim = rng() % daemons.size();
    EXPECT_EQ(Signal(daemons[victim], SIGKILL, Seconds(10)), 128 + SIGKILL);
    daemons[victim] = StartDaemon({"run"});
    ++kills;
  }
  // Generous: under a loaded CI machine (tests side by side) this took 4
  // minutes. Each look runs `vidgate list` over every video: once a second,
  // or the looking takes a core from the workers.
  EXPECT_TRUE(WaitUntil([&] { return processed_count() == kVideos; }, Seconds(480),
                        "every video processed", Seconds(1)));
  // At least once: notices taken by a killed process go out once their hold
  // (the webhook time-out plus 5 s) has passed.
  auto notified = [&] {
    std::set<std::string> names;
    for (const auto& e : hook_.Events("vidgate.video.processed")) {
      names.insert(e["subject"].get<std::string>());
    }
    return names;
  };
  EXPECT_TRUE(WaitUntil([&] { return notified().size() == kVideos; }, Seconds(60),
                        "every processed notice delivered"));
  for (pid_t pid : daemons) EXPECT_EQ(Signal(pid, SIGTERM, Seconds(20)), 0);

  // Every video exactly once in processed/, nothing elsewhere.
  std::set<std::string> folders;
  for (const auto& e : EntriesOf(Path("processed"))) folders.insert(e);
  EXPECT_EQ(folders.size(), static_cast<size_t>(kVideos));
  for (int i = 0; i < kVideos; ++i) {
    const std::string dir = Path("processed/" + name(i));
    EXPECT_TRUE(SameBytes(dir + "/" + name(i) + ".mp4", clip)) << name(i);
    EXPECT_TRUE(FileExists(dir + "/" + name(i) + ".json")) << name(i);
    EXPECT_TRUE(FileExists(dir + "/vidgate/report.json")) << name(i);
  }
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  EXPECT_TRUE(FilesUnder(Path("unable_to_process")).empty());
  EXPECT_TRUE(FilesUnder(Path(".vidgate")).empty()) << "work files left behind";

  // One video row each, with exactly one successful attempt.
  json list = List();
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list["videos"].size(), static_cast<size_t>(kVideos));
  int interrupted = 0;
  for (const auto& v : list["videos"]) {
    json shown = Show(std::to_string(v["id"].get<int64_t>()));
    int succeeded = 0;
    for (const auto& a : shown["attempts"]) {
      succeeded += a["outcome"] == "succeeded";
      interrupted += a["outcome"] == "interrupted";
    }
    EXPECT_EQ(succeeded, 1) << shown.dump();
  }
  std::cerr << "kills: " << kills << ", interrupted attempts: " << interrupted << "\n";
}

#ifdef VIDGATE_E2E_POSTGRES
// The database restarts in the middle of a run: workers keep their work,
// reconnect, and finish; nothing is lost and no attempt fails because of it.
TEST_F(ScaleTest, PostgresRestartMidRunLosesNothing) {
  const std::string script = std::string(VIDGATE_SOURCE_DIR) + "/scripts/pg-test-server.sh";
  const std::string state = root() + "/own-pg.state";
  ASSERT_EQ(std::system((script + " start " + state).c_str()), 0);
  struct StopServer {
    std::string cmd;
    ~StopServer() { [[maybe_unused]] int rc = std::system(cmd.c_str()); }
  } stop_server{script + " stop " + state};
  std::string base = ReadFile(state);
  base = base.substr(0, base.find('\n'));
  ASSERT_EQ(std::system(("psql -q '" + base + "' -c 'CREATE DATABASE restart_test'").c_str()), 0);
  database_url_ = base.substr(0, base.rfind('/') + 1) + "restart_test";
  settings_.workers = 2;
  settings_.lease_seconds = 10;
  WriteConfig();

  constexpr int kVideos = 40;
  const std::string clip = Clip("mp4");
  for (int i = 0; i < kVideos; ++i) {
    const std::string n = "r" + std::to_string(i);
    PutSidecar("uploads/" + n + ".json", {{"title", n}});
    PutFile("uploads/" + n + ".mp4", clip);
  }
  std::vector<pid_t> daemons = {StartDaemon({"run"}), StartDaemon({"run"})};
  auto processed = [&] {
    json list = List();
    int n = 0;
    if (list.is_object()) {
      for (const auto& v : list["videos"]) n += v["state"] == "processed";
    }
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return processed() >= 3; }, Seconds(60), "a few processed"));
  ASSERT_EQ(std::system((script + " restart " + state).c_str()), 0);
  EXPECT_TRUE(WaitUntil([&] { return processed() == kVideos; }, Seconds(120),
                        "every video processed after the restart"));
  for (pid_t pid : daemons) EXPECT_EQ(Signal(pid, SIGTERM, Seconds(20)), 0);

  EXPECT_EQ(EntriesOf(Path("processed")).size(), static_cast<size_t>(kVideos));
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  json list = List();
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list["videos"].size(), static_cast<size_t>(kVideos));
  for (const auto& v : list["videos"]) {
    json shown = Show(std::to_string(v["id"].get<int64_t>()));
    int succeeded = 0;
    for (const auto& a : shown["attempts"]) {
      succeeded += a["outcome"] == "succeeded";
      EXPECT_NE(a["outcome"], "failed") << shown.dump();
    }
    EXPECT_EQ(succeeded, 1) << shown.dump();
  }
}
#endif

}  // namespace
}  // namespace vidgate::e2e
