#include "media/rendition_encoder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/util.h"
#include "media/av.h"
#include "media/media_test_util.h"
#include "media/synthesize.h"

namespace vidgate::media {
namespace {

// One second of 320x240 test pattern at 25 fps, for ffmpeg.
std::string VideoSourceArgs() { return "-f lavfi -i testsrc2=s=320x240:r=25:d=1"; }

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
    auto enc = RenditionEncoder::Create(out, spec, *probe, hls, {source, {}});
    EXPECT_TRUE(enc.ok()) << enc.status().ToString();
    if (!enc.ok()) return ProbeResult{};
    encoder_figures_ = nullptr;
    auto stats = DecodePass(source, {enc->get()}, {});
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (hls_codecs) *hls_codecs = (*enc)->hls_codecs();
    encoder_figures_ = (*enc)->LoudnessJson();
    auto written = Probe(out);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written.ok() ? *written : ProbeResult{};
  }
  std::vector<std::string> paths_;
  nlohmann::json encoder_figures_;  // the last Encode's LoudnessJson()
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

// The middle pixel of the first picture of `path` as RGB, converted the way
// its tags say (ffmpeg's scale filter reads the frame's matrix and range).
std::array<int, 3> MiddlePixel(const std::string& path) {
  int code = 0;
  const std::string rgb = testing::RunCommand(
      "ffmpeg -nostdin -v error -i '" + path +
          "' -frames:v 1 -vf crop=2:2,scale=in_color_matrix=auto:in_range=auto,format=rgb24 "
          "-f rawvideo -",
      &code);
  EXPECT_EQ(code, 0);
  if (rgb.size() < 3) return {-1, -1, -1};
  return {static_cast<uint8_t>(rgb[0]), static_cast<uint8_t>(rgb[1]), static_cast<uint8_t>(rgb[2])};
}

struct ColourSource {
  const char* name;
  const char* args;  // ffmpeg options making a green (0,188,0) picture
};

// Renditions are tagged BT.709 and hold BT.709 samples, whatever matrix
// and range the source used: the colours players show stay the source's.
TEST_F(RenditionTest, ColoursStayAsTheSourceShowsThemAndAreTaggedBt709) {
  const ColourSource sources[] = {
      {"SD tagged BT.709",
       "-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p -colorspace bt709 "
       "-color_primaries bt709 -color_trc bt709 -color_range tv"},
      {"SD tagged BT.601",
       "-vf scale=out_color_matrix=bt601:out_range=tv,format=yuv420p -colorspace smpte170m "
       "-color_primaries smpte170m -color_trc smpte170m -color_range tv"},
      {"SD untagged (BT.601 as players assume)",
       "-vf scale=out_color_matrix=bt601:out_range=tv,format=yuv420p"},
      {"full range BT.601",
       "-vf scale=out_color_matrix=bt601:out_range=pc,format=yuvj420p -colorspace smpte170m "
       "-color_range pc"},
  };
  for (const ColourSource& c : sources) {
    SCOPED_TRACE(c.name);
    std::string src = Temp(".mp4");
    ASSERT_EQ(testing::RunFfmpeg(std::string("-f lavfi -i color=c=0x00BC00:s=720x480:r=25:d=0.2 ") +
                                     c.args + " -c:v libx264 -preset ultrafast",
                                 src),
              "");
    const auto before = MiddlePixel(src);
    EXPECT_NEAR(before[0], 0, 4);
    EXPECT_NEAR(before[1], 188, 4);
    EXPECT_NEAR(before[2], 0, 4);
    std::string out = Temp(".mp4");
    auto probe = Probe(src);
    ASSERT_TRUE(probe.ok());
    auto enc = RenditionEncoder::Create(out, RenditionSpec{}, *probe);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    ASSERT_TRUE(DecodePass(src, {enc->get()}, {}).ok());
    auto written = Probe(out);
    ASSERT_TRUE(written.ok());
    const ColourInfo& colour = written->streams.at(0).colour.value();
    EXPECT_EQ(colour.primaries, "bt709");
    EXPECT_EQ(colour.transfer, "bt709");
    EXPECT_EQ(colour.matrix, "bt709");
    EXPECT_EQ(colour.range, "tv");
    const auto after = MiddlePixel(out);
    EXPECT_NEAR(after[0], 0, 6) << after[0] << "," << after[1] << "," << after[2];
    EXPECT_NEAR(after[1], 188, 6) << after[0] << "," << after[1] << "," << after[2];
    EXPECT_NEAR(after[2], 0, 6) << after[0] << "," << after[1] << "," << after[2];
  }
}

struct Levels {
  double integrated = 0;   // LUFS
  double true_peak = 0;    // dBTP
  double sample_peak = 0;  // dBFS
};

// ffmpeg's own measures of `path`'s audio: ebur128 (integrated, true peak)
// and astats (sample peak).
Levels Measure(const std::string& path) {
  int code = 0;
  const std::string out = testing::RunCommand(
      "ffmpeg -nostdin -hide_banner -nostats -i '" + path +
          "' -af ebur128=peak=true+sample,astats=measure_perchannel=none -f null - 2>&1",
      &code);
  EXPECT_EQ(code, 0) << out;
  Levels l;
  auto after = [&](const std::string& key, size_t from) {
    const size_t at = out.find(key, from);
    return at == std::string::npos ? std::nan("") : std::stod(out.substr(at + key.size()));
  };
  const size_t summary = out.rfind("Summary:");
  l.integrated = after("I:", summary);
  l.true_peak = after("Peak:", out.find("True peak:", summary));
  l.sample_peak = after("Peak level dB:", 0);
  return l;
}

// A 5.1 and a 7.1 source, every channel a loud tone, downmixed to stereo:
// as loud as ffmpeg's -ac 2 makes them, and never clipped (the downmix once
// came out 7.6 dB / 9.9 dB louder and clipped).
TEST_F(RenditionTest, SurroundIsDownmixedAsFfmpegDoesWithoutClipping) {
  for (const auto& [layout, channels] : {std::pair{"5.1", 6}, std::pair{"7.1", 8}}) {
    SCOPED_TRACE(layout);
    std::string expr;
    for (int i = 0; i < channels; ++i) {
      expr += (i ? "|" : "") + std::string("0.5*sin(2*PI*") + std::to_string(300 + 50 * i) + "*t)";
    }
    std::string src = Temp(".wav");
    ASSERT_EQ(
        testing::RunFfmpeg("-f lavfi -i aevalsrc='" + expr + "':s=48000:d=3:c=" + layout, src), "");
    // ffmpeg's -ac 2 into 16-bit PCM: its matrix scaled so no row sums over
    // 1. (Into AAC, float all the way, ffmpeg does not scale it, and this
    // very source peaks at +1.6 dBFS: clipped.)
    std::string reference = Temp(".wav");
    ASSERT_EQ(testing::RunFfmpeg("-i '" + src + "' -ac 2 -c:a pcm_s16le", reference), "");
    ProbeResult r = Encode(src, RenditionSpec{});
    ASSERT_EQ(r.streams.size(), 1u);
    EXPECT_EQ(r.streams[0].channels, 2);
    const Levels ours = Measure(paths_.back());
    const Levels theirs = Measure(reference);
    EXPECT_NEAR(ours.integrated, theirs.integrated, 0.5);
    EXPECT_LT(ours.sample_peak, 0.0);
    EXPECT_LT(ours.true_peak, 0.5);
  }
}

// The average luma and saturation (8-bit code values) of `path`'s pictures,
// as ffmpeg's signalstats measures them.
std::pair<double, double> LumaAndSaturation(const std::string& path) {
  int code = 0;
  const std::string out = testing::RunCommand(
      "ffmpeg -nostdin -v error -i '" + path +
          "' -vf signalstats,metadata=print:file=- -f null - | "
          "awk -F= '/YAVG/{y+=$2;n++} /SATAVG/{s+=$2} END{if(n)printf \"%f %f\", y/n, s/n}'",
      &code);
  double y = -1, sat = -1;
  std::istringstream(out) >> y >> sat;
  return {y, sat};
}

// The rendition `ours` of the HDR `source` has the average luma and
// saturation, within 2 code values, of ffmpeg's zscale + tonemap chain
// after `scale` ("" or "scale=W:H,"); and the test's premise holds: the
// same pictures without tone mapping are grey.
void ExpectToneMappedAsFfmpeg(const std::string& source, const std::string& scale,
                              const std::string& ours, const std::string& reference,
                              const std::string& naive) {
  ASSERT_EQ(testing::RunFfmpeg("-i '" + source + "' -vf " + scale +
                                   "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
                                   "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,"
                                   "format=yuv420p -c:v libx264 -preset ultrafast",
                               reference),
            "");
  ASSERT_EQ(testing::RunFfmpeg("-i '" + source + "' -vf " + scale +
                                   "format=yuv420p -c:v libx264 -preset ultrafast",
                               naive),
            "");
  const auto mine = LumaAndSaturation(ours);
  const auto theirs = LumaAndSaturation(reference);
  const auto grey = LumaAndSaturation(naive);
  EXPECT_NEAR(mine.first, theirs.first, 2.0);
  EXPECT_NEAR(mine.second, theirs.second, 2.0);
  EXPECT_GT(theirs.second, grey.second + 20) << "the test's own premise: untone-mapped is grey";
}

struct HdrSource {
  const char* name;
  const char* transfer;  // zscale's and ffmpeg's name of the curve
  const char* x265;      // extra x265 parameters
};

// An HDR10 and an HLG source give an SDR rendition tagged BT.709 whose
// average luma and saturation are within 2 code values of ffmpeg's own
// zscale + tonemap chain on the same source. Without tone mapping the
// picture is grey (saturation a quarter of what it should be).
TEST_F(RenditionTest, HdrSourcesAreToneMappedForSdr) {
  const HdrSource sources[] = {
      {"HDR10", "smpte2084",
       ":hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)"
       "L(10000000,1):max-cll=1000,400"},
      {"HLG", "arib-std-b67", ""},
  };
  for (const HdrSource& h : sources) {
    SCOPED_TRACE(h.name);
    // SDR bars mapped into the HDR curve with white at 400 cd/m².
    const std::string src = Temp(".mp4");
    ASSERT_EQ(
        testing::RunFfmpeg(
            std::string("-f lavfi -i testsrc2=s=640x360:r=25:d=1 -vf "
                        "format=gbrpf32le,zscale=tin=709:t=") +
                h.transfer +
                ":pin=709:p=2020:m=2020_ncl:npl=400:rin=full:r=limited,format=yuv420p10le "
                "-c:v libx265 -preset ultrafast -color_primaries bt2020 -color_trc " +
                h.transfer + " -colorspace bt2020nc -x265-params 'log-level=error" + h.x265 + "'",
            src),
        "");
    ProbeResult r = Encode(src, RenditionSpec{});
    ASSERT_EQ(r.streams.size(), 1u);
    const ColourInfo& colour = r.streams[0].colour.value();
    EXPECT_EQ(colour.transfer, "bt709");
    EXPECT_EQ(colour.primaries, "bt709");
    EXPECT_EQ(colour.matrix, "bt709");
    EXPECT_FALSE(colour.hdr_format.has_value());
    EXPECT_EQ(r.streams[0].pix_fmt, "yuv420p");
    const std::string ours = paths_.back();
    ExpectToneMappedAsFfmpeg(src, "", ours, Temp(".mp4"), Temp(".mp4"));
  }
}

// zimg refuses 4:2:0 pictures of an odd size; the rendition (even-sized
// anyway) scales them first and still tone-maps them (it used to convert
// them with swscale alone: a grey picture).
TEST_F(RenditionTest, AnOddSizedHdrSourceIsToneMappedToo) {
  const std::string src = Temp(".mkv");
  // Odd-sized 4:4:4 from zimg, then 4:2:0 by swscale (which zimg would
  // refuse, and which keeps the matrix).
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i testsrc2=s=640x360:r=25:d=1 -vf "
                               "format=gbrpf32le,scale=641:361,zscale=tin=709:t=smpte2084:pin=709:"
                               "p=2020:m=2020_ncl:npl=400:rin=full:r=limited,format=yuv444p10le,"
                               "scale=flags=neighbor,format=yuv420p10le -c:v ffv1 "
                               "-color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc",
                               src),
            "");
  ProbeResult r = Encode(src, RenditionSpec{});
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_EQ(r.streams[0].width, 638);  // 641x361's aspect, even
  EXPECT_EQ(r.streams[0].height, 360);
  const std::string ours = paths_.back();
  ExpectToneMappedAsFfmpeg(src, "scale=638:360,", ours, Temp(".mp4"), Temp(".mp4"));
}

