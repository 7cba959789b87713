#include "media/rendition_encoder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util.h"
#include "media/synthesize.h"

namespace vidgate::media {
namespace {

class RenditionTest : public ::testing::Test {
 protected:
  std::string Temp(const std::string& ext) {
    paths_.push_back(
        (std::filesystem::temp_directory_path() / ("vidgate-rendition-" + NewUuid() + ext))
            .string());
    return paths_.back();
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  // Encodes `source` in one decode pass; returns the rendition's probe.
  ProbeResult Encode(const std::string& source, const RenditionSpec& spec) {
    auto probe = Probe(source);
    EXPECT_TRUE(probe.ok());
    std::string out = Temp(".mp4");
    auto enc = RenditionEncoder::Create(out, spec, *probe);
    EXPECT_TRUE(enc.ok()) << enc.status().ToString();
    auto stats = DecodePass(source, {enc->get()}, {});
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    auto written = Probe(out);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written.ok() ? *written : ProbeResult{};
  }
  std::vector<std::string> paths_;
};

TEST_F(RenditionTest, ScalesDownKeepingTheAspectAndTheDuration) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 640;
  o.height = 360;
  o.seconds = 2;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  RenditionSpec spec;
  spec.max_height = 240;
  ProbeResult r = Encode(src, spec);
  ASSERT_EQ(r.streams.size(), 2u);
  EXPECT_EQ(r.streams[0].codec, "h264");
  EXPECT_EQ(r.streams[0].width, 426);
  EXPECT_EQ(r.streams[0].height, 240);
  EXPECT_EQ(r.streams[1].codec, "aac");
  EXPECT_NEAR(r.streams[0].duration.value_or(0), 2.0, 0.05);
  EXPECT_NEAR(r.streams[1].duration.value_or(0), 2.0, 0.05);
}

TEST_F(RenditionTest, NeverUpscalesAndKeepsSizesEven) {
  std::string src = Temp(".mkv");
  // An odd-sized 4:4:4 10-bit source (lossless FFV1), video only.
  ASSERT_EQ(
      std::system(
          ("ffmpeg -v error -f lavfi -i testsrc2=size=720x406:rate=25:duration=1 -vf scale=719:405 "
           "-pix_fmt yuv444p10le -c:v ffv1 -y '" +
           src + "'")
              .c_str()),
      0);
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].height, 404);
  EXPECT_EQ(r.streams[0].width, 716);
  EXPECT_EQ(r.streams[0].pix_fmt, "yuv420p");
}

TEST_F(RenditionTest, AudioOnlySourceGivesAnAudioRendition) {
  std::string src = Temp(".wav");
  ASSERT_EQ(
      std::system(
          ("ffmpeg -v error -f lavfi -i sine=duration=1:sample_rate=44100 -ac 1 -y '" + src + "'")
              .c_str()),
      0);
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].codec, "aac");
  EXPECT_EQ(r.streams[0].sample_rate, 44100);
  EXPECT_NEAR(r.format.duration.value_or(0), 1.0, 0.05);
}

}  // namespace
}  // namespace vidgate::media
