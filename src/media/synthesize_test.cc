#include "media/synthesize.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util.h"
#include "media/decode_pass.h"
#include "media/probe.h"

namespace vidgate::media {
namespace {

TEST(SynthesizeTest, WritesAClipThatProbesAsAsked) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("vidgate-synth-" + NewUuid() + ".mp4")).string();
  SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 2;
  o.black = {{0.5, 1.0}};
  o.silent = {{1.0, 1.5}};
  ASSERT_TRUE(SynthesizeClip(path, o).ok());
  auto probe = Probe(path);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  ASSERT_EQ(probe->streams.size(), 2u);
  EXPECT_EQ(probe->streams[0].codec, "h264");
  EXPECT_EQ(probe->streams[0].width, 320);
  EXPECT_EQ(probe->streams[0].height, 180);
  EXPECT_NEAR(probe->streams[0].frame_rate.value_or(0), 25, 1e-6);
  EXPECT_EQ(probe->streams[1].codec, "aac");
  EXPECT_EQ(probe->streams[1].sample_rate, 48000);
  EXPECT_NEAR(probe->format.duration.value_or(0), 2.0, 0.1);
  auto stats = DecodePass(path, {}, {});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->video_frames, 50);
  EXPECT_EQ(stats->decode_errors, 0);
  std::filesystem::remove(path);
}

TEST(SynthesizeTest, BadOptionsAreInvalidArgument) {
  SynthOptions o;
  o.width = 101;
  EXPECT_EQ(SynthesizeClip("/tmp/never.mp4", o).code(), Code::kInvalidArgument);
}

TEST(SynthesizeTest, UnwritablePathIsAnError) {
  EXPECT_FALSE(SynthesizeClip("/nonexistent-dir/x.mp4", SynthOptions{}).ok());
}

}  // namespace
}  // namespace vidgate::media