// When `path` first shows a bright picture and first sounds, in seconds, as
// ffmpeg reads it (signalstats' average luma; silencedetect's first end).
std::pair<double, double> FlashAndBeep(const std::string& path) {
  int code = 0;
  const std::string flash = testing::RunCommand(
      "ffmpeg -nostdin -v error -i '" + path +
          "' -an -vf signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=- -f null - | "
          "awk '/pts_time/{split($3,a,\":\"); t=a[2]} /YAVG/{split($0,b,\"=\"); "
          "if (b[2] > 100) {print t; exit}}'",
      &code);
  const std::string beep =
      testing::RunCommand("ffmpeg -nostdin -hide_banner -nostats -i '" + path +
                              "' -vn -af silencedetect=n=-30dB:d=0.05 -f null - 2>&1 | "
                              "awk '/silence_end/{print $5; exit}'",
                          &code);
  double f = -1, b = -1;
  std::istringstream(flash) >> f;
  std::istringstream(beep) >> b;
  return {f, b};
}

// Sound and pictures stay together as the source has them: audio that
// starts 2 s after the video (it was moved to 0 and played 2 s early), and
// a hole in the middle of both streams (closed in the audio, so everything
// after it was early). A flash and a beep at 5 s mark the sync.
TEST_F(RenditionTest, AudioAndVideoStayInSync) {
  const std::string video =
      "-f lavfi -i \"color=c=black:s=160x120:r=25:d=6,format=yuv420p,"
      "geq=lum=if(between(T\\,5\\,5.4)\\,235\\,16):cb=128:cr=128\"";
  const std::string tone = "0.5*sin(2*PI*1000*t)";
  struct Case {
    const char* name;
    std::string args;
  } cases[] = {
      {"audio starts 2 s late",
       video + " -itsoffset 2 -f lavfi -i \"aevalsrc=if(between(t\\,3\\,3.4)\\," + tone +
           "\\,0):s=48000:d=4\" -map 0 -map 1 -c:v libx264 -preset ultrafast -c:a aac"},
      {"a hole from 2 to 4 s in both",
       video + " -f lavfi -i \"aevalsrc=if(between(t\\,5\\,5.4)\\," + tone +
           "\\,0):s=48000:d=6\" -vf \"select=not(between(t\\,2\\,4))\" "
           "-af \"aselect=not(between(t\\,2\\,4))\" -fps_mode passthrough -c:v libx264 "
           "-preset ultrafast -c:a pcm_s16le"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string src = Temp(".mkv");
    ASSERT_EQ(testing::RunFfmpeg(c.args, src), "");
    const auto [src_flash, src_beep] = FlashAndBeep(src);
    ASSERT_NEAR(src_flash, 5.0, 0.05) << "the fixture's own premise";
    ASSERT_NEAR(src_beep, 5.0, 0.05) << "the fixture's own premise";
    ProbeResult r = Encode(src, RenditionSpec{});
    ASSERT_EQ(r.streams.size(), 2u);
    const auto [flash, beep] = FlashAndBeep(paths_.back());
    EXPECT_NEAR(flash, 5.0, 0.05);
    EXPECT_NEAR(beep - flash, 0.0, 0.05) << "flash at " << flash << " s, beep at " << beep << " s";
  }
}

// Sources at -30, -16 and -8 LUFS, and a quiet one with loud clicks (its
// true peak would go far over the limit with the gain it needs), come out
// within 0.5 LU of the target and under the true-peak limit, as ffmpeg's
// ebur128 measures the rendition; the pictures stay where they were.
TEST_F(RenditionTest, LoudnessIsNormalisedToTheTarget) {
  struct Source {
    const char* name;
    std::string audio;  // an aevalsrc expression per channel
    const char* mode;   // linear or limited
  };
  auto tone = [](double amplitude) {
    const std::string a = std::to_string(amplitude) + "*sin(2*PI*997*t)";
    return a + "|" + a;
  };
  const Source sources[] = {
      {"-30 LUFS", tone(0.034), "linear"},
      {"-16 LUFS", tone(0.17), "linear"},
      {"-8 LUFS", tone(0.43), "linear"},
      {"-30 LUFS with clicks",
       "0.034*sin(2*PI*997*t)+0.9*lt(mod(t\\,1)\\,0.004)|0.034*sin(2*PI*997*t)", "limited"},
  };
  for (const Source& c : sources) {
    SCOPED_TRACE(c.name);
    const std::string src = Temp(".mkv");
    ASSERT_EQ(testing::RunFfmpeg(
                  "-f lavfi -i testsrc2=s=160x120:r=25:d=8 -f lavfi -i \"aevalsrc=" + c.audio +
                      ":s=48000:d=8\" -c:v libx264 -preset ultrafast "
                      "-c:a pcm_s16le",
                  src),
              "");
    RenditionSpec spec;
    spec.loudness_target = -16;
    spec.true_peak_limit = -1;
    ProbeResult r = Encode(src, spec);
    ASSERT_EQ(r.streams.size(), 2u);
    EXPECT_NEAR(r.streams[0].duration.value_or(0), 8.0, 0.05);
    EXPECT_NEAR(r.streams[1].duration.value_or(0), 8.0, 0.1);
    const Levels out = Measure(paths_.back());
    EXPECT_NEAR(out.integrated, -16, 0.5);
    EXPECT_LT(out.true_peak, -1.0);
    ASSERT_TRUE(encoder_figures_.is_object());
    EXPECT_EQ(encoder_figures_["mode"], std::string(c.mode)) << encoder_figures_.dump();
    EXPECT_NEAR(encoder_figures_["after"]["integrated_lufs"].get<double>(), out.integrated, 0.5)
        << encoder_figures_.dump();
  }
}

// ffprobe's reading of the first picture of `path`: its colour tags, pixel
// format and HDR side data, as numbers ("red_x": 0.68, "max_content": 1000).
std::map<std::string, std::string> FirstFrameColour(const std::string& path) {
  int code = 0;
  const std::string out = testing::RunCommand(
      "ffprobe -v error -print_format json -show_frames -read_intervals %+#1 -select_streams v "
      "'" +
          path + "'",
      &code);
  std::map<std::string, std::string> found;
  if (code != 0) return found;
  const nlohmann::json frame = nlohmann::json::parse(out).at("frames").at(0);
  for (const char* key : {"pix_fmt", "color_primaries", "color_transfer", "color_space"}) {
    found[key] = frame.value(key, "");
  }
  const nlohmann::json side = frame.value("side_data_list", nlohmann::json::array());
  for (const auto& d : side) {
    for (const auto& [key, value] : d.items()) {
      if (key == "side_data_type") continue;
      double num = 0, den = 1;
      if (value.is_string() &&
          std::sscanf(value.get<std::string>().c_str(), "%lf/%lf", &num, &den) == 2 && den != 0) {
        found[key] = fmt::format("{:.4f}", num / den);
      } else if (value.is_number()) {
        found[key] = fmt::format("{:.4f}", value.get<double>());
      }
    }
  }
  return found;
}

// dynamic_range = "keep": HDR10 and HLG stay HDR in HEVC and AV1, 10-bit,
// with their tags and the HDR10 mastering-display and light-level metadata
// that ffprobe reads back equal to the source's.
TEST_F(RenditionTest, KeptHdrHasTheSourcesTagsAndMetadata) {
  const std::string x265 =
      "-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 "
      "-colorspace bt2020nc -x265-params 'log-level=error";
  const std::string hdr10 = Temp(".mp4");
  ASSERT_EQ(
      testing::RunFfmpeg(VideoSourceArgs() + " " + x265 +
                             ":hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)"
                             "WP(15635,16450)L(10000000,1):max-cll=1000,400' -color_trc smpte2084",
                         hdr10),
      "");
  const std::string hlg = Temp(".mp4");
  ASSERT_EQ(testing::RunFfmpeg(VideoSourceArgs() + " " + x265 + "' -color_trc arib-std-b67", hlg),
            "");
  struct Case {
    const char* name;
    std::string source;
    const char* codec;
    const char* transfer;
  } cases[] = {{"HDR10 in HEVC", hdr10, "hevc", "smpte2084"},
               {"HDR10 in AV1", hdr10, "av1", "smpte2084"},
               {"HLG in HEVC", hlg, "hevc", "arib-std-b67"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RenditionSpec spec;
    spec.codec = c.codec;
    spec.dynamic_range = "keep";
    if (spec.codec == "av1") spec.preset = "12";
    ProbeResult r = Encode(c.source, spec);
    ASSERT_EQ(r.streams.size(), 1u);
    const auto want = FirstFrameColour(c.source);
    const auto got = FirstFrameColour(paths_.back());
    EXPECT_EQ(got.at("pix_fmt"), "yuv420p10le");
    EXPECT_EQ(got.at("color_transfer"), c.transfer);
    EXPECT_EQ(got.at("color_primaries"), "bt2020");
    EXPECT_EQ(got.at("color_space"), "bt2020nc");
    for (const char* key :
         {"red_x", "red_y", "green_x", "green_y", "blue_x", "blue_y", "white_point_x",
          "white_point_y", "min_luminance", "max_luminance", "max_content", "max_average"}) {
      const auto w = want.find(key);
      const auto g = got.find(key);
      ASSERT_EQ(w == want.end(), g == got.end()) << key;
      if (w == want.end()) continue;
      EXPECT_NEAR(std::stod(g->second), std::stod(w->second), 1e-3) << key;
    }
    EXPECT_EQ(r.streams[0].colour->hdr_format,
              std::string(c.transfer) == "smpte2084" ? "hdr10" : "hlg");
  }
  // SDR codecs cannot keep it.
  RenditionSpec h264;
  h264.dynamic_range = "keep";
  const Status refused = CheckRenditionSpec(h264);
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("dynamic_range keep needs codec hevc or av1"), std::string::npos)
      << refused.message();
}

// ffmpeg's luma PSNR and SSIM of `rendition` against `source` scaled to
// its size with swscale's bicubic filter, as the encoder got it.
std::pair<double, double> FfmpegQuality(const std::string& rendition, const std::string& source,
                                        int width, int height) {
  int code = 0;
  const std::string out = testing::RunCommand(
      "ffmpeg -nostdin -hide_banner -nostats -i '" + rendition + "' -i '" + source +
          "' -lavfi \"[1:v]scale=" + std::to_string(width) + ":" + std::to_string(height) +
          ":flags=bicubic[ref];[0:v]split[a][b];[ref]split[r1][r2];[a][r1]psnr;[b][r2]ssim\" "
          "-f null - 2>&1",
      &code);
  double psnr = -1, ssim = -1;
  if (const size_t at = out.find("PSNR y:"); at != std::string::npos) {
    psnr = std::stod(out.substr(at + 7));
  }
  if (const size_t at = out.find("SSIM Y:"); at != std::string::npos) {
    ssim = std::stod(out.substr(at + 7));
  }
  return {psnr, ssim};
}

// Each rendition's PSNR and SSIM against what went into its encoder: a CRF
// 18 rendition scores higher than a CRF 40 one, and both agree with
// ffmpeg's psnr and ssim filters on the source scaled the same way.
TEST_F(RenditionTest, QualityFiguresAgreeWithFfmpeg) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 640;
  o.height = 360;
  o.seconds = 3;
  o.audio = false;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  double ssim_at[2] = {0, 0}, psnr_at[2] = {0, 0};
  const int crfs[2] = {18, 40};
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("crf " + std::to_string(crfs[i]));
    auto probe = Probe(src);
    ASSERT_TRUE(probe.ok());
    RenditionSpec spec;
    spec.max_height = 240;
    spec.crf = crfs[i];
    const std::string out = Temp(".mp4");
    auto enc = RenditionEncoder::Create(out, spec, *probe);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    ASSERT_TRUE(DecodePass(src, {enc->get()}, {}).ok());
    const std::optional<QualityFigures> q = (*enc)->quality();
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->frames, 75);
    ASSERT_TRUE(q->psnr && q->ssim);
    EXPECT_EQ(q->ssim_per_second.size(), 3u);
    EXPECT_EQ(q->psnr_per_second.size(), 3u);
    const auto [psnr, ssim] = FfmpegQuality(out, src, (*enc)->width(), (*enc)->height());
    EXPECT_NEAR(*q->psnr, psnr, 0.5);
    EXPECT_NEAR(*q->ssim, ssim, 0.002);  // 43.5453 dB and 0.99297 against 0.99304 here
    psnr_at[i] = *q->psnr;
    ssim_at[i] = *q->ssim;
  }
  EXPECT_GT(psnr_at[0], psnr_at[1] + 3);
  EXPECT_GT(ssim_at[0], ssim_at[1]);
}

