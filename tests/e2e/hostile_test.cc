// End-to-end: what a careless or hostile uploader can put in the store
// (issue "Hardening"): names that are bytes, links in and out of the store,
// vidgate's own names, nested names, files that vanish, FIFOs. Whatever is
// uploaded, `run --until-idle` ends, every input is still somewhere byte for
// byte, nothing outside the store is touched and no video is filed inside
// another's folder.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "common/text.h"
#include "common/util.h"
#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HostileTest : public VidgateTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(VerifiedByStandardWebhooks(hook_.Requests(), secret_));
    VidgateTest::TearDown();
  }

  // Every file under `dir` (followed by path, links not followed) with its
  // bytes.
  static std::map<std::string, std::string> Snapshot(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && !e.is_symlink()) {
        out[fs::relative(e.path(), dir).string()] = ReadFile(e.path().string());
      }
    }
    return out;
  }
  // Symbolic links anywhere under `dir`.
  static std::vector<std::string> LinksUnder(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_symlink()) out.push_back(fs::relative(e.path(), dir).string());
    }
    return out;
  }
};

TEST_F(HostileTest, ASaltedStoreEndsWithEveryFileSafe) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const fs::path outside = fs::path(root()) / "outside";
  fs::create_directories(outside / "folder");
  WriteFile((outside / "secret.mp4").string(), ReadFile(clip));
  WriteFile((outside / "folder" / "inner.mp4").string(), ReadFile(clip));
  WriteFile((outside / "folder" / "inner.json").string(), Metadata("outside").dump());
  const auto outside_before = Snapshot(outside);

  const std::string latin1 = "caf\xe9";  // not UTF-8
  const std::string forged = "evil\n2026-01-01T00:00:00.000Z info  \x1b[31mforged";
  const std::map<std::string, std::string> uploads = {
      {latin1 + ".mp4", "Latin-1"},
      {forged + ".mp4", "Forged"},
      {"-dash.mp4", "Dash"},
      {"report.mp4", "Report"},
      {"renditions", "Own name"},
      {"a.mp4", "Outer"},
      {"a/renditions/main.mp4", "Nested in a's folder"},
  };
  fs::create_directories(Path("uploads"));
  for (const auto& [key, title] : uploads) Upload(key, clip, title);
  fs::create_directory_symlink("../processed", Path("uploads/p"));
  fs::create_directory_symlink("..", Path("uploads/root"));
  fs::create_symlink(outside / "secret.mp4", Path("uploads/out.mp4"));
  PutSidecar("uploads/out.json", Metadata("a link"));
  fs::create_directory_symlink(outside / "folder", Path("uploads/outdir"));
  PutBytes("uploads/vidgate", ReadFile(clip));  // the one refused name
  ASSERT_EQ(::mkfifo(Path("uploads/pipe.mp4").c_str(), 0644), 0);
  PutSidecar("uploads/pipe.json", Metadata("a FIFO"));

  RunResult r = RunUntilIdle(Seconds(120));
  // The text log: one line per message, no terminal escapes, the forged
  // line escaped inside the real one.
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.err.find("\n2026-01-01T00:00:00.000Z"), std::string::npos) << Tail(r.err);
  EXPECT_NE(r.err.find("evil\\n2026-01-01"), std::string::npos);
  EXPECT_NE(r.err.find("uploads/out.mp4 is a symbolic link"), std::string::npos);
  EXPECT_NE(r.err.find("uploads/vidgate cannot be taken"), std::string::npos);

  json list = List();
  ASSERT_TRUE(list.is_object()) << "list --json must work whatever the names";
  std::map<std::string, json> by_name;
  for (const auto& v : list["videos"]) by_name[v.value("name", "")] = v;
  // Seven uploads, processed, and nothing else: no link, FIFO or own output
  // taken for a video.
  ASSERT_EQ(by_name.size(), uploads.size()) << list.dump(2);
  std::vector<std::string> locations;
  for (const auto& [key, title] : uploads) {
    const std::string name =
        BytesToKey(key.substr(0, key.find('.') == std::string::npos ? key.size() : key.rfind('.')));
    ASSERT_TRUE(by_name.contains(name)) << key;
    EXPECT_EQ(by_name[name].value("state", ""), "processed") << key;
    json shown = Show("name:" + name);
    ASSERT_TRUE(shown.is_object()) << key;
    const std::string location = shown.value("location", "");
    locations.push_back(location);
    // The original, byte for byte, under its own file name (its bytes).
    const std::string file = key.substr(key.rfind('/') + 1);
    EXPECT_TRUE(SameBytes(Path(KeyToBytes(location) + "/" + file), clip)) << location;
    EXPECT_TRUE(FileExists(Path(KeyToBytes(location) + "/vidgate/report.json"))) << location;
  }
  // No video's folder holds another's.
  for (const auto& a : locations) {
    for (const auto& b : locations) {
      EXPECT_FALSE(a != b && b.starts_with(a + "/")) << a << " holds " << b;
    }
  }
  // report.mp4's sidecar report.json is kept beside it, vidgate's report
  // under vidgate/.
  EXPECT_EQ(json::parse(ReadFile(Path("processed/report/report.json"))), Metadata("Report"));
  // Text output shows the bytes escaped.
  RunResult text = Run({"list"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("caf\\xe9"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos);

  // Links, the FIFO and the refused name are left where they were; nothing
  // outside the store changed; no link was filed.
  EXPECT_TRUE(fs::is_symlink(Path("uploads/p")));
  EXPECT_TRUE(fs::is_symlink(Path("uploads/out.mp4")));
  EXPECT_TRUE(SameBytes(Path("uploads/vidgate"), clip));
  EXPECT_TRUE(fs::is_fifo(Path("uploads/pipe.mp4")));
  EXPECT_EQ(Snapshot(outside), outside_before);
  EXPECT_TRUE(LinksUnder(Path("processed")).empty());
  EXPECT_TRUE(LinksUnder(Path("unable_to_process")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
}

// A port that accepts connections and never answers (the kernel completes
// the handshake into the listen backlog; nobody reads).
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(fd_, 128) == 0) {
      socklen_t len = sizeof addr;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A webhook that never answers, its URL carrying a token: every other sink
// gets every event, --until-idle ends in bounded time, the token is never
// printed, and SIGTERM takes the flush's seconds, not the peer's.
TEST_F(HostileTest, ASilentWebhookHoldsNothingBackAndItsTokenIsNeverPrinted) {
  SilentPort silent;
  ASSERT_GT(silent.port(), 0);
  const std::string token = "tok-" + NewUuid();
  settings_.notify_delivery_attempts = 3;
  settings_.extra_toml =
      "[[notify.webhook]]\nurl = \"http://127.0.0.1:" + std::to_string(silent.port()) +
      "/hook?token=" + token + "\"\ntimeout_seconds = 1\n";
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  for (int i = 0; i < 5; ++i) Upload("c" + std::to_string(i) + ".mp4", clip, "c");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = RunUntilIdle(Seconds(60));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25))
      << "3 tries of 1 s, whatever the backlog";
  EXPECT_EQ(hook_.Events("vidgate.video.processed").size(), 5u);
  EXPECT_EQ(r.err.find(token), std::string::npos) << "the run's log shows the token";
  EXPECT_NE(r.err.find("token=***"), std::string::npos) << Tail(r.err);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"show", "c0", "--json"}, {"show", "c0"}, {"list", "--json"}, {"list"}}) {
    RunResult out = Run(args);
    EXPECT_EQ(out.exit_code, 0);
    EXPECT_EQ((out.out + out.err).find(token), std::string::npos) << args[0] << ": " << out.out;
  }
  for (const char* file : {"/vidgate.db", "/vidgate.db-wal"}) {
    if (!fs::exists(data() + file)) continue;
    EXPECT_EQ(ReadFile(data() + file).find(token), std::string::npos)
        << "the catalog stores the token in " << file;
  }

  // Now the peer holds each request for a minute: SIGTERM still takes
  // seconds.
  settings_.extra_toml =
      "[[notify.webhook]]\nurl = \"http://127.0.0.1:" + std::to_string(silent.port()) +
      "/hook?token=" + token + "\"\ntimeout_seconds = 60\n";
  WriteConfig();
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  Upload("late.mp4", clip, "late");
  ASSERT_TRUE(WaitUntil([&] { return !hook_.EventsFor("vidgate.video.processed", "late").empty(); },
                        Seconds(30), "late to be processed and told"));
  const auto stop = std::chrono::steady_clock::now();
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(30)), 0);
  // About 6 s (a 5 s last flush, then curl sees the stop within a second),
  // far under the peer's minute.
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::seconds(15));
  EXPECT_EQ(StderrOf(daemon).find(token), std::string::npos);
}

