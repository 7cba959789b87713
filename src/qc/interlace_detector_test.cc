#include "qc/interlace_detector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "qc/internal/luma_facts.h"
#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::MakeVideoFrame;
using ::vidgate::qc::testing::ReportAgreement;

// 4 s of moving test pattern at 25 frames per second: progressive, or woven
// from 50p with the given field order and encoded as interlaced H.264.
std::string Source(const std::string& name, const std::string& scan,
                   const std::string& size = "320x240", int seconds = 4) {
  const std::string src = "testsrc2=s=" + size + ":r=" + std::string(scan.empty() ? "25" : "50") +
                          ":d=" + std::to_string(seconds);
  if (scan.empty()) {
    return MakeFixture(name,
                       "-f lavfi -i " + src + " -c:v libx264 -preset veryfast -pix_fmt yuv420p");
  }
  return MakeFixture(name, "-f lavfi -i \"" + src + ",interlace=scan=" + scan +
                               "\" -c:v libx264 -preset veryfast -pix_fmt yuv420p "
                               "-flags +ildct+ilme -x264opts " +
                               (scan == "tff" ? "tff=1" : "bff=1"));
}

InterlaceResult Detect(const std::string& what, const std::string& path) {
  InterlaceDetector detector;
  Decode(path, {&detector});
  ReportAgreement(what, detector.ToJson().dump());
  return detector.result();
}

TEST(QcInterlaceDetectorTest, InterlacedTopFieldFirst) {
  const InterlaceResult r = Detect("interlace tff", Source("tff.mp4", "tff"));
  EXPECT_EQ(r.verdict, FieldOrder::kTopFieldFirst);
  EXPECT_GT(r.tff, r.frames / 2);
  EXPECT_EQ(r.flagged_interlaced, r.frames);
}

// 1080 lines: every 4th odd row is examined, and the verdicts hold.
TEST(QcInterlaceDetectorTest, TallPicturesAreJudgedOnSampledRows) {
  const InterlaceResult tff =
      Detect("interlace 1080 tff", Source("tff1080.mp4", "tff", "1920x1080", 1));
  EXPECT_EQ(tff.verdict, FieldOrder::kTopFieldFirst);
  // Fewer frames are decided than at 240 lines (idet decides all 25; the
  // share of combed pixels in this pattern is small at 1080 lines), the
  // same with every other odd row examined; none is decided wrongly.
  EXPECT_GT(tff.tff, 4);
  EXPECT_EQ(tff.bff, 0);
  const InterlaceResult p =
      Detect("interlace 1080 progressive", Source("p1080.mp4", "", "1920x1080", 1));
  EXPECT_EQ(p.verdict, FieldOrder::kProgressive);
  EXPECT_EQ(p.tff + p.bff, 0);
  // The sampling itself: about 135 odd rows whatever the height.
  EXPECT_EQ(internal::CombRowStep(2, 240), 2);
  EXPECT_EQ(internal::CombRowStep(2, 1080), 4);
  EXPECT_EQ(internal::CombRowStep(2, 2160), 8);
}

TEST(QcInterlaceDetectorTest, InterlacedBottomFieldFirst) {
  const InterlaceResult r = Detect("interlace bff", Source("bff.mp4", "bff"));
  EXPECT_EQ(r.verdict, FieldOrder::kBottomFieldFirst);
  EXPECT_GT(r.bff, r.frames / 2);
}

TEST(QcInterlaceDetectorTest, Progressive) {
  const InterlaceResult r = Detect("interlace progressive", Source("progressive.mp4", ""));
  EXPECT_EQ(r.verdict, FieldOrder::kProgressive);
  EXPECT_GT(r.progressive, r.frames / 2);
  EXPECT_EQ(r.tff + r.bff, 0);
  EXPECT_EQ(r.flagged_interlaced, 0);
}

TEST(QcInterlaceDetectorTest, ProgressiveContentFlaggedInterlacedIsProgressive) {
  // 25p encoded as interlaced: the flags say interlaced, the content does not.
  const std::string path = MakeFixture(
      "flagged.mp4",
      "-f lavfi -i testsrc2=s=320x240:r=25:d=4 -c:v libx264 -preset veryfast -pix_fmt yuv420p "
      "-flags +ildct+ilme");
  const InterlaceResult r = Detect("interlace flagged progressive", path);
  EXPECT_EQ(r.verdict, FieldOrder::kProgressive);
  EXPECT_EQ(r.flagged_interlaced, r.frames);
}

TEST(QcInterlaceDetectorTest, StillPictureIsUndetermined) {
  InterlaceDetector detector;
  for (int i = 0; i < 10; ++i) {
    media::FramePtr f = MakeVideoFrame(AV_PIX_FMT_YUV420P, 64, 64, [](int p, int x, int y) {
      return p == 0 ? (x * 7 + y * 3) % 256 : 128;
    });
    ASSERT_TRUE(detector.OnVideoFrame(*f, i / 25.0).ok());
  }
  ASSERT_TRUE(detector.Finish().ok());
  EXPECT_EQ(detector.result().undetermined, 10);
  EXPECT_EQ(detector.result().verdict, FieldOrder::kUndetermined);
  EXPECT_EQ(detector.ToJson()["verdict"], "undetermined");
}

}  // namespace
}  // namespace vidgate::qc
