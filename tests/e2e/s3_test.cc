// What only an s3:// store can do to vidgate: answer 503 SlowDown and 500 for
// a while, in the middle of a run.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

using nlohmann::json;

class S3Test : public VidgateTest {};

TEST_F(S3Test, S3StumblingForAWhileLosesAndDuplicatesNothing) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  constexpr int kVideos = 6;
  for (int i = 0; i < kVideos; ++i) Upload("v" + std::to_string(i) + ".mp4", clip, "v");
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  // In the middle of the run, as S3 does: once the store was found ready
  // and the uploads seen (a bad patch of a minute at start is the start's
  // patience's business, tested in runner_test).
  ASSERT_TRUE(WaitUntil([&] { return StderrOf(daemon).find("new video") != std::string::npos; },
                        Seconds(10), "run to take the uploads in"));
  // A bad patch: 30 requests answered 503 SlowDown, then 30 answered 500,
  // whatever they are.
  S3Proxy().FailNext(30, 503, "SlowDown");
  ASSERT_TRUE(WaitUntil([&] { return S3Proxy().failed() >= 30; }, Seconds(30), "the bad patch"));
  S3Proxy().FailNext(30, 500, "InternalError");
  ASSERT_TRUE(WaitUntil(
      [&] {
        json list = List();
        if (!list.is_object()) return false;
        int processed = 0;
        for (const auto& v : list["videos"]) processed += v["state"] == "processed";
        return processed == kVideos;
      },
      Seconds(120), "every video processed"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  EXPECT_GE(S3Proxy().failed(), 60);

  for (int i = 0; i < kVideos; ++i) {
    const std::string name = "v" + std::to_string(i);
    EXPECT_TRUE(SameBytes(Path("processed/" + name + "/" + name + ".mp4"), clip)) << name;
    json shown = Show(name);
    ASSERT_TRUE(shown.is_object());
    int succeeded = 0;
    for (const auto& a : shown["attempts"]) {
      succeeded += a["outcome"] == "succeeded";
      if (a["outcome"] == "failed") {
        EXPECT_TRUE(a.value("retryable", false)) << "a stumbling S3 is worth another try";
      }
    }
    EXPECT_EQ(succeeded, 1) << shown.dump();
  }
  EXPECT_EQ(EntriesOf(Path("processed")).size(), static_cast<size_t>(kVideos));
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  EXPECT_TRUE(FilesUnder(Path("unable_to_process")).empty());
  std::set<std::string> notified;
  for (const auto& e : hook_.Events("vidgate.video.processed")) notified.insert(e["subject"]);
  EXPECT_EQ(notified.size(), static_cast<size_t>(kVideos));
}

// S3 keys end at 1024 bytes. An upload whose filed keys (a numbered folder
// under unable_to_process/, vidgate's outputs) could pass that is left where
// it is with one sentence, instead of failing to be filed after the work.
TEST_F(S3Test, ANameTooLongToFileIsLeftWhereItIsWithASentence) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  // Components under s3rver's 255-byte file names, 980 bytes in all.
  std::string folders;
  for (char c : {'a', 'b', 'c', 'd'}) folders += std::string(240, c) + "/";
  const std::string long_key = "uploads/" + folders + "clip.mp4";
  ASSERT_LT(long_key.size() + s3_prefix().size() + 1, 1024u);
  Upload(folders + "clip.mp4", clip, "too long");
  Upload("short.mp4", clip, "fine");
  RunResult run = RunUntilIdle();
  ASSERT_EQ(run.exit_code, 0) << Tail(run.err);
  EXPECT_NE(run.err.find("its name is too long for this store"), std::string::npos)
      << Tail(run.err);
  EXPECT_EQ(StateOf("short"), "processed");
  EXPECT_TRUE(FileExists(Path(long_key)));
  json list = List();
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list["videos"].size(), 1u) << list.dump();
  // Said once, not on every scan.
  RunResult again = RunUntilIdle();
  size_t said = 0;
  for (size_t at = again.err.find("too long for this store"); at != std::string::npos;
       at = again.err.find("too long for this store", at + 1)) {
    ++said;
  }
  EXPECT_EQ(said, 1u) << Tail(again.err);
}

