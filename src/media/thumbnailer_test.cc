#include "media/thumbnailer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "common/util.h"
#include "media/media_test_util.h"
#include "media/probe.h"
#include "media/synthesize.h"

namespace vidgate::media {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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
  EXPECT_EQ(thumbs.files(),
            (std::vector<std::string>{"poster.jpg", "0001.jpg", "0002.jpg", "0003.jpg", "0004.jpg",
                                      "sprite.jpg", "sprite.vtt"}));
  auto poster = Probe((dir / "out" / "poster.jpg").string());
  ASSERT_TRUE(poster.ok());
  EXPECT_EQ(poster->streams[0].codec, "mjpeg");
  EXPECT_EQ(poster->streams[0].width, 640);  // scaled down, aspect kept
  EXPECT_EQ(poster->streams[0].height, 360);
  // Taken at different times of a moving picture: not one frame four times.
  EXPECT_NE(Slurp(dir / "out" / "0001.jpg"), Slurp(dir / "out" / "0004.jpg"));
  fs::remove_all(dir);
}

// Non-square pixels (720x480 at 32:27, shown 16:9): the images have the
// shape people see.
TEST(ThumbnailerTest, NonSquarePixelsGiveImagesOfTheDisplayedShape) {
  namespace fs = std::filesystem;
  const std::string src = testing::ScratchPath("anamorphic.mp4");
  ASSERT_EQ(testing::RunFfmpeg(testing::kAnamorphicSource, src), "");
  const fs::path out = testing::ScratchPath("anamorphic-thumbs");
  fs::create_directories(out);
  Thumbnailer thumbs(out.string(), 1.0);
  ASSERT_TRUE(DecodePass(src, {&thumbs}, {}).ok());
  auto poster = Probe((out / "poster.jpg").string());
  ASSERT_TRUE(poster.ok());
  EXPECT_EQ(poster->streams[0].width, 640);
  EXPECT_EQ(poster->streams[0].height, 360);
  auto sprite = Probe((out / "sprite.jpg").string());
  ASSERT_TRUE(sprite.ok());
  // 160-wide tiles, 90 high.
  EXPECT_EQ(sprite->streams[0].width.value_or(0) % 160, 0);
  EXPECT_EQ(sprite->streams[0].height.value_or(0) % 90, 0);
}

// Which quarter of a gray picture (0 top-left, 1 top-right, 2 bottom-left,
// 3 bottom-right) is the brightest; `path` is converted with the ffmpeg CLI
// (which turns a video as its display matrix says) to `width` x `height`.
int BrightestQuarter(const std::string& path, int width, int height) {
  const std::string raw = testing::ScratchPath("quarter-" + NewUuid() + ".gray");
  EXPECT_EQ(testing::RunFfmpeg("-i " + path + " -frames:v 1 -vf scale=" + std::to_string(width) +
                                   ":" + std::to_string(height) + " -f rawvideo -pix_fmt gray",
                               raw),
            "");
  const std::string bytes = Slurp(raw);
  if (bytes.size() != static_cast<size_t>(width) * height) return -1;
  std::array<int64_t, 4> sums{};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      sums[static_cast<size_t>((y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1))] +=
          static_cast<uint8_t>(bytes[static_cast<size_t>(y) * width + x]);
    }
  }
  return static_cast<int>(std::max_element(sums.begin(), sums.end()) - sums.begin());
}

