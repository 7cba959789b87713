// What only an s3:// store can do to vidgate: answer 503 SlowDown and 500 for
// a while, in the middle of a run.
#include <set>

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
  ASSERT_TRUE(WaitUntil([&] { return StderrOf(daemon).find("vidgate run:") != std::string::npos; },
                        Seconds(10), "run to start"));
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

}  // namespace
}  // namespace vidgate::e2e
