#include "qc/range_checker.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::MakeVideoFrame;
using ::vidgate::qc::testing::ReportAgreement;

TEST(QcRangeCheckerTest, CountsLumaAndChromaOutsideLimitedRange) {
  RangeChecker range;
  // 32x16 yuv420p: luma 512 samples, chroma 2 x 16x8 = 256 samples.
  media::FramePtr legal = MakeVideoFrame(AV_PIX_FMT_YUV420P, 32, 16, [](int p, int x, int y) {
    return p == 0 ? (x + y) % 2 == 0 ? 16 : 235 : (x % 2 == 0 ? 16 : 240);
  });
  media::FramePtr illegal = MakeVideoFrame(AV_PIX_FMT_YUV420P, 32, 16, [](int p, int x, int y) {
    if (p == 0) return y == 0 && x < 10 ? 0 : (y == 1 && x < 5 ? 250 : 128);
    if (p == 1) return y == 0 && x < 3 ? 241 : 128;
    return y == 0 && x < 2 ? 15 : 128;
  });
  ASSERT_TRUE(range.OnVideoFrame(*legal, 0.0).ok());
  ASSERT_TRUE(range.OnVideoFrame(*illegal, 1.5).ok());
  ASSERT_TRUE(range.Finish().ok());
  const RangeResult& r = range.result();
  EXPECT_EQ(r.frames, 2);
  EXPECT_EQ(r.frames_outside, 1);
  EXPECT_EQ(r.luma_samples, 1024u);
  EXPECT_EQ(r.luma_outside, 15u);
  EXPECT_EQ(r.chroma_samples, 512u);
  EXPECT_EQ(r.chroma_outside, 5u);
  EXPECT_DOUBLE_EQ(r.luma_outside_share(), 15.0 / 1024);
  ASSERT_TRUE(r.worst_frame.has_value());
  EXPECT_DOUBLE_EQ(r.worst_frame->time, 1.5);
  EXPECT_DOUBLE_EQ(r.worst_frame->luma_outside, 15.0 / 512);
  EXPECT_DOUBLE_EQ(r.worst_frame->chroma_outside, 5.0 / 256);
  const auto per_second = range.PerSecondMaxOutside();
  ASSERT_EQ(per_second.size(), 2u);
  EXPECT_DOUBLE_EQ(per_second[0].value(), 0.0);
  EXPECT_DOUBLE_EQ(per_second[1].value(), 20.0 / 768);
  const nlohmann::json j = range.ToJson();
  EXPECT_EQ(j["frames_outside"], 1);
  EXPECT_DOUBLE_EQ(j["worst_frame"]["time"].get<double>(), 1.5);
}

TEST(QcRangeCheckerTest, TenBitBoundsAreScaled) {
  RangeChecker range;
  // Luma row: 63 64 940 941; chroma: 63 64 960 961 (2 of 4 outside each).
  media::FramePtr frame = MakeVideoFrame(AV_PIX_FMT_YUV444P10LE, 4, 1, [](int p, int x, int) {
    static const int kLuma[] = {63, 64, 940, 941};
    static const int kChroma[] = {63, 64, 960, 961};
    return p == 0 ? kLuma[x] : kChroma[x];
  });
  ASSERT_TRUE(range.OnVideoFrame(*frame, 0).ok());
  EXPECT_EQ(range.result().luma_outside, 2u);
  EXPECT_EQ(range.result().chroma_outside, 4u);
}

TEST(QcRangeCheckerTest, FullRangeFramesAreNotChecked) {
  RangeChecker range;
  media::FramePtr frame =
      MakeVideoFrame(AV_PIX_FMT_YUVJ420P, 16, 16, [](int, int, int) { return 0; });
  ASSERT_TRUE(range.OnVideoFrame(*frame, 0).ok());
  EXPECT_EQ(range.result().frames, 0);
  EXPECT_EQ(range.result().full_range_frames, 1);
  EXPECT_EQ(range.result().luma_outside, 0u);
  EXPECT_TRUE(range.ToJson()["worst_frame"].is_null());
}

TEST(QcRangeCheckerTest, DecodedRampHasTheExpectedShares) {
  // Lossless 256x16: luma = x (0..255: 16 below 16, 20 above 235), chroma =
  // x (0..127: 16 below 16).
  const std::string path = MakeFixture(
      "ramp.mkv",
      "-f lavfi -i \"color=c=black:s=256x16:r=25:d=1,format=yuv420p,geq=lum='X':cb='X':cr='X'\" "
      "-c:v ffv1");
  RangeChecker range;
  Decode(path, {&range});
  const RangeResult& r = range.result();
  ReportAgreement("range ramp", range.ToJson().dump());
  EXPECT_EQ(r.frames, 25);
  EXPECT_DOUBLE_EQ(r.luma_outside_share(), 36.0 / 256);
  EXPECT_DOUBLE_EQ(r.chroma_outside_share(), 16.0 / 128);
}

}  // namespace
}  // namespace vidgate::qc
