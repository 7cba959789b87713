#include "media/hls_master.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/util.h"

namespace vidgate::media {
namespace {

namespace fs = std::filesystem;

class HlsMasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vidgate-hls-" + NewUuid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, size_t bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << std::string(bytes, 'x');
  }
  fs::path dir_;
};

TEST_F(HlsMasterTest, MeasuresPeakAndAverageOverSegments) {
  Write("init.mp4", 1000);
  Write("00000.m4s", 100000);  // 2 s: 400 kb/s
  Write("00001.m4s", 150000);  // 1 s: 1200 kb/s, the peak
  Write("00002.m4s", 9000);    // 0.04 s tail: 1800 kb/s, too short to count
  std::ofstream(dir_ / "index.m3u8") << "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                                        "#EXT-X-MAP:URI=\"init.mp4\"\n"
                                        "#EXTINF:2.000000,\n00000.m4s\n"
                                        "#EXTINF:1.000000,\n00001.m4s\n"
                                        "#EXTINF:0.040000,\n00002.m4s\n#EXT-X-ENDLIST\n";
  auto rates = MeasureMediaPlaylist((dir_ / "index.m3u8").string());
  ASSERT_TRUE(rates.ok()) << rates.status().ToString();
  EXPECT_EQ(rates->peak, 1'200'000);
  // 260 000 bytes over 3.04 s, rounded up.
  EXPECT_EQ(rates->average, 684211);
}

TEST_F(HlsMasterTest, MissingSegmentOrEmptyPlaylistIsAnError) {
  std::ofstream(dir_ / "a.m3u8") << "#EXTM3U\n#EXTINF:2.0,\ngone.m4s\n";
  EXPECT_EQ(MeasureMediaPlaylist((dir_ / "a.m3u8").string()).status().code(), Code::kNotFound);
  std::ofstream(dir_ / "b.m3u8") << "#EXTM3U\n#EXT-X-ENDLIST\n";
  EXPECT_EQ(MeasureMediaPlaylist((dir_ / "b.m3u8").string()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MeasureMediaPlaylist((dir_ / "none.m3u8").string()).status().code(), Code::kNotFound);
}

TEST(HlsMasterPlaylistTest, ListsEveryVariantWithItsAttributes) {
  std::string text = HlsMasterPlaylist(
      {{"hd/index.m3u8", 900000, 800000, 1280, 720, 25, "avc1.64001f,mp4a.40.2", "SDR", ""},
       {"hdr/index.m3u8", 1900000, 1800000, 1280, 720, 25, "hvc1.2.4.L93.B0,mp4a.40.2", "PQ", ""},
       {"audio/index.m3u8", 130000, 128000, 0, 0, 0, "", "", ""}});
  EXPECT_EQ(
      text,
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=1280x720,"
      "FRAME-RATE=25.000,CODECS=\"avc1.64001f,mp4a.40.2\",VIDEO-RANGE=SDR\nhd/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1900000,AVERAGE-BANDWIDTH=1800000,RESOLUTION=1280x720,"
      "FRAME-RATE=25.000,CODECS=\"hvc1.2.4.L93.B0,mp4a.40.2\",VIDEO-RANGE=PQ\nhdr/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=130000,AVERAGE-BANDWIDTH=128000\naudio/index.m3u8\n");
}

TEST(HlsMasterPlaylistTest, SoundTracksAndSubtitlesAreGroupsOfTheVariants) {
  std::string text =
      HlsMasterPlaylist({{"main/index.m3u8", 900000, 800000, 640, 360, 25, "avc1.64001e,mp4a.40.2",
                          "SDR", "audio-main"}},
                        {{"subtitles/en.m3u8", "en", "en"}, {"subtitles/und.m3u8", "und", "und"}},
                        {{"audio-main", "en", "en", "", true},
                         {"audio-main", "fr", "fr", "main-audio-fr/index.m3u8", false}});
  EXPECT_EQ(text,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-main\",NAME=\"en\",LANGUAGE=\"en\","
            "DEFAULT=YES,AUTOSELECT=YES\n"
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-main\",NAME=\"fr\",LANGUAGE=\"fr\","
            "DEFAULT=NO,AUTOSELECT=YES,URI=\"main-audio-fr/index.m3u8\"\n"
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",LANGUAGE=\"en\","
            "DEFAULT=NO,AUTOSELECT=YES,URI=\"subtitles/en.m3u8\"\n"
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"und\",DEFAULT=NO,"
            "AUTOSELECT=YES,URI=\"subtitles/und.m3u8\"\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,"
            "FRAME-RATE=25.000,CODECS=\"avc1.64001e,mp4a.40.2\",VIDEO-RANGE=SDR,"
            "AUDIO=\"audio-main\",SUBTITLES=\"subs\"\nmain/index.m3u8\n");
  EXPECT_EQ(HlsSubtitlePlaylist("../../captions/en.vtt", 1.52),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.520,\n../../captions/en.vtt\n#EXT-X-ENDLIST\n");
}

}  // namespace
}  // namespace vidgate::media
