#include "media/probe.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "media/av.h"
#include "media/media_test_util.h"

namespace vidgate::media {
namespace {

using ::vidgate::media::testing::AudioSource;
using ::vidgate::media::testing::CopyPrefix;
using ::vidgate::media::testing::RunCommand;
using ::vidgate::media::testing::RunFfmpeg;
using ::vidgate::media::testing::ScratchDir;
using ::vidgate::media::testing::ScratchPath;
using ::vidgate::media::testing::VideoSource;
using ::vidgate::media::testing::WriteFile;

struct Container {
  std::string name;  // test name suffix
  std::string file;  // file name in the scratch dir
  std::string args;  // ffmpeg inputs and codec options
  bool has_video;
  bool has_audio;
  bool needs_srt = false;
};

// Keeps gtest from dumping the struct's bytes into test names and logs.
void PrintTo(const Container& c, std::ostream* os) { *os << c.name; }

const char kSrt[] =
    "1\n00:00:00,000 --> 00:00:00,800\nhello\n\n"
    "2\n00:00:00,900 --> 00:00:01,400\nworld\n";

std::vector<Container> Containers() {
  const std::string v = VideoSource(1);
  const std::string a = AudioSource(1);
  const std::string fast_vpx = " -deadline realtime -cpu-used 8 -b:v 300k";
  return {
      {"mp4_h264_aac", "a.mp4",
       v + " " + a + " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac", true, true},
      {"mkv_vp9_opus_srt", "b.mkv",
       v + " " + a + " -i SRT -map 0 -map 1 -map 2 -c:v libvpx-vp9" + fast_vpx +
           " -c:a libopus -c:s srt",
       true, true, true},
      {"avi_mpeg4_mp3", "c.avi", v + " " + a + " -c:v mpeg4 -c:a libmp3lame", true, true},
      {"mov_prores_pcm", "d.mov", v + " " + a + " -c:v prores_ks -profile:v 0 -c:a pcm_s16le", true,
       true},
      {"webm_vp8_vorbis", "e.webm", v + " " + a + " -c:v libvpx" + fast_vpx + " -c:a libvorbis",
       true, true},
      {"ts_mpeg2_mp2", "f.ts", v + " " + a + " -c:v mpeg2video -c:a mp2", true, true},
      {"m4a_aac_audio_only", "g.m4a", a + " -c:a aac", false, true},
      {"wav_pcm_audio_only", "h.wav", a + " -c:a pcm_s16le", false, true},
      {"mp4_h264_video_only", "i.mp4", v + " -c:v libx264 -preset ultrafast -pix_fmt yuv420p", true,
       false},
  };
}

double ParseNumber(const nlohmann::json& j) {
  return j.is_string() ? std::stod(j.get<std::string>()) : j.get<double>();
}

// "num/den" -> value; 0 for "0/0".
double ParseRational(const std::string& s, bool* is_zero) {
  int num = 0, den = 0;
  if (std::sscanf(s.c_str(), "%d/%d", &num, &den) != 2 || num == 0 || den == 0) {
    *is_zero = true;
    return 0;
  }
  *is_zero = false;
  return static_cast<double>(num) / den;
}

std::string ExpectedType(const std::string& ffprobe_type) {
  if (ffprobe_type == "video" || ffprobe_type == "audio" || ffprobe_type == "subtitle") {
    return ffprobe_type;
  }
  return "data";
}

nlohmann::json RunFfprobe(const std::string& path) {
  int code = 0;
  std::string out = RunCommand(
      "ffprobe -v error -print_format json -show_format -show_streams '" + path + "'", &code);
  EXPECT_EQ(code, 0) << out;
  return nlohmann::json::parse(out);
}

class MediaProbeContainerTest : public ::testing::TestWithParam<Container> {};

TEST_P(MediaProbeContainerTest, AgreesWithFfprobe) {
  const Container& c = GetParam();
  std::string args = c.args;
  if (c.needs_srt) {
    const std::string srt = ScratchPath("subs.srt");
    ASSERT_TRUE(WriteFile(srt, kSrt));
    args.replace(args.find("SRT"), 3, "'" + srt + "'");
  }
  const std::string path = ScratchPath(c.file);
  ASSERT_EQ(RunFfmpeg(args, path), "");

  Result<ProbeResult> probe = Probe(path);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  const nlohmann::json ff = RunFfprobe(path);
  SCOPED_TRACE(ff.dump(1));

  const nlohmann::json& fmt = ff.at("format");
  EXPECT_EQ(probe->format.name, fmt.at("format_name").get<std::string>());
  if (fmt.contains("duration")) {
    ASSERT_TRUE(probe->format.duration.has_value());
    EXPECT_NEAR(*probe->format.duration, ParseNumber(fmt["duration"]), 1e-3);
  } else {
    EXPECT_FALSE(probe->format.duration.has_value());
  }
  EXPECT_EQ(probe->format.size, std::stoll(fmt.at("size").get<std::string>()));
  if (fmt.contains("bit_rate")) {
    ASSERT_TRUE(probe->format.bit_rate.has_value());
    EXPECT_EQ(*probe->format.bit_rate, std::stoll(fmt["bit_rate"].get<std::string>()));
  } else {
    EXPECT_FALSE(probe->format.bit_rate.has_value());
  }

  const nlohmann::json& streams = ff.at("streams");
  ASSERT_EQ(probe->streams.size(), streams.size());
  for (size_t i = 0; i < streams.size(); ++i) {
    const nlohmann::json& fs = streams[i];
    const StreamInfo& s = probe->streams[i];
    SCOPED_TRACE("stream " + std::to_string(i));
    EXPECT_EQ(s.index, fs.at("index").get<int>());
    EXPECT_EQ(s.codec, fs.value("codec_name", std::string("unknown")));
    const std::string type = fs.at("codec_type").get<std::string>();
    EXPECT_EQ(s.type, ExpectedType(type));
    if (fs.contains("duration")) {
      ASSERT_TRUE(s.duration.has_value());
      EXPECT_NEAR(*s.duration, ParseNumber(fs["duration"]), 1e-3);
    } else {
      EXPECT_FALSE(s.duration.has_value());
    }
    if (type == "video") {
      ASSERT_TRUE(s.width.has_value() && s.height.has_value());
      EXPECT_EQ(*s.width, fs.at("width").get<int>());
      EXPECT_EQ(*s.height, fs.at("height").get<int>());
      EXPECT_EQ(s.pix_fmt.value_or("unknown"), fs.value("pix_fmt", std::string("unknown")));
      bool avg_zero = true, r_zero = true;
      double avg = ParseRational(fs.at("avg_frame_rate").get<std::string>(), &avg_zero);
      double r = ParseRational(fs.at("r_frame_rate").get<std::string>(), &r_zero);
      if (avg_zero && r_zero) {
        EXPECT_FALSE(s.frame_rate.has_value());
      } else {
        ASSERT_TRUE(s.frame_rate.has_value());
        EXPECT_NEAR(*s.frame_rate, avg_zero ? r : avg, 1e-3);
      }
      EXPECT_FALSE(s.sample_rate.has_value());
      EXPECT_FALSE(s.channels.has_value());
    } else if (type == "audio") {
      ASSERT_TRUE(s.sample_rate.has_value() && s.channels.has_value());
      EXPECT_EQ(*s.sample_rate, std::stoi(fs.at("sample_rate").get<std::string>()));
      EXPECT_EQ(*s.channels, fs.at("channels").get<int>());
      EXPECT_FALSE(s.width.has_value());
      EXPECT_FALSE(s.frame_rate.has_value());
      EXPECT_FALSE(s.pix_fmt.has_value());
    }
  }
  EXPECT_EQ(probe->HasVideo(), c.has_video);
  EXPECT_EQ(probe->HasAudio(), c.has_audio);
}

INSTANTIATE_TEST_SUITE_P(media, MediaProbeContainerTest, ::testing::ValuesIn(Containers()),
                         [](const ::testing::TestParamInfo<Container>& param_info) {
                           return param_info.param.name;
                         });

TEST(MediaProbeTest, ToJsonHasContractShape) {
  const std::string path = ScratchPath("shape.mp4");
  ASSERT_EQ(RunFfmpeg(VideoSource(1) + " " + AudioSource(1) +
                          " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "
                          "-metadata:s:a:0 language=fre",
                      path),
            "");
  Result<ProbeResult> probe = Probe(path);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  const nlohmann::json j = probe->ToJson();
  ASSERT_EQ(j.size(), 2u);
  const nlohmann::json& fmt = j.at("format");
  EXPECT_EQ(fmt.size(), 4u);
  EXPECT_EQ(fmt.at("name"), "mov,mp4,m4a,3gp,3g2,mj2");
  EXPECT_TRUE(fmt.at("duration").is_number());
  EXPECT_TRUE(fmt.at("bit_rate").is_number_integer());
  EXPECT_TRUE(fmt.at("size").is_number_integer());
  ASSERT_EQ(j.at("streams").size(), 2u);
  const nlohmann::json& video = j["streams"][0];
  const nlohmann::json& audio = j["streams"][1];
  for (const char* key : {"index", "type", "codec", "width", "height", "frame_rate", "pix_fmt",
                          "sample_rate", "channels", "duration", "color", "language"}) {
    EXPECT_TRUE(video.contains(key)) << key;
    EXPECT_TRUE(audio.contains(key)) << key;
  }
  EXPECT_EQ(video.size(), 12u);
  EXPECT_TRUE(video["language"].is_null()) << "MP4's \"und\" is no language";
  EXPECT_EQ(audio["language"], "fre");
  EXPECT_TRUE(video["color"].is_object());
  EXPECT_TRUE(audio["color"].is_null());
  EXPECT_EQ(video["type"], "video");
  EXPECT_EQ(video["codec"], "h264");
  EXPECT_EQ(video["width"], 320);
  EXPECT_EQ(video["height"], 240);
  EXPECT_DOUBLE_EQ(video["frame_rate"].get<double>(), 25.0);
  EXPECT_EQ(video["pix_fmt"], "yuv420p");
  EXPECT_TRUE(video["sample_rate"].is_null());
  EXPECT_TRUE(video["channels"].is_null());
  EXPECT_EQ(audio["type"], "audio");
  EXPECT_EQ(audio["codec"], "aac");
  EXPECT_EQ(audio["sample_rate"], 48000);
  EXPECT_EQ(audio["channels"], 1);
  EXPECT_TRUE(audio["width"].is_null());
  EXPECT_TRUE(audio["frame_rate"].is_null());
  EXPECT_TRUE(audio["pix_fmt"].is_null());
  EXPECT_TRUE(audio["duration"].is_number());
}

struct ColourFixture {
  std::string name;
  std::string file;
  std::string args;  // ffmpeg codec and tag options after VideoSource(1)
  std::optional<std::string> hdr_format;
  int bit_depth;
};

void PrintTo(const ColourFixture& c, std::ostream* os) { *os << c.name; }

constexpr const char* kBt2020Pq =
    " -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc";

std::vector<ColourFixture> ColourFixtures() {
  return {
      {"hdr10_hevc_mp4", "hdr10.mp4",
       std::string("-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le") + kBt2020Pq +
           " -x265-params 'log-level=error:hdr10=1:master-display=G(13250,34500)B(7500,3000)"
           "R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400'",
       "hdr10", 10},
      {"hdr10_av1_mkv", "hdr10.mkv",
       std::string("-c:v libsvtav1 -preset 12 -pix_fmt yuv420p10le") + kBt2020Pq +
           " -svtav1-params 'mastering-display=G(0.265,0.690)B(0.150,0.060)R(0.680,0.320)"
           "WP(0.3127,0.3290)L(1000,0.0001):content-light=1000,400'",
       "hdr10", 10},
      {"hlg_hevc_mkv", "hlg.mkv",
       "-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 "
       "-color_trc arib-std-b67 -colorspace bt2020nc -x265-params log-level=error",
       "hlg", 10},
      {"bt709_h264_mp4", "bt709.mp4",
       "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 "
       "-colorspace bt709 -color_range tv",
       std::nullopt, 8},
      {"untagged_h264_mp4", "untagged.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p",
       std::nullopt, 8},
      {"full_range_mjpeg_avi", "mjpeg.avi", "-c:v mjpeg -pix_fmt yuvj420p", std::nullopt, 8},
  };
}

// "num/den" as a number.
double Fraction(const nlohmann::json& j) {
  double num = 0, den = 1;
  if (std::sscanf(j.get<std::string>().c_str(), "%lf/%lf", &num, &den) != 2 || den == 0) return -1;
  return num / den;
}

class MediaProbeColourTest : public ::testing::TestWithParam<ColourFixture> {};

// The colour description agrees with ffprobe's stream tags and, for what the
// bitstream carries, its first frame's side data.
TEST_P(MediaProbeColourTest, AgreesWithFfprobe) {
  const ColourFixture& c = GetParam();
  const std::string path = ScratchPath(c.file);
  ASSERT_EQ(RunFfmpeg(VideoSource(1) + " " + c.args, path), "");
  Result<ProbeResult> probe = Probe(path);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  ASSERT_TRUE(probe->streams.at(0).colour.has_value());
  const ColourInfo& got = *probe->streams[0].colour;
  int code = 0;
  const std::string out = RunCommand(
      "ffprobe -v error -print_format json -show_streams -show_frames -read_intervals %+#1 "
      "-select_streams v '" +
          path + "'",
      &code);
  ASSERT_EQ(code, 0) << out;
  const nlohmann::json ff = nlohmann::json::parse(out);
  const nlohmann::json stream = ff.at("streams").at(0);
  const nlohmann::json frame = ff.at("frames").at(0);
  SCOPED_TRACE(stream.dump() + "\n" + frame.dump());
  for (const auto& [ours, key] : std::vector<std::pair<std::optional<std::string>, std::string>>{
           {got.primaries, "color_primaries"},
           {got.transfer, "color_transfer"},
           {got.matrix, "color_space"},
           {got.range, "color_range"}}) {
    const std::string theirs = stream.value(key, frame.value(key, std::string("unknown")));
    EXPECT_EQ(ours.value_or("unknown"), theirs) << key;
  }
  EXPECT_EQ(got.bit_depth, c.bit_depth);
  EXPECT_EQ(got.hdr_format, c.hdr_format);
  EXPECT_EQ(got.IsHdr(), c.hdr_format.has_value());
  const nlohmann::json* mastering = nullptr;
  const nlohmann::json* light = nullptr;
  const nlohmann::json side_data = frame.value("side_data_list", nlohmann::json::array());
  for (const auto& d : side_data) {
    if (d.value("side_data_type", "") == "Mastering display metadata") mastering = &d;
    if (d.value("side_data_type", "") == "Content light level metadata") light = &d;
  }
  ASSERT_EQ(got.mastering_display.has_value(), mastering != nullptr);
  if (mastering != nullptr) {
    const MasteringDisplay& m = *got.mastering_display;
    const auto& f = *mastering;
    EXPECT_NEAR(m.red_x, Fraction(f["red_x"]), 1e-9);
    EXPECT_NEAR(m.red_y, Fraction(f["red_y"]), 1e-9);
    EXPECT_NEAR(m.green_x, Fraction(f["green_x"]), 1e-9);
    EXPECT_NEAR(m.green_y, Fraction(f["green_y"]), 1e-9);
    EXPECT_NEAR(m.blue_x, Fraction(f["blue_x"]), 1e-9);
    EXPECT_NEAR(m.blue_y, Fraction(f["blue_y"]), 1e-9);
    EXPECT_NEAR(m.white_x, Fraction(f["white_point_x"]), 1e-9);
    EXPECT_NEAR(m.white_y, Fraction(f["white_point_y"]), 1e-9);
    EXPECT_NEAR(m.min_luminance, Fraction(f["min_luminance"]), 1e-9);
    EXPECT_NEAR(m.max_luminance, Fraction(f["max_luminance"]), 1e-9);
    EXPECT_NEAR(m.max_luminance, 1000, 1e-6);  // what the encoders were told
  }
  ASSERT_EQ(got.content_light_level.has_value(), light != nullptr);
  if (light != nullptr) {
    EXPECT_EQ(got.content_light_level->max_content, (*light)["max_content"].get<int>());
    EXPECT_EQ(got.content_light_level->max_average, (*light)["max_average"].get<int>());
  }
  const nlohmann::json j = probe->ToJson()["streams"][0]["color"];
  EXPECT_EQ(j.size(), 8u);
  EXPECT_EQ(j["hdr_format"].is_null(), !c.hdr_format.has_value());
  EXPECT_EQ(j["mastering_display"].is_null(), mastering == nullptr);
}

INSTANTIATE_TEST_SUITE_P(media, MediaProbeColourTest, ::testing::ValuesIn(ColourFixtures()),
                         [](const ::testing::TestParamInfo<ColourFixture>& param_info) {
                           return param_info.param.name;
                         });

TEST(MediaProbeTest, EmptyFileIsInvalidArgument) {
  const std::string path = ScratchPath("empty.mp4");
  ASSERT_TRUE(WriteFile(path, ""));
  Result<ProbeResult> probe = Probe(path);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kInvalidArgument);
  EXPECT_NE(probe.status().message().find("is empty"), std::string::npos)
      << probe.status().message();
  EXPECT_NE(probe.status().message().find(path), std::string::npos);
}

TEST(MediaProbeTest, TextFileIsInvalidArgument) {
  const std::string path = ScratchPath("notes.mp4");
  ASSERT_TRUE(WriteFile(path, "This is a shopping list, not a video.\nmilk\neggs\n"));
  Result<ProbeResult> probe = Probe(path);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kInvalidArgument) << probe.status().ToString();
  EXPECT_NE(probe.status().message().find(path), std::string::npos);
}