// A phone video: landscape pictures with a display matrix that turns them.
// The images come out turned as ffmpeg shows the video, at its shown size.
TEST(ThumbnailerTest, RotatedVideoGivesImagesTurnedAsShown) {
  namespace fs = std::filesystem;
  // A white box in the top-left corner of a black 320x180 picture.
  const std::string flat = testing::ScratchPath("corner.mp4");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i color=black:s=320x180:r=25:d=1 -vf "
                               "drawbox=x=0:y=0:w=80:h=45:color=white:t=fill -c:v libx264 "
                               "-preset ultrafast -pix_fmt yuv420p",
                               flat),
            "");
  for (int tag : {90, 180, 270}) {
    SCOPED_TRACE(::testing::Message() << "rotate=" << tag);
    const std::string src = testing::ScratchPath("corner-" + std::to_string(tag) + ".mp4");
    ASSERT_EQ(testing::RunFfmpeg(
                  "-i " + flat + " -c copy -metadata:s:v:0 rotate=" + std::to_string(tag), src),
              "");
    auto probe = Probe(src);
    ASSERT_TRUE(probe.ok());
    const int rotation = probe->streams[0].rotation;
    EXPECT_NE(rotation, 0);
    const bool quarter = rotation == 90 || rotation == 270;
    const fs::path out = testing::ScratchPath("corner-thumbs-" + std::to_string(tag));
    fs::create_directories(out);
    ThumbnailSpec spec;
    spec.rotation = rotation;
    Thumbnailer thumbs(out.string(), 1.0, spec);
    ASSERT_TRUE(DecodePass(src, {&thumbs}, {}).ok());
    auto poster = Probe((out / "poster.jpg").string());
    ASSERT_TRUE(poster.ok());
    const int width = poster->streams[0].width.value_or(0);
    const int height = poster->streams[0].height.value_or(0);
    EXPECT_EQ(width, quarter ? 180 : 320);
    EXPECT_EQ(height, quarter ? 320 : 180);
    const int expected = BrightestQuarter(src, width, height);
    EXPECT_NE(expected, 0) << "ffmpeg shows the box moved";
    EXPECT_EQ(BrightestQuarter((out / "poster.jpg").string(), width, height), expected);
  }
}

TEST(ThumbnailerTest, SpriteSheetTilesTheVideoWithAWebVttIndex) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vidgate-sprite-" + NewUuid());
  fs::create_directories(dir / "out");
  std::string src = (dir / "src.mp4").string();
  SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 12.5;
  o.audio = false;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  ThumbnailSpec spec;
  spec.count = 0;
  spec.sprite_tiles = 5;  // one every 2.5 s
  spec.sprite_tile_width = 64;
  spec.sprite_columns = 2;
  Thumbnailer thumbs((dir / "out").string(), 12.5, spec);
  ASSERT_TRUE(DecodePass(src, {&thumbs}, {}).ok());
  auto sheet = Probe((dir / "out" / "sprite.jpg").string());
  ASSERT_TRUE(sheet.ok()) << sheet.status().ToString();
  EXPECT_EQ(sheet->streams[0].width, 128);   // 2 columns of 64
  EXPECT_EQ(sheet->streams[0].height, 108);  // 3 rows of 36
  const std::string vtt = Slurp(dir / "out" / "sprite.vtt");
  EXPECT_TRUE(vtt.starts_with("WEBVTT\n")) << vtt;
  EXPECT_NE(vtt.find("00:00:00.000 --> 00:00:02.500\nsprite.jpg#xywh=0,0,64,36"), std::string::npos)
      << vtt;
  EXPECT_NE(vtt.find("00:00:10.000 --> 00:00:12.500\nsprite.jpg#xywh=0,72,64,36"),
            std::string::npos)
      << vtt;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vidgate::media

