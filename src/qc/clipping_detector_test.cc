#include "qc/clipping_detector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media/media_test_util.h"
#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::MakeAudioFrame;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::ReportAgreement;

TEST(QcClippingDetectorTest, CountsClippedSamplesOfAnOverdrivenSine) {
  // Left: a sine at 1.5x full scale, clipped when stored as s16; right: 0.5.
  const std::string path =
      MakeFixture("clipped.wav",
                  "-f lavfi -i \"aevalsrc='1.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t)':s=48000:d=2\" "
                  "-c:a pcm_s16le");
  ClippingDetector clipping;
  Decode(path, {&clipping});
  const ClippingResult& r = clipping.result();

  // Reference: the decoded samples as ffmpeg writes them, counted here.
  int code = 0;
  const std::string raw =
      media::testing::RunCommand("ffmpeg -nostdin -v error -i '" + path + "' -f s16le -", &code);
  ASSERT_EQ(code, 0);
  std::vector<int64_t> expected(2, 0);
  for (size_t i = 0; i + 1 < raw.size(); i += 2) {
    int16_t v;
    std::memcpy(&v, raw.data() + i, 2);
    if (std::abs(static_cast<int>(v)) >= 32736) ++expected[(i / 2) % 2];
  }
  ReportAgreement("clipping s16", "ours " + std::to_string(r.clipped[0]) + "/" +
                                      std::to_string(r.clipped[1]) + " raw count " +
                                      std::to_string(expected[0]) + "/" +
                                      std::to_string(expected[1]));
  ASSERT_EQ(r.clipped.size(), 2u);
  EXPECT_EQ(r.clipped[0], expected[0]);
  EXPECT_EQ(r.clipped[1], 0);
  EXPECT_EQ(r.samples[0], 96000);
  // |1.5 sin| >= 0.999 for 1 - 2/pi * asin(0.999 / 1.5) = 53.6 % of the time.
  EXPECT_NEAR(r.channel_share(0), 0.536, 0.01);
  EXPECT_NEAR(r.share(), 0.268, 0.005);
  ASSERT_TRUE(r.first_clip_time.has_value());
  EXPECT_LT(*r.first_clip_time, 0.001);
}

TEST(QcClippingDetectorTest, FloatAtOrBeyondThreshold) {
  ClippingDetector clipping;
  media::FramePtr frame =
      MakeAudioFrame(AV_SAMPLE_FMT_FLTP, 1, 1000, {0.5, 0.9989, 0.999, -1.0, 1.2, 0.0});
  ASSERT_TRUE(clipping.OnAudioFrame(*frame, 2.0).ok());
  EXPECT_EQ(clipping.result().total_clipped(), 3);
  ASSERT_TRUE(clipping.result().first_clip_time.has_value());
  EXPECT_DOUBLE_EQ(*clipping.result().first_clip_time, 2.002);
  const nlohmann::json j = clipping.ToJson();
  EXPECT_EQ(j["clipped_samples"], 3);
  EXPECT_DOUBLE_EQ(j["channels"][0]["share"].get<double>(), 0.5);
}

}  // namespace
}  // namespace vidgate::qc