// A sound whose timestamps leap two hours after its first second (a wild
// value in a sound-only file, whose container then claims two hours): the
// hole is not padded with two hours of silence, and the encoding ends soon.
TEST_F(RenditionTest, AWildAudioTimestampIsNotPaddedWithHoursOfSilence) {
  const std::string src = Temp(".mkv");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i sine=f=440:r=48000:d=2 "
                               "-af \"asetpts=PTS+gte(T\\,1)*7200/TB\" -c:a pcm_s16le",
                               src),
            "");
  const auto start = std::chrono::steady_clock::now();
  ProbeResult r = Encode(src, RenditionSpec{});
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.streams.size(), 1u);
  EXPECT_LT(r.format.duration.value_or(1e9), 60.0);
  EXPECT_LT(took, 30.0);
}

// Pictures too small for one SSIM window are not measured, not counted as
// lossless.
TEST(QualityMeterTest, PicturesUnder8x8AreNotMeasured) {
  FramePtr a(av_frame_alloc()), b(av_frame_alloc());
  for (AVFrame* f : {a.get(), b.get()}) {
    f->format = AV_PIX_FMT_YUV420P;
    f->width = 4;
    f->height = 4;
    ASSERT_GE(av_frame_get_buffer(f, 0), 0);
  }
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      a->data[0][y * a->linesize[0] + x] = 16;
      b->data[0][y * b->linesize[0] + x] = 235;
    }
  }
  EXPECT_FALSE(CompareLuma(*a, *b).measured);
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