namespace vidgate::media {
namespace {

// Thumbnails of `src` as the pipeline makes them (duration from the probe's
// decoded timeline, colour from its description); the files written, and the sprite's index in
// *vtt.
std::vector<std::string> ThumbnailsOf(const std::string& src, const std::string& out,
                                      std::string* vtt = nullptr) {
  std::filesystem::create_directories(out);
  auto probe = Probe(src);
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  if (!probe.ok()) return {};
  ThumbnailSpec spec;
  spec.colour = probe->streams.at(0).colour;
  Thumbnailer thumbs(out, probe->PlayingSeconds(), spec);
  Result<DecodeStats> stats = DecodePass(src, {&thumbs}, {});
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (vtt != nullptr) *vtt = Slurp(std::filesystem::path(out) / "sprite.vtt");
  return thumbs.files();
}

// The middle pixel of a JPEG as RGB (JPEG is full-range BT.601 by definition).
std::array<int, 3> JpegMiddle(const std::string& path) {
  int code = 0;
  const std::string rgb = testing::RunCommand(
      "ffmpeg -nostdin -v error -i '" + path +
          "' -vf crop=2:2,scale=in_color_matrix=bt601:in_range=pc,format=rgb24 -f rawvideo -",
      &code);
  if (code != 0 || rgb.size() < 3) return {-1, -1, -1};
  return {static_cast<uint8_t>(rgb[0]), static_cast<uint8_t>(rgb[1]), static_cast<uint8_t>(rgb[2])};
}

// Thumbnails show the colours the video shows, whatever its matrix: a green
// (0,188,0) BT.709 picture stays that green in the JPEGs.
TEST(ThumbnailerTest, ImagesKeepTheVideosColours) {
  namespace fs = std::filesystem;
  for (const char* matrix : {"bt709", "bt601"}) {
    SCOPED_TRACE(matrix);
    const std::string src = testing::ScratchPath(std::string("green-") + matrix + ".mp4");
    ASSERT_EQ(testing::RunFfmpeg(std::string("-f lavfi -i color=c=0x00BC00:s=1280x720:r=25:d=1 "
                                             "-vf scale=out_color_matrix=") +
                                     matrix + ":out_range=tv,format=yuv420p -colorspace " +
                                     (std::string(matrix) == "bt709" ? "bt709" : "smpte170m") +
                                     " -c:v libx264 -preset ultrafast",
                                 src),
              "");
    const fs::path out = testing::ScratchPath(std::string("green-thumbs-") + matrix);
    ASSERT_FALSE(ThumbnailsOf(src, out.string()).empty());
    for (const char* name : {"poster.jpg", "0001.jpg", "sprite.jpg"}) {
      const auto px = JpegMiddle((out / name).string());
      EXPECT_NEAR(px[0], 0, 6) << name << " " << px[0] << "," << px[1] << "," << px[2];
      EXPECT_NEAR(px[1], 188, 6) << name << " " << px[0] << "," << px[1] << "," << px[2];
      EXPECT_NEAR(px[2], 0, 6) << name << " " << px[0] << "," << px[1] << "," << px[2];
    }
  }
}

// An HDR10 video's poster is tone-mapped: colourful, not grey.
TEST(ThumbnailerTest, HdrPicturesAreToneMapped) {
  namespace fs = std::filesystem;
  const std::string src = testing::ScratchPath("hdr-thumbs.mp4");
  ASSERT_EQ(testing::RunFfmpeg(
                "-f lavfi -i color=c=0x00BC00:s=640x360:r=25:d=1 -vf format=gbrpf32le,zscale=tin="
                "709:t=smpte2084:pin=709:p=2020:m=2020_ncl:npl=100:rin=full:r=limited,format="
                "yuv420p10le -c:v libx265 -preset ultrafast -color_primaries bt2020 -color_trc "
                "smpte2084 -colorspace bt2020nc -x265-params log-level=error",
                src),
            "");
  const fs::path out = testing::ScratchPath("hdr-thumbs");
  ASSERT_FALSE(ThumbnailsOf(src, out.string()).empty());
  const auto px = JpegMiddle((out / "poster.jpg").string());
  // ffmpeg's own zscale + tonemap chain, read back as RGB, gives 0,123,0
  // here; without tone mapping the green reads 85,114,61 (grey and dull).
  // (This test expected 0,145,0, what the image gave while it held BT.709
  // limited-range samples in a JPEG, which readers take for BT.601 full
  // range.)
  EXPECT_NEAR(px[0], 0, 8) << px[0] << "," << px[1] << "," << px[2];
  EXPECT_NEAR(px[1], 123, 8) << px[0] << "," << px[1] << "," << px[2];
  EXPECT_NEAR(px[2], 0, 8) << px[0] << "," << px[1] << "," << px[2];
}

// zimg refuses 4:2:0 pictures of an odd size: they are scaled first, then
// tone-mapped like the rest, and look as the same picture at an even size
// does (they were converted without tone mapping: 57,125,26 against
// 26,140,11 here).
TEST(ThumbnailerTest, OddSizedHdrPicturesAreToneMappedToo) {
  namespace fs = std::filesystem;
  std::array<int, 3> pixels[2];
  for (const int odd : {0, 1}) {
    const std::string size = std::to_string(640 + odd) + ":" + std::to_string(360 + odd);
    const std::string src = testing::ScratchPath("hdr-thumbs-" + size.substr(0, 3) + ".mkv");
    // Odd-sized 4:4:4 from zimg, then 4:2:0 by swscale (which zimg would
    // refuse, and which keeps the matrix).
    ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i color=c=0x00BC00:s=640x360:r=25:d=1 -vf "
                                 "format=gbrpf32le,scale=" +
                                     size +
                                     ",zscale=tin=709:t=smpte2084:pin=709:p=2020:m=2020_ncl:npl="
                                     "100:rin=full:r=limited,format=yuv444p10le,scale=flags="
                                     "neighbor,format=yuv420p10le -c:v ffv1 -color_primaries "
                                     "bt2020 -color_trc smpte2084 -colorspace bt2020nc",
                                 src),
              "");
    const fs::path out = testing::ScratchPath("hdr-thumbs-" + size.substr(0, 3));
    ASSERT_FALSE(ThumbnailsOf(src, out.string()).empty());
    const auto px = JpegMiddle((out / "poster.jpg").string());
    pixels[odd] = {px[0], px[1], px[2]};
  }
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(pixels[1][c], pixels[0][c], 8)
        << "odd " << pixels[1][0] << "," << pixels[1][1] << "," << pixels[1][2] << " even "
        << pixels[0][0] << "," << pixels[0][1] << "," << pixels[0][2];
  }
}

}  // namespace
}  // namespace vidgate::media

