#include "qc/video_series.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::FfmpegLog;
using ::vidgate::qc::testing::MainFixture;
using ::vidgate::qc::testing::MakeVideoFrame;
using ::vidgate::qc::testing::ReportAgreement;

// Per-second means of signalstats' YAVG and YDIF (YDIF without the first
// frame, which has no predecessor).
struct SignalStats {
  std::vector<double> yavg;
  std::vector<double> ydif;
};

SignalStats PerSecondSignalStats(const std::string& path) {
  const std::string log = FfmpegLog(path, "-vf signalstats,metadata=mode=print -an");
  const std::vector<testing::LogValue> values =
      testing::FindValues(log, {"pts_time:", "YAVG=", "YDIF="});
  std::map<int, std::pair<double, int>> yavg, ydif;
  int second = 0;
  int frame = -1;
  for (const testing::LogValue& v : values) {
    if (v.key == 0) {
      second = static_cast<int>(std::floor(v.value));
      ++frame;
    } else if (v.key == 1) {
      yavg[second].first += v.value;
      ++yavg[second].second;
    } else if (frame > 0) {
      ydif[second].first += v.value;
      ++ydif[second].second;
    }
  }
  SignalStats out;
  for (const auto& [s, v] : yavg) out.yavg.push_back(v.first / v.second);
  for (const auto& [s, v] : ydif) out.ydif.push_back(v.first / v.second);
  return out;
}

double MaxError(const std::vector<std::optional<double>>& ours, const std::vector<double>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double err = 0;
  for (size_t k = 0; k < ref.size(); ++k) {
    if (!ours[k].has_value()) return INFINITY;
    err = std::max(err, std::fabs(*ours[k] - ref[k]));
  }
  return err;
}

TEST(QcVideoSeriesTest, MatchesSignalstatsPerSecond) {
  LuminanceSeries luma;
  MotionSeries motion;
  Decode(MainFixture(), {&luma, &motion});
  const SignalStats ref = PerSecondSignalStats(MainFixture());
  const auto ours_luma = luma.PerSecond();
  const auto ours_motion = motion.PerSecond();
  ASSERT_EQ(ours_luma.size(), 12u);
  const double luma_err = MaxError(ours_luma, ref.yavg);
  const double motion_err = MaxError(ours_motion, ref.ydif);
  ReportAgreement("luma series vs signalstats YAVG",
                  "max |diff| " + std::to_string(luma_err) + " (8-bit code values)");
  ReportAgreement("motion series vs signalstats YDIF",
                  "max |diff| " + std::to_string(motion_err) + " (8-bit code values)");
  EXPECT_LE(luma_err, 0.01);
  EXPECT_LE(motion_err, 0.01);
  // Black from 3.0 to 5.5 s; the picture is still in seconds 3, 4, 7, 8.
  EXPECT_NEAR(*ours_luma[4], 16, 0.5);
  EXPECT_LT(*ours_motion[4], 0.01);
  EXPECT_LT(*ours_motion[8], 0.01);
  EXPECT_GT(*ours_motion[1], 0.5);
  EXPECT_EQ(luma.ToJson().size(), 12u);
}

TEST(QcVideoSeriesTest, TenBitIsReportedInEightBitCodeValues) {
  LuminanceSeries luma;
  MotionSeries motion;
  for (int i = 0; i < 4; ++i) {
    const int y = i < 2 ? 64 : 940;  // 16 and 235 in 8-bit terms
    media::FramePtr f = MakeVideoFrame(AV_PIX_FMT_YUV420P10LE, 16, 16,
                                       [y](int p, int, int) { return p == 0 ? y : 512; });
    ASSERT_TRUE(luma.OnVideoFrame(*f, i * 0.5).ok());
    ASSERT_TRUE(motion.OnVideoFrame(*f, i * 0.5).ok());
  }
  ASSERT_TRUE(motion.Finish().ok());
  const auto l = luma.PerSecond();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_DOUBLE_EQ(*l[0], 16);
  EXPECT_DOUBLE_EQ(*l[1], 235);
  const auto m = motion.PerSecond();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(*m[0], 0);                // frame 1 equals frame 0
  EXPECT_DOUBLE_EQ(*m[1], (219.0 + 0) / 2);  // frames 2 (jump) and 3 (still)
  EXPECT_EQ(motion.ToJson().dump(), "[0.0,109.5]");
}

TEST(QcVideoSeriesTest, SecondsWithoutFramesAreNull) {
  LuminanceSeries luma;
  media::FramePtr f = MakeVideoFrame(AV_PIX_FMT_GRAY8, 8, 8, [](int, int, int) { return 100; });
  ASSERT_TRUE(luma.OnVideoFrame(*f, 0.2).ok());
  ASSERT_TRUE(luma.OnVideoFrame(*f, 2.2).ok());
  EXPECT_EQ(luma.ToJson().dump(), "[100.0,null,100.0]");
}

}  // namespace
}  // namespace vidgate::qc