TEST(MediaProbeTest, MissingFileIsNotFound) {
  Result<ProbeResult> probe = Probe(ScratchPath("no-such-file.mp4"));
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kNotFound) << probe.status().ToString();
}

TEST(MediaProbeTest, DirectoryIsInvalidArgument) {
  Result<ProbeResult> probe = Probe(ScratchDir());
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kInvalidArgument) << probe.status().ToString();
}

TEST(MediaProbeTest, NameIsNeverAUrl) {
  // A file name that looks like a protocol is still a (missing) local file.
  Result<ProbeResult> probe = Probe("http://127.0.0.1:9/video.mp4");
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kNotFound) << probe.status().ToString();
}

TEST(MediaProbeTest, TruncatedMp4WithoutMoovIsInvalidArgument) {
  const std::string full = ScratchPath("full.mp4");
  const std::string cut = ScratchPath("cut.mp4");
  // The default mp4 muxer writes the moov atom at the end.
  ASSERT_EQ(RunFfmpeg(VideoSource(2) + " -c:v libx264 -preset ultrafast -pix_fmt yuv420p", full),
            "");
  ASSERT_TRUE(CopyPrefix(full, cut, 0.3));
  Result<ProbeResult> probe = Probe(cut);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().code(), Code::kInvalidArgument) << probe.status().ToString();
  EXPECT_NE(probe.status().message().find(cut), std::string::npos);
}

