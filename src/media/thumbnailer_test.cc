#include "media/thumbnailer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util.h"
#include "media/probe.h"
#include "media/synthesize.h"

namespace vidgate::media {
namespace {

TEST(ThumbnailerTest, PosterAndEvenlySpacedThumbnails) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vidgate-thumbs-" + NewUuid());
  fs::create_directories(dir);
  std::string src = (dir / "src.mp4").string();
  SynthOptions o;
  o.width = 1280;
  o.height = 720;
  o.seconds = 2;
  o.audio = false;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  Thumbnailer thumbs((dir / "out").string(), 2.0);
  fs::create_directories(dir / "out");
  ASSERT_TRUE(DecodePass(src, {&thumbs}, {}).ok());
  // The poster at 10 % (0.2 s), thumbnails at 0.25, 0.75, 1.25 and 1.75 s.
  EXPECT_EQ(thumbs.files(), (std::vector<std::string>{"poster.jpg", "0001.jpg", "0002.jpg",
                                                      "0003.jpg", "0004.jpg"}));
  auto poster = Probe((dir / "out" / "poster.jpg").string());
  ASSERT_TRUE(poster.ok());
  EXPECT_EQ(poster->streams[0].codec, "mjpeg");
  EXPECT_EQ(poster->streams[0].width, 640);  // scaled down, aspect kept
  EXPECT_EQ(poster->streams[0].height, 360);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vidgate::media