// A normalised rendition writes its outputs at the end: the HLS playlist
// carries both streams, segmented as usual; a sound-only source and a
// stopped second pass work too, and no spool is left behind.
TEST_F(RenditionTest, NormalisedRenditionsWriteHlsAndSoundOnlyAndStopCleanly) {
  std::string src = Temp(".mp4");
  SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 5;
  ASSERT_TRUE(SynthesizeClip(src, o).ok());
  std::string dir = Temp("-hls");
  std::filesystem::create_directories(dir);
  RenditionSpec spec;
  spec.loudness_target = -23;
  ProbeResult mp4 = Encode(src, spec, HlsOutput{dir, 2});
  ASSERT_EQ(mp4.streams.size(), 2u);
  auto playlist = Probe(dir + "/index.m3u8");
  ASSERT_TRUE(playlist.ok()) << playlist.status().ToString();
  ASSERT_GE(playlist->streams.size(), 2u);
  EXPECT_NEAR(playlist->format.duration.value_or(0), 5.0, 0.2);
  EXPECT_TRUE(std::filesystem::exists(dir + "/00002.m4s"));
  EXPECT_NEAR(Measure(paths_.back()).integrated, -23, 0.5);
  EXPECT_FALSE(std::filesystem::exists(paths_.back() + ".video.spool"));
  std::filesystem::remove_all(dir);

  const std::string wav = Temp(".wav");
  ASSERT_EQ(testing::RunFfmpeg("-f lavfi -i sine=f=440:r=48000:d=3", wav), "");
  ProbeResult sound = Encode(wav, spec);
  ASSERT_EQ(sound.streams.size(), 1u);
  EXPECT_NEAR(Measure(paths_.back()).integrated, -23, 0.5);

  // Stopped while the sound is decoded again: the pass's reason, no spool.
  auto probe = Probe(src);
  ASSERT_TRUE(probe.ok());
  const std::string out = Temp(".mp4");
  int polls = 0;
  RenditionSource source{src, {}};
  source.options.should_stop = [&] { return ++polls > 5; };
  auto enc = RenditionEncoder::Create(out, spec, *probe, {}, source);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  Result<DecodeStats> stats = DecodePass(src, {enc->get()}, {});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kCancelled) << stats.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(out + ".video.spool"));
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
  spec.name = "subtitles";  // the HLS subtitle playlists' folder
  EXPECT_NE(CheckRenditionSpec(spec).message().find("'subtitles' is taken"), std::string::npos);
  spec = {};
  spec.audio_codec = "mp3";
  EXPECT_NE(CheckRenditionSpec(spec).message().find("audio codec 'mp3'"), std::string::npos);
}

}  // namespace
}  // namespace vidgate::media
