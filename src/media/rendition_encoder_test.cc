#include "media/rendition_encoder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/util.h"
#include "media/media_test_util.h"
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
  ProbeResult Encode(const std::string& source, const RenditionSpec& spec,
                     const HlsOutput& hls = {}, std::string* hls_codecs = nullptr) {
    auto probe = Probe(source);
    EXPECT_TRUE(probe.ok());
    std::string out = Temp(".mp4");
    auto enc = RenditionEncoder::Create(out, spec, *probe, hls);
    EXPECT_TRUE(enc.ok()) << enc.status().ToString();
    if (!enc.ok()) return ProbeResult{};
    auto stats = DecodePass(source, {enc->get()}, {});
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (hls_codecs) *hls_codecs = (*enc)->hls_codecs();
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
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=size=720x406:rate=25:duration=1 -vf "
                               "scale=719:405 -pix_fmt yuv444p10le -c:v ffv1",
                               src),
            "");
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].height, 404);
  EXPECT_EQ(r.streams[0].width, 716);
  EXPECT_EQ(r.streams[0].pix_fmt, "yuv420p");
}

// A source already at the rendition's size and format is encoded from the
// decoded pictures themselves; the source's key frames must not carry over.
TEST_F(RenditionTest, SameSizeSourceDoesNotCopyTheSourceKeyFrames) {
  std::string src = Temp(".mp4");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 "
                               "-g 5 -pix_fmt yuv420p",
                               src),
            "");
  std::string out = Temp(".mp4");
  auto probe = Probe(src);
  ASSERT_TRUE(probe.ok());
  auto enc = RenditionEncoder::Create(out, RenditionSpec{}, *probe);
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE(DecodePass(src, {enc->get()}, {}).ok());
  auto written = Probe(out);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->streams[0].width, 320);
  // Packet flags: one line per packet, "K" marks a key frame.
  int code = 0;
  const std::string flags = testing::RunCommand(
      "ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 '" + out + "'",
      &code);
  ASSERT_EQ(code, 0);
  int packets = 0, keys = 0;
  std::istringstream lines(flags);
  for (std::string line; std::getline(lines, line);) {
    ++packets;
    if (!line.empty() && line[0] == 'K') ++keys;
  }
  EXPECT_EQ(packets, 50);
  EXPECT_EQ(keys, 1) << "the encoder's own GOP (250 frames), not the source's (5)";
}

TEST_F(RenditionTest, AudioOnlySourceGivesAnAudioRendition) {
  std::string src = Temp(".wav");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i sine=duration=1:sample_rate=44100 -ac 1", src), "");
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].codec, "aac");
  EXPECT_EQ(r.streams[0].sample_rate, 44100);
  EXPECT_NEAR(r.format.duration.value_or(0), 1.0, 0.05);
}

// Every codec the config offers, each with the other audio codec too.
class RenditionCodecTest
    : public RenditionTest,
      public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(RenditionCodecTest, ProbesAsTheConfiguredCodecAndSize) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 1;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  RenditionSpec spec;
  spec.codec = GetParam().first;
  spec.audio_codec = GetParam().second;
  spec.max_height = 144;
  spec.crf = 30;
  // With HLS too: closed GOPs, segments of 0.5 s.
  std::string dir = Temp("-hls");
  std::filesystem::create_directories(dir);
  std::string codecs;
  ProbeResult r = Encode(src, spec, HlsOutput{dir, 0.5}, &codecs);
  // The master playlist's CODECS: the video's string from its headers, then
  // the audio's.
  const std::map<std::string, std::string> prefix = {
      {"h264", "avc1.64"}, {"hevc", "hvc1.1.6.L"}, {"av1", "av01.0."}, {"vp9", "vp09.00."}};
  EXPECT_EQ(codecs.rfind(prefix.at(spec.codec), 0), 0u) << codecs;
  EXPECT_TRUE(codecs.ends_with(spec.audio_codec == "aac" ? ",mp4a.40.2" : ",Opus")) << codecs;
  auto playlist = Probe(dir + "/index.m3u8");
  ASSERT_TRUE(playlist.ok()) << playlist.status().ToString();
  ASSERT_FALSE(playlist->streams.empty());
  EXPECT_EQ(playlist->streams[0].codec, spec.codec);
  EXPECT_TRUE(std::filesystem::exists(dir + "/00001.m4s")) << "a key frame every 0.5 s";
  // A segment decodes on its own: the init section and the second segment
  // alone give every picture they carry (an open GOP's leading pictures
  // would be dropped, wanting the segment before).
  const std::string alone = Temp(".mp4");
  {
    std::ofstream out(alone, std::ios::binary);
    for (const char* part : {"/init.mp4", "/00001.m4s"}) {
      std::ifstream in(dir + part, std::ios::binary);
      out << in.rdbuf();
    }
  }
  int code = 0;
  const std::string counts = testing::RunCommand(
      "ffprobe -v error -count_frames -count_packets -select_streams v -show_entries "
      "stream=nb_read_frames,nb_read_packets -of csv=p=0 '" +
          alone + "'",
      &code);
  ASSERT_EQ(code, 0);
  const size_t comma = counts.find(',');
  ASSERT_NE(comma, std::string::npos) << counts;
  EXPECT_GT(std::stoi(counts.substr(comma + 1)), 0) << counts;
  EXPECT_EQ(std::stoi(counts.substr(0, comma)), std::stoi(counts.substr(comma + 1)))
      << "frames,packets: " << counts;
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r.streams.size(), 2u);
  EXPECT_EQ(r.streams[0].codec, spec.codec);
  EXPECT_EQ(r.streams[0].width, 256);
  EXPECT_EQ(r.streams[0].height, 144);
  EXPECT_EQ(r.streams[0].pix_fmt, "yuv420p");
  EXPECT_EQ(r.streams[1].codec, spec.audio_codec);
  EXPECT_NEAR(r.format.duration.value_or(0), 1.0, 0.1);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RenditionCodecTest,
                         ::testing::Values(std::pair{"h264", "opus"}, std::pair{"hevc", "aac"},
                                           std::pair{"av1", "opus"}, std::pair{"vp9", "opus"}),
                         [](const auto& p) {
                           return std::string(p.param.first) + "_" + p.param.second;
                         });

