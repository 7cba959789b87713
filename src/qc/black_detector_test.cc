#include "qc/black_detector.h"

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
using ::vidgate::qc::testing::ParseBlackdetect;
using ::vidgate::qc::testing::ReportAgreement;
using ::vidgate::qc::testing::ToString;

// Runs BlackDetector and ffmpeg's blackdetect over `path`; expects the same
// segments within `tolerance` seconds and returns ours.
std::vector<Segment> CompareWithBlackdetect(const std::string& what, const std::string& path,
                                            double tolerance) {
  BlackDetector black;
  Decode(path, {&black});
  const std::vector<Segment> ours = black.result().segments;
  const std::vector<Segment> ref =
      ParseBlackdetect(FfmpegLog(path, "-vf blackdetect=d=2:pix_th=0.10 -an"));
  const double err = MaxSegmentError(ours, ref);
  ReportAgreement(what, "ours " + ToString(ours) + " ffmpeg " + ToString(ref) + " max |diff| " +
                            std::to_string(err) + " s");
  EXPECT_LE(err, tolerance) << "ours " << ToString(ours) << " ffmpeg " << ToString(ref);
  return ours;
}

TEST(QcBlackDetectorTest, MatchesBlackdetectOnTheMainFixture) {
  const auto ours = CompareWithBlackdetect("black main 8-bit", MainFixture(), 1e-6);
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 3.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 5.5, 1e-6);
}

TEST(QcBlackDetectorTest, TenBitSource) {
  const std::string path =
      MakeFixture("black10.mp4",
                  "-f lavfi -i \"testsrc2=s=320x240:r=24:d=8,"
                  "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,3)*lt(t,5.5)',"
                  "format=yuv420p10le\" -c:v libx264 -preset veryfast");
  const auto ours = CompareWithBlackdetect("black 10-bit", path, 1e-6);
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 3.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 5.5, 1e-6);
}

TEST(QcBlackDetectorTest, FullRangeSource) {
  // yuvj420p: black (Y 0) from 3.0 to 5.5 s, then dark grey (Y 30) to 8 s,
  // which is black in limited range (<= 37) but not in full range (<= 25).
  const std::string path = MakeFixture(
      "blackj.mp4",
      "-filter_complex \"testsrc2=s=320x240:r=24:d=3[a];color=c=black:s=320x240:r=24:d=2.5[b];"
      "color=c=0x1e1e1e:s=320x240:r=24:d=2.5[c];[a][b][c]concat=n=3:v=1:a=0,format=yuvj420p\" "
      "-c:v libx264 -preset veryfast -pix_fmt yuvj420p");
  const auto ours = CompareWithBlackdetect("black full range", path, 1e-6);
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 3.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 5.5, 1e-6);
}

TEST(QcBlackDetectorTest, BlackUntilTheEndEndsWhereTheLastFrameEnds) {
  const std::string path =
      MakeFixture("blackend.mp4",
                  "-f lavfi -i \"testsrc2=s=320x240:r=24:d=8,"
                  "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,5)'\" "
                  "-c:v libx264 -preset veryfast -pix_fmt yuv420p");
  // blackdetect ends such a run at the start of the last frame (7.9583 s).
  // (ffmpeg prints 6 significant digits.)
  const auto ours = CompareWithBlackdetect("black until EOF", path, 1.0 / kMainFrameRate + 1e-4);
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 5.0, 1e-6);
  EXPECT_NEAR(ours[0].end, 8.0, 1e-6);
}

// Feeds `frames` frames made by `make` at 25 fps; returns the detector.
template <typename MakeFn>
BlackDetector Feed(int frames, MakeFn make, BlackOptions options = {}) {
  BlackDetector black(options);
  for (int i = 0; i < frames; ++i) {
    media::FramePtr frame = make(i);
    EXPECT_TRUE(black.OnVideoFrame(*frame, i / 25.0).ok());
  }
  EXPECT_TRUE(black.Finish().ok());
  return black;
}

