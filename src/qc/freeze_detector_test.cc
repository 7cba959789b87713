#include "qc/freeze_detector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::FfmpegLog;
using ::vidgate::qc::testing::kMainFrameRate;
using ::vidgate::qc::testing::MainFixture;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::MakeVideoFrame;
using ::vidgate::qc::testing::MaxSegmentError;
using ::vidgate::qc::testing::ParseFreezedetect;
using ::vidgate::qc::testing::ReportAgreement;
using ::vidgate::qc::testing::ToString;

std::vector<Segment> CompareWithFreezedetect(const std::string& what, const std::string& path,
                                             double stream_end, double tolerance) {
  FreezeDetector freeze;
  Decode(path, {&freeze});
  const std::vector<Segment> ours = freeze.result().segments;
  const std::vector<Segment> ref =
      ParseFreezedetect(FfmpegLog(path, "-vf freezedetect=n=-60dB:d=2 -an"), stream_end);
  const double err = MaxSegmentError(ours, ref);
  ReportAgreement(what, "ours " + ToString(ours) + " ffmpeg " + ToString(ref) + " max |diff| " +
                            std::to_string(err) + " s");
  EXPECT_LE(err, tolerance) << "ours " << ToString(ours) << " ffmpeg " << ToString(ref);
  return ours;
}

TEST(QcFreezeDetectorTest, MatchesFreezedetectOnTheMainFixture) {
  // The black section is a freeze too.
  const auto ours = CompareWithFreezedetect("freeze main", MainFixture(), 12.0, 1e-6);
  ASSERT_EQ(ours.size(), 2u);
  EXPECT_NEAR(ours[0].start, 3.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 5.5, 1e-6);
  EXPECT_NEAR(ours[1].start, 7.0, 1e-6);
  EXPECT_NEAR(ours[1].end, 10.0, 1e-6);
}

TEST(QcFreezeDetectorTest, FreezeUntilTheEnd) {
  // Frames 120.. (5 s on) repeat frame 120; freezedetect gives no end, ours
  // is where the last frame ends.
  const std::string path = MakeFixture("freezeend.mp4",
                                       "-filter_complex \"testsrc2=s=320x240:r=24:d=8,split[a][b];"
                                       "[a][b]freezeframes=first=120:last=191:replace=120\" "
                                       "-c:v libx264 -preset veryfast -pix_fmt yuv420p");
  const auto ours = CompareWithFreezedetect("freeze until EOF", path, 8.0, 1e-6);
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 5.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 8.0, 1e-6);
}

// Feeds `frames` gray 50x50 frames at 25 fps; frame i has its first
// changed(i) samples at 101 and the rest at 100.
template <typename ChangedFn>
FreezeDetector Feed(int frames, ChangedFn changed) {
  FreezeDetector freeze;
  for (int i = 0; i < frames; ++i) {
    const int n = changed(i);
    media::FramePtr f = MakeVideoFrame(
        AV_PIX_FMT_GRAY8, 50, 50, [n](int, int x, int y) { return y * 50 + x < n ? 101 : 100; });
    EXPECT_TRUE(freeze.OnVideoFrame(*f, i / 25.0).ok());
  }
  EXPECT_TRUE(freeze.Finish().ok());
  return freeze;
}

TEST(QcFreezeDetectorTest, NoiseIsMeanAbsoluteDifferenceOver256AtMost) {
  // 2500 samples; -60 dB allows a SAD of 2500 * 256 * 0.001 = 640.
  auto alternating = [](int sad) { return [sad](int i) { return i % 2 == 1 ? sad : 0; }; };
  EXPECT_EQ(Feed(100, alternating(640)).result().segments.size(), 1u);
  EXPECT_EQ(Feed(100, alternating(641)).result().segments.size(), 0u);
}

TEST(QcFreezeDetectorTest, ComparesWithTheReferenceNotThePreviousFrame) {
  // Each frame differs from its predecessor by 20 (frozen by that measure),
  // but drifts away from the reference: no freeze.
  EXPECT_EQ(Feed(100, [](int i) { return 20 * i; }).result().segments.size(), 0u);
}

TEST(QcFreezeDetectorTest, MinimumDurationIsFromReferenceToLastFrozenFrame) {
  // Still from frame 10 (0.4 s): frozen frames to 60 (2.4 s), change at 61.
  auto run_to = [](int last) {
    return [last](int i) { return i < 10 ? i * 700 % 2500 : (i <= last ? 10 * 700 : 0); };
  };
  const FreezeDetector reported = Feed(80, run_to(60));
  ASSERT_EQ(reported.result().segments.size(), 1u);
  EXPECT_NEAR(reported.result().segments[0].start, 0.4, 1e-9);
  EXPECT_NEAR(reported.result().segments[0].end, 61 / 25.0, 1e-9);
  EXPECT_EQ(Feed(80, run_to(59)).result().segments.size(), 0u);  // 1.96 s
  EXPECT_EQ(reported.ToJson()["segments"].size(), 1u);
}

}  // namespace
}  // namespace vidgate::qc