TEST_F(RenditionTest, BitRateModeHitsRoughlyTheTarget) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 640;
  o.height = 360;
  o.seconds = 3;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  RenditionSpec spec;
  spec.bitrate = 400'000;
  ProbeResult r = Encode(src, spec);
  ASSERT_FALSE(r.streams.empty());
  // The whole file: 400 kb/s of video plus 128 kb/s of audio, give or take.
  EXPECT_GT(r.format.bit_rate.value_or(0), 250'000);
  EXPECT_LT(r.format.bit_rate.value_or(0), 800'000);
}

TEST_F(RenditionTest, HlsPlaylistCarriesTheSamePackets) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 5;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  std::string dir = Temp("-hls");
  std::filesystem::create_directories(dir);
  HlsOutput hls{dir, 2};
  ProbeResult mp4 = Encode(src, RenditionSpec{}, hls);
  ASSERT_EQ(mp4.streams.size(), 2u);
  auto playlist = Probe(dir + "/index.m3u8");
  ASSERT_TRUE(playlist.ok()) << playlist.status().ToString();
  ASSERT_GE(playlist->streams.size(), 2u);
  EXPECT_EQ(playlist->streams[0].codec, "h264");
  EXPECT_EQ(playlist->streams[0].height, 180);
  EXPECT_NEAR(playlist->format.duration.value_or(0), 5.0, 0.2);
  EXPECT_TRUE(std::filesystem::exists(dir + "/init.mp4"));
  // Key frames every 2 s: three segments for 5 s.
  EXPECT_TRUE(std::filesystem::exists(dir + "/00002.m4s"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/00003.m4s"));
  std::filesystem::remove_all(dir);
}

// An MPEG-TS whose audio switches from mono 44.1 kHz to stereo 48 kHz half
// way (two recordings joined): the resampler is rebuilt at the switch, so
// the second half keeps its speed and the rendition's audio lasts as long
// as the source's 4 s (it stretched to 4.25 s when the first half's
// resampler read on).
TEST_F(RenditionTest, AudioThatChangesRateAndLayoutMidStreamKeepsItsLength) {
  const std::string first = testing::ScratchPath("mono44.ts");
  const std::string second = testing::ScratchPath("stereo48.ts");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=160x90:r=25:d=2 -f lavfi -i "
                               "sine=f=440:r=44100:d=2 -ac 1 -c:v libx264 -c:a aac -f mpegts",
                               first),
            "");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=160x90:r=25:d=2 -f lavfi -i "
                               "sine=f=440:r=48000:d=2 -ac 2 -c:v libx264 -c:a aac "
                               "-output_ts_offset 2 -f mpegts",
                               second),
            "");
  const std::string joined = Temp(".ts");
  {
    std::ofstream out(joined, std::ios::binary);
    for (const auto& part : {first, second}) {
      std::ifstream in(part, std::ios::binary);
      out << in.rdbuf();
    }
  }
  for (const char* audio : {"aac", "opus"}) {
    RenditionSpec spec;
    spec.audio_codec = audio;
    ProbeResult r = Encode(joined, spec);
    ASSERT_EQ(r.streams.size(), 2u) << audio;
    EXPECT_NEAR(r.streams[1].duration.value_or(0), 4.0, 0.1) << audio;
  }
}