namespace vidgate::media {
namespace {

const std::vector<std::string> kAllImages = {"poster.jpg", "0001.jpg",   "0002.jpg",  "0003.jpg",
                                             "0004.jpg",   "sprite.jpg", "sprite.vtt"};

// A recording whose timestamps start an hour in (a broadcast recorder's):
// MP4 and Matroska count their duration from zero (3603 s here), which once
// left it without poster or thumbnails and with a sprite index an hour long.
TEST(ThumbnailerTest, TimestampsAnHourInStillGiveEveryImage) {
  for (const char* ext : {"mp4", "mkv", "ts"}) {
    SCOPED_TRACE(ext);
    const std::string src = testing::ScratchPath(std::string("late.") + ext);
    ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=320x240:r=25:d=3 -c:v libx264 -preset "
                                 "ultrafast -output_ts_offset 3600",
                                 src),
              "");
    auto probe = Probe(src);
    ASSERT_TRUE(probe.ok());
    EXPECT_NEAR(probe->PlayingSeconds(), 3.0, 0.1);
    std::string vtt;
    EXPECT_EQ(ThumbnailsOf(src, testing::ScratchPath(std::string("late-") + ext), &vtt),
              kAllImages);
    EXPECT_NE(vtt.find("00:00:02.000 --> 00:00:03.0"), std::string::npos) << vtt;
    EXPECT_EQ(vtt.find("01:00:"), std::string::npos) << vtt;
  }
}

// One frame, five frames: a poster and all four thumbnails (one frame once
// gave none, five frames three of the four).
TEST(ThumbnailerTest, AFewFramesStillGiveEveryImage) {
  for (int frames : {1, 2, 5}) {
    SCOPED_TRACE(frames);
    const std::string src = testing::ScratchPath("frames-" + std::to_string(frames) + ".mp4");
    ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=320x240:r=25 -frames:v " +
                                     std::to_string(frames) + " -c:v libx264 -preset ultrafast",
                                 src),
              "");
    EXPECT_EQ(ThumbnailsOf(src, testing::ScratchPath("frames-out-" + std::to_string(frames))),
              kAllImages);
  }
}

}  // namespace
}  // namespace vidgate::media