TEST_F(HostileTest, AnIdAndANameAreNeverConfused) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  Upload("first.mp4", clip, "first");
  RunUntilIdle();
  Upload("1.mp4", clip, "named one");  // video 2, named "1"
  RunUntilIdle();
  RunResult r = Run({"show", "1", "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("id:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("name:1"), std::string::npos) << r.err;
  EXPECT_EQ(Show("id:1").value("name", ""), "first");
  EXPECT_EQ(Show("name:1").value("name", ""), "1");
}

TEST_F(HostileTest, AnOriginalDeletedMidAttemptEndsOnceWithAReason) {
  const std::string clip = LongClip();
  ASSERT_FALSE(clip.empty());
  Upload("gone.mp4", clip, "Going");
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(WaitUntil([&] { return StateOf("gone") == "processing"; }, Seconds(30),
                        "gone to be processing"));
  fs::remove(Path("uploads/gone.mp4"));
  ASSERT_TRUE(WaitUntil([&] { return StateOf("gone") == "unable_to_process"; }, Seconds(60),
                        "gone to be set aside"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  json shown = Show("gone");
  EXPECT_NE(shown.value("last_error", "").find("disappeared"), std::string::npos) << shown.dump();
  EXPECT_FALSE(fs::exists(Path("processed/gone")));
  EXPECT_TRUE(FileExists(Path("unable_to_process/gone/vidgate/report.json")));
  EXPECT_TRUE(FileExists(Path("unable_to_process/gone/gone.json")));
  ASSERT_TRUE(WaitUntil(
      [&] { return hook_.EventsFor("vidgate.video.unable_to_process", "gone").size() == 1; },
      Seconds(10), "one unable_to_process event"));
  RunUntilIdle(Seconds(30));  // nothing left pending
  EXPECT_EQ(hook_.EventsFor("vidgate.video.unable_to_process", "gone").size(), 1u);
  EXPECT_TRUE(hook_.EventsFor("vidgate.video.processed", "gone").empty());
}

TEST_F(HostileTest, AnOriginalDeletedFromFailedWhileWaitingEndsOnce) {
  // The wait in failed/ is long enough to see it there and delete it first,
  // even on a loaded machine.
  settings_.retry_base_delay_seconds = 3;
  settings_.retry_max_delay_seconds = 3;
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  BlockFolder("processed/wait");
  Upload("wait.mp4", clip, "Waiting");
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(Path("failed/wait.mp4")); }, Seconds(30),
                        "wait to be parked in failed/"));
  fs::remove(Path("failed/wait.mp4"));
  ASSERT_TRUE(WaitUntil([&] { return StateOf("wait") == "unable_to_process"; }, Seconds(30),
                        "wait to be set aside"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  EXPECT_NE(Show("wait").value("last_error", "").find("disappeared"), std::string::npos);
  RunUntilIdle(Seconds(30));
  EXPECT_EQ(hook_.EventsFor("vidgate.video.unable_to_process", "wait").size(), 1u);
}

TEST_F(HostileTest, SubmitNeverReplacesAWaitingSidecar) {
  const std::string cached = Clip();
  ASSERT_FALSE(cached.empty());
  const std::string clip = root() + "/clip.mp4";
  fs::copy_file(cached, clip);
  PutSidecar("uploads/clip.json", Metadata("someone else's"));
  const std::string mine = root() + "/mine.json";
  WriteFile(mine, Metadata("mine").dump());
  RunResult r = Run({"submit", clip, "--metadata", mine});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("uploads/clip.json already exists"), std::string::npos) << r.err;
  EXPECT_EQ(json::parse(ReadFile(Path("uploads/clip.json"))), Metadata("someone else's"));
  EXPECT_FALSE(FileExists(Path("uploads/clip.mp4")));
}