// Non-square pixels (720x480 DV at 32:27, shown 16:9): the rendition keeps
// the shape people see, in square pixels.
TEST_F(RenditionTest, NonSquarePixelsBecomeSquareKeepingTheDisplayedShape) {
  const std::string src = testing::ScratchPath("anamorphic.mp4");
  ASSERT_EQ(testing::RunFfmpeg(testing::kAnamorphicSource, src), "");
  auto probe = Probe(src);
  ASSERT_TRUE(probe.ok());
  EXPECT_NEAR(probe->streams[0].sample_aspect_ratio, 32.0 / 27, 1e-9);
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].height, 480);
  EXPECT_EQ(r.streams[0].width, 852);  // 720 * 32 / 27 = 853.3, even
  EXPECT_EQ(r.streams[0].sample_aspect_ratio, 1.0);
}

// A phone video's display matrix (portrait shot as landscape pictures) is
// carried over, so players turn the rendition as they turn the source.
TEST_F(RenditionTest, RotationIsCarriedOver) {
  const std::string flat = testing::ScratchPath("flat.mp4");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=320x180:r=25:d=1 -c:v libx264 "
                               "-preset ultrafast",
                               flat),
            "");
  const std::string src = testing::ScratchPath("turned.mp4");
  ASSERT_EQ(testing::RunFfmpeg("-i " + flat + " -c copy -metadata:s:v:0 rotate=90", src), "");
  auto probe = Probe(src);
  ASSERT_TRUE(probe.ok());
  ASSERT_NE(probe->streams[0].rotation, 0);
  std::string dir = Temp("-hls");
  std::filesystem::create_directories(dir);
  ProbeResult r = Encode(src, RenditionSpec{}, HlsOutput{dir, 1});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].rotation, probe->streams[0].rotation);
  EXPECT_EQ(r.streams[0].width, 320);
  auto playlist = Probe(dir + "/index.m3u8");
  ASSERT_TRUE(playlist.ok());
  EXPECT_EQ(playlist->streams[0].rotation, probe->streams[0].rotation) << "HLS too";
  std::filesystem::remove_all(dir);
}

// ffmpeg's idet verdict counts on `path`: "TFF: n BFF: n Progressive: n".
std::string IdetCounts(const std::string& path) {
  int code = 0;
  const std::string out = testing::RunCommand(
      "ffmpeg -hide_banner -nostdin -i " + path + " -vf idet -f null - 2>&1", &code);
  const size_t at = out.find("Multi frame detection:");
  if (at == std::string::npos) return "";
  const std::string line = out.substr(at, out.find('\n', at) - at);
  std::string compact;  // without the padding spaces
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != ' ' || (i > 0 && line[i - 1] != ' ' && line[i - 1] != ':')) compact += line[i];
  }
  return compact;
}

// An interlaced source (woven fields, coded interlaced): the rendition is
// progressive, frame for frame, with the source's timing.
TEST_F(RenditionTest, InterlacedSourceGivesAProgressiveRendition) {
  const std::string src = testing::ScratchPath("woven.mp4");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=320x240:r=50:d=2,interlace=scan=tff "
                               "-c:v libx264 -preset veryfast -pix_fmt yuv420p "
                               "-flags +ildct+ilme -x264opts tff=1",
                               src),
            "");
  ASSERT_EQ(IdetCounts(src), "Multi frame detection:TFF:50 BFF:0 Progressive:0 Undetermined:0");
  const std::string out = Temp(".mp4");
  auto probe = Probe(src);
  ASSERT_TRUE(probe.ok());
  auto enc = RenditionEncoder::Create(out, RenditionSpec{}, *probe, {});
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  ASSERT_TRUE(DecodePass(src, {enc->get()}, {}).ok());
  EXPECT_EQ(IdetCounts(out), "Multi frame detection:TFF:0 BFF:0 Progressive:50 Undetermined:0");
  auto written = Probe(out);
  ASSERT_TRUE(written.ok());
  EXPECT_NEAR(written->streams[0].duration.value_or(0), 2.0, 0.05);
}

TEST_F(RenditionTest, BadSpecsAreRefusedNamingTheField) {
  RenditionSpec spec;
  EXPECT_TRUE(CheckRenditionSpec(spec).ok());
  spec.codec = "mpeg2";
  EXPECT_NE(CheckRenditionSpec(spec).message().find("codec 'mpeg2'"), std::string::npos);
  spec = {};
  spec.max_height = 721;
  EXPECT_NE(CheckRenditionSpec(spec).message().find("height 721"), std::string::npos);
  spec = {};
  spec.codec = "av1";
  spec.preset = "veryfast";
  EXPECT_NE(CheckRenditionSpec(spec).message().find("preset 'veryfast'"), std::string::npos);
  spec.preset = "8";
  EXPECT_TRUE(CheckRenditionSpec(spec).ok());
  spec.crf = 64;
  EXPECT_NE(CheckRenditionSpec(spec).message().find("crf 64"), std::string::npos);
  spec = {};
  spec.name = "../x";
  EXPECT_EQ(CheckRenditionSpec(spec).code(), Code::kInvalidArgument);
  spec = {};
  spec.audio_codec = "mp3";
  EXPECT_NE(CheckRenditionSpec(spec).message().find("audio codec 'mp3'"), std::string::npos);
}

}  // namespace
}  // namespace vidgate::media