// The number of black frames among flat frames of luma `y`.
int64_t BlackFrames(AVPixelFormat format, int y, AVColorRange range = AVCOL_RANGE_UNSPECIFIED) {
  const int mid = format == AV_PIX_FMT_YUV420P10LE ? 512 : 128;
  BlackDetector black = Feed(1, [&](int) {
    media::FramePtr f =
        MakeVideoFrame(format, 64, 48, [&](int p, int, int) { return p == 0 ? y : mid; });
    f->color_range = range;
    return f;
  });
  return black.result().black_frames;
}

TEST(QcBlackDetectorTest, PixelThresholdPerRangeAndDepth) {
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV420P, 37), 1);  // 16 + 0.1 * 219 = 37.9
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV420P, 38), 0);
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUVJ420P, 25), 1);  // 0.1 * 255 = 25.5
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUVJ420P, 26), 0);
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV420P, 26, AVCOL_RANGE_JPEG), 0);
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV420P10LE, 151), 1);  // 64 + 0.1 * 876 = 151.6
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV420P10LE, 152), 0);
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_YUV444P, 16), 1);
  EXPECT_EQ(BlackFrames(AV_PIX_FMT_GRAY8, 16), 1);
}

TEST(QcBlackDetectorTest, PictureRatio) {
  // 100 x 50 = 5000 pixels; the first `bright` are white.
  auto frame_with = [](int bright) {
    return MakeVideoFrame(AV_PIX_FMT_YUV444P, 100, 50, [bright](int p, int x, int y) {
      return p != 0 ? 128 : (y * 100 + x < bright ? 235 : 16);
    });
  };
  EXPECT_EQ(Feed(1, [&](int) { return frame_with(100); }).result().black_frames, 1);  // 98.0 %
  EXPECT_EQ(Feed(1, [&](int) { return frame_with(101); }).result().black_frames, 0);  // 97.98 %
}

TEST(QcBlackDetectorTest, MinimumDurationAndSegmentEnds) {
  // Frames 25..74 black (2.0 s), 100..148 black (1.96 s), 175..end black.
  auto black_at = [](int i) { return (i >= 25 && i < 75) || (i >= 100 && i < 149) || i >= 175; };
  BlackDetector black = Feed(225, [&](int i) {
    const int y = black_at(i) ? 16 : 120;
    return MakeVideoFrame(AV_PIX_FMT_YUV420P, 32, 32,
                          [y](int p, int, int) { return p == 0 ? y : 128; });
  });
  const auto& s = black.result().segments;
  ASSERT_EQ(s.size(), 2u) << ToString(s);
  EXPECT_DOUBLE_EQ(s[0].start, 1.0);
  EXPECT_DOUBLE_EQ(s[0].end, 3.0);
  EXPECT_DOUBLE_EQ(s[1].start, 7.0);
  EXPECT_NEAR(s[1].end, 9.0, 1e-9);  // 224 / 25 + one frame
  EXPECT_EQ(black.result().black_frames, 50 + 49 + 50);
  const nlohmann::json j = black.ToJson();
  EXPECT_EQ(j["segments"].size(), 2u);
  EXPECT_NEAR(j["segments"][1]["end"].get<double>(), 9.0, 1e-9);
}

TEST(QcBlackDetectorTest, SkipsUnsupportedFormatsAndSaysWhy) {
  BlackDetector black = Feed(3, [](int) {
    return MakeVideoFrame(AV_PIX_FMT_RGB24, 16, 16, [](int, int, int) { return 0; });
  });
  EXPECT_EQ(black.result().frames, 0);
  EXPECT_EQ(black.result().skipped_frames, 3);
  EXPECT_NE(black.result().skipped_reason.find("rgb24"), std::string::npos);
}

}  // namespace
}  // namespace vidgate::qc