TEST(MediaAvErrorTest, MapsLibavErrors) {
  Status s = AvError(AVERROR_INVALIDDATA, "open media file", "x.mp4");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "cannot open media file 'x.mp4': Invalid data found when processing input");
  EXPECT_EQ(AvError(AVERROR_EOF, "open", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(AvError(AVERROR_DECODER_NOT_FOUND, "open", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(AvError(AVERROR(ENOSYS), "open", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(AvError(AVERROR(ENOENT), "open", "x").code(), Code::kNotFound);
  EXPECT_EQ(AvError(AVERROR(EACCES), "open", "x").code(), Code::kPermissionDenied);
  EXPECT_EQ(AvError(AVERROR(EIO), "read", "x").code(), Code::kUnavailable);
  EXPECT_EQ(AvError(AVERROR(ENOMEM), "read", "x").code(), Code::kResourceExhausted);
  EXPECT_EQ(AvError(AVERROR_EXIT, "read", "x").code(), Code::kCancelled);
  EXPECT_EQ(AvError(AVERROR_EXIT, "read", "x", Code::kDeadlineExceeded).code(),
            Code::kDeadlineExceeded);
  EXPECT_EQ(AvError(AVERROR_HTTP_NOT_FOUND, "open", "x").code(), Code::kNotFound);
  EXPECT_EQ(AvError(AVERROR_HTTP_SERVER_ERROR, "open", "x").code(), Code::kUnavailable);
  EXPECT_EQ(AvError(AVERROR_BUG, "open", "x").code(), Code::kInternal);
  EXPECT_EQ(AvError(0, "open", "x").code(), Code::kInternal);
}

}  // namespace
}  // namespace vidgate::media