TEST_F(HostileTest, ProbeAndQcRefuseAFifoAtOnce) {
  const std::string fifo = root() + "/pipe.mp4";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  for (const char* command : {"probe", "qc"}) {
    RunResult r = Run({command, fifo, "--json"}, Seconds(10));
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    EXPECT_TRUE(json::parse(r.out, nullptr, false).contains("error")) << r.out;
  }
}

TEST_F(HostileTest, TheFileSystemRootAndACatalogInUploadsAreRefused) {
  const std::string cfg = root() + "/bad.toml";
  WriteFile(cfg,
            "[storage]\nurl = \"file:///\"\n[database]\nurl = \"sqlite://" + root() + "/x.db\"\n");
  RunResult r = Run({"--config", cfg, "run", "--until-idle"}, Seconds(10));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("root"), std::string::npos) << r.err;
  WriteFile(cfg, "[storage]\nurl = \"file://" + data() + "\"\n[database]\nurl = \"sqlite://" +
                     data() + "/uploads/vidgate.db\"\n");
  r = Run({"--config", cfg, "run", "--until-idle"}, Seconds(10));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("database.url"), std::string::npos) << r.err;
  EXPECT_FALSE(FileExists(Path("uploads/vidgate.db")));
}

}  // namespace
}  // namespace vidgate::e2e