// Credentials from a container endpoint (ECS's) on loopback that hands out
// new ones each time, each good for 5 minutes and 3 seconds: vidgate asks
// again 5 minutes before they expire, so a run of a few seconds signs with
// several in turn, and the work goes on across the rotation. (s3rver knows
// one access key id, so the secret and the session token rotate.)
TEST_F(S3Test, ContainerCredentialsThatRotateMidRunAreFollowed) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  httplib::Server endpoint;
  std::atomic<int> calls{0};
  std::atomic<int> unauthorised{0};
  endpoint.Get("/creds", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "container-token") ++unauthorised;
    const int n = ++calls;
    const auto expires = std::chrono::system_clock::now() + std::chrono::seconds(303);
    const std::time_t t = std::chrono::system_clock::to_time_t(expires);
    char iso[32];
    std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    res.set_content(nlohmann::json{{"AccessKeyId", "S3RVER"},
                                   {"SecretAccessKey", "secret-" + std::to_string(n)},
                                   {"Token", "token-" + std::to_string(n)},
                                   {"Expiration", iso}}
                        .dump(),
                    "application/json");
  });
  const int port = endpoint.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { endpoint.listen_after_bind(); });
  while (!endpoint.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // No keys in the environment nor in files: the container endpoint answers.
  extra_env_ = {
      "AWS_ACCESS_KEY_ID=",
      "AWS_SECRET_ACCESS_KEY=",
      "HOME=" + root(),
      "AWS_SHARED_CREDENTIALS_FILE=",
      "AWS_CONFIG_FILE=",
      "AWS_PROFILE=",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:" + std::to_string(port) + "/creds",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN=container-token"};
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  Upload("first.mp4", clip, "First");
  EXPECT_TRUE(WaitUntil([&] { return StateOf("first") == "processed"; }, Seconds(60),
                        "the first video processed"));
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the first keys are due for renewal
  Upload("second.mp4", clip, "Second");
  EXPECT_TRUE(WaitUntil([&] { return StateOf("second") == "processed"; }, Seconds(60),
                        "the second video processed"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  endpoint.stop();
  serving.join();
  const auto seen = S3Proxy().SessionTokensSeen();
  EXPECT_GE(calls.load(), 2);
  EXPECT_EQ(unauthorised.load(), 0);
  ASSERT_FALSE(seen.empty()) << "no request carried the endpoint's session token";
  EXPECT_EQ(seen.front(), "token-1");
  EXPECT_GE(seen.size(), 2u) << "one set of credentials signed the whole run";
  for (const auto& token : seen) EXPECT_TRUE(token.starts_with("token-")) << token;
}

// The harness's own peak RSS (a spawned child's ru_maxrss starts from it,
// since posix_spawn shares the parent's memory until exec).
long OwnPeakRssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmHWM:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// A 300 MB object (made here, never committed) goes up as a multipart
// upload, is fetched, decoded, filed and copied with memory far below its
// size.
TEST_F(S3Test, A300MegabyteVideoNeedsFarLessMemoryThanItsSize) {
  settings_.s3_through_proxy = false;  // the proxy holds whole bodies in memory
  WriteConfig();
  const std::string big = root() + "/big.mkv";
  // Raw 640x360 frames (345,600 bytes each): 870 of them are 300 MB.
  const std::string make =
      "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -frames:v 870 "
      "-c:v rawvideo -pix_fmt yuv420p '" +
      big + "'";
  ASSERT_EQ(std::system(make.c_str()), 0);
  ASSERT_GT(std::filesystem::file_size(big), 300'000'000u);
  WriteFile(root() + "/big.json", Metadata("Big").dump());

  RunResult submit = Run({"submit", big, "--metadata", root() + "/big.json"}, Seconds(120));
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  RunResult run = RunUntilIdle(Seconds(300));
  ASSERT_EQ(run.exit_code, 0) << Tail(run.err);
  EXPECT_EQ(StateOf("big"), "processed");
  EXPECT_TRUE(SameBytes(Path("processed/big/big.mkv"), big));
  EXPECT_TRUE(FileExists(Path("processed/big/vidgate/renditions/main.mp4")));
  const long harness_kb = OwnPeakRssKb();
  std::cerr << "300 MB object: peak RSS of submit " << submit.peak_rss_kb / 1024 << " MiB, of run "
            << run.peak_rss_kb / 1024 << " MiB (harness " << harness_kb / 1024 << " MiB)\n";
  ASSERT_LT(harness_kb, 100 * 1024) << "the harness's own memory would hide vidgate's";
  EXPECT_LT(submit.peak_rss_kb, 80 * 1024) << "submit held the file in memory";
  EXPECT_LT(run.peak_rss_kb, 200 * 1024) << "run held the file in memory";
}

}  // namespace
}  // namespace vidgate::e2e
