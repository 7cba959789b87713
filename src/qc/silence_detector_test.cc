#include "qc/silence_detector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::FfmpegLog;
using ::vidgate::qc::testing::MainFixture;
using ::vidgate::qc::testing::MakeAudioFrame;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::MaxSegmentError;
using ::vidgate::qc::testing::ParseSilencedetect;
using ::vidgate::qc::testing::ReportAgreement;
using ::vidgate::qc::testing::ToString;

constexpr double kAudioTolerance = 0.050;

std::vector<Segment> CompareWithSilencedetect(const std::string& what, const std::string& path) {
  SilenceDetector silence;
  Decode(path, {&silence});
  const std::vector<Segment> ours = silence.result().segments;
  const std::vector<Segment> ref =
      ParseSilencedetect(FfmpegLog(path, "-af silencedetect=n=-60dB:d=2 -vn"));
  const double err = MaxSegmentError(ours, ref);
  ReportAgreement(what, "ours " + ToString(ours) + " ffmpeg " + ToString(ref) + " max |diff| " +
                            std::to_string(err * 1000) + " ms");
  EXPECT_LE(err, kAudioTolerance) << "ours " << ToString(ours) << " ffmpeg " << ToString(ref);
  return ours;
}

TEST(QcSilenceDetectorTest, MatchesSilencedetectOnTheMainFixture) {
  // AAC decodes to planar float.
  const auto ours = CompareWithSilencedetect("silence main (aac fltp)", MainFixture());
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_NEAR(ours[0].start, 6.0, kAudioTolerance);
  EXPECT_NEAR(ours[0].end, 9.0, kAudioTolerance);
}

// Stereo: left silent from 6 to 9 s, right from 6.5 to 9 s, so both are
// silent from 6.5 to 9 s only; both are silent again from 9.5 s to the end
// (12 s). Each PCM codec decodes to its own sample format (s16, s32, flt,
// dbl, u8).
class QcSilenceFormatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QcSilenceFormatTest, SilentOnlyWhenEveryChannelIsAndMatchesSilencedetect) {
  const std::string codec = GetParam();
  const std::string path =
      MakeFixture("silence_" + codec + ".wav",
                  "-f lavfi -i \"aevalsrc='0.1*sin(2*PI*440*t)*(1-between(t,6,9))*lt(t,9.5)|"
                  "0.1*sin(2*PI*660*t)*(1-between(t,6.5,9))*lt(t,9.5)':s=48000:d=12\" -c:a " +
                      codec);
  const auto ours = CompareWithSilencedetect("silence wav " + codec, path);
  ASSERT_EQ(ours.size(), 2u) << ToString(ours);
  EXPECT_NEAR(ours[0].start, 6.5, kAudioTolerance);
  EXPECT_NEAR(ours[0].end, 9.0, kAudioTolerance);
  EXPECT_NEAR(ours[1].start, 9.5, kAudioTolerance);
  EXPECT_NEAR(ours[1].end, 12.0, kAudioTolerance);
}

INSTANTIATE_TEST_SUITE_P(Formats, QcSilenceFormatTest,
                         ::testing::Values("pcm_s16le", "pcm_s24le", "pcm_f32le", "pcm_f64le",
                                           "pcm_u8"));

TEST(QcSilenceDetectorTest, ThresholdAndMinimumDurationInSamples) {
  // 1000 Hz mono; min duration 0.1 s = 100 samples.
  auto run = [](double level, int silent_samples) {
    SilenceDetector silence({.noise = 0.001, .min_duration = 0.1});
    std::vector<double> s(1000, 0.5);
    for (int i = 200; i < 200 + silent_samples; ++i) s[static_cast<size_t>(i)] = level;
    media::FramePtr frame = MakeAudioFrame(AV_SAMPLE_FMT_DBLP, 1, 1000, s);
    EXPECT_TRUE(silence.OnAudioFrame(*frame, 1.0).ok());
    EXPECT_TRUE(silence.Finish().ok());
    return silence.result().segments;
  };
  const auto found = run(0.00099, 100);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_DOUBLE_EQ(found[0].start, 1.2);
  EXPECT_DOUBLE_EQ(found[0].end, 1.3);
  EXPECT_TRUE(run(-0.00099, 100).size() == 1u);
  EXPECT_TRUE(run(0.001, 100).empty());   // not below the threshold
  EXPECT_TRUE(run(0.00099, 99).empty());  // too short
}

TEST(QcSilenceDetectorTest, RunsAcrossFramesAndToTheEnd) {
  SilenceDetector silence({.noise = 0.001, .min_duration = 0.5});
  for (int f = 0; f < 10; ++f) {                    // 10 frames of 100 samples at 1000 Hz
    std::vector<double> s(200, f < 3 ? 0.3 : 0.0);  // stereo
    media::FramePtr frame = MakeAudioFrame(AV_SAMPLE_FMT_S16, 2, 1000, s);
    ASSERT_TRUE(silence.OnAudioFrame(*frame, f * 0.1).ok());
  }
  ASSERT_TRUE(silence.Finish().ok());
  ASSERT_EQ(silence.result().segments.size(), 1u);
  EXPECT_NEAR(silence.result().segments[0].start, 0.3, 1e-12);
  EXPECT_NEAR(silence.result().segments[0].end, 1.0, 1e-12);
  EXPECT_EQ(silence.ToJson()["segments"].size(), 1u);
}

}  // namespace
}  // namespace vidgate::qc
