#include "qc/internal/audio_samples.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc::internal {
namespace {

using ::vidgate::qc::testing::MakeAudioFrame;

TEST(QcAudioSamplesTest, ConvertsEveryFormatPackedAndPlanarToInterleavedFloat) {
  // Three sample frames of two channels, exactly representable in every format.
  const std::vector<double> in = {0.5, -0.25, 0.0, 0.125, -1.0, 0.75};
  for (AVSampleFormat format :
       {AV_SAMPLE_FMT_U8, AV_SAMPLE_FMT_U8P, AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P,
        AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_S32P, AV_SAMPLE_FMT_S64, AV_SAMPLE_FMT_S64P,
        AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_DBL, AV_SAMPLE_FMT_DBLP}) {
    SCOPED_TRACE(av_get_sample_fmt_name(format));
    media::FramePtr frame = MakeAudioFrame(format, 2, 48000, in);
    std::vector<float> out;
    std::string why;
    ASSERT_TRUE(ToInterleavedFloat(*frame, &out, &why)) << why;
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[i], in[i], 1e-6) << i;
  }
}

TEST(QcAudioSamplesTest, IntegerFullScale) {
  media::FramePtr frame = MakeAudioFrame(AV_SAMPLE_FMT_S16, 1, 48000, {1.0, -1.0});
  std::vector<float> out;
  std::string why;
  ASSERT_TRUE(ToInterleavedFloat(*frame, &out, &why)) << why;
  EXPECT_FLOAT_EQ(out[0], 32767.0f / 32768.0f);  // saturated
  EXPECT_FLOAT_EQ(out[1], -1.0f);
}

TEST(QcAudioSamplesTest, RejectsAFrameWithoutChannels) {
  media::FramePtr frame(av_frame_alloc());
  frame->format = AV_SAMPLE_FMT_FLT;
  frame->sample_rate = 48000;
  std::vector<float> out;
  std::string why;
  EXPECT_FALSE(ToInterleavedFloat(*frame, &out, &why));
  EXPECT_NE(why, "");
}

}  // namespace
}  // namespace vidgate::qc::internal
