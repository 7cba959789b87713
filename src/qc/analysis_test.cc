#include "qc/analysis.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util.h"
#include "media/synthesize.h"
#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

class AnalysisTest : public ::testing::Test {
 protected:
  std::string Make(const media::SynthOptions& o) {
    std::string path =
        (std::filesystem::temp_directory_path() / ("vidgate-analysis-" + NewUuid() + ".mp4"))
            .string();
    EXPECT_TRUE(media::SynthesizeClip(path, o).ok());
    paths_.push_back(path);
    return path;
  }
  Analysis Run(const std::string& path, const std::string& preset) {
    auto probe = media::Probe(path);
    EXPECT_TRUE(probe.ok());
    auto a = Analyse(path, *probe, *PresetPolicy(preset), {});
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : Analysis{};
  }
  const nlohmann::json* CheckById(const Analysis& a, const std::string& id) {
    for (const auto& c : a.report["checks"]) {
      if (c["id"] == id) return &c;
    }
    return nullptr;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  std::vector<std::string> paths_;
};

TEST_F(AnalysisTest, BlackAndSilenceAreReportedAndOnlyWarnOnTheWeb) {
  media::SynthOptions o;
  o.width = 160;
  o.height = 90;
  o.seconds = 6;
  o.black = {{1.0, 3.5}};
  o.silent = {{2.0, 4.5}};
  Analysis a = Run(Make(o), "web");
  EXPECT_EQ(a.verdict, "warn");
  ASSERT_EQ(a.report["video"]["black_segments"].size(), 1u);
  EXPECT_NEAR(a.report["video"]["black_segments"][0]["start"].get<double>(), 1.0, 0.05);
  EXPECT_NEAR(a.report["video"]["black_segments"][0]["end"].get<double>(), 3.5, 0.05);
  ASSERT_EQ(a.report["audio"]["silence_segments"].size(), 1u);
  EXPECT_NEAR(a.report["audio"]["silence_segments"][0]["start"].get<double>(), 2.0, 0.05);
  EXPECT_NEAR(a.report["audio"]["silence_segments"][0]["end"].get<double>(), 4.5, 0.05);
  ASSERT_NE(CheckById(a, "black"), nullptr);
  EXPECT_EQ((*CheckById(a, "black"))["status"], "fail");
  EXPECT_EQ((*CheckById(a, "black"))["severity"], "warning");
  EXPECT_NE(a.summary.find("black at 1.00-3.5"), std::string::npos) << a.summary;
  EXPECT_TRUE(a.report["series"]["luma"].is_array());
  EXPECT_EQ(a.report["series"]["luma"].size(), 6u);
}

TEST_F(AnalysisTest, BroadcastPresetRejectsOffTargetLoudness) {
  media::SynthOptions o;
  o.width = 160;
  o.height = 90;
  o.seconds = 4;
  o.tone_dbfs = -6;  // far louder than -23 LUFS
  Analysis a = Run(Make(o), "broadcast-ebu-r128");
  EXPECT_EQ(a.verdict, "reject");
  EXPECT_EQ((*CheckById(a, "loudness"))["status"], "fail");
  EXPECT_EQ((*CheckById(a, "loudness"))["severity"], "error");
  EXPECT_NE(a.summary.find("integrated loudness"), std::string::npos);
}

TEST_F(AnalysisTest, VideoWithoutAudioWarnsOnTheWebAndIsRejectedForBroadcast) {
  media::SynthOptions o;
  o.width = 160;
  o.height = 90;
  o.seconds = 2;
  o.audio = false;
  std::string path = Make(o);
  Analysis web = Run(path, "web");
  EXPECT_EQ(web.verdict, "warn");
  ASSERT_NE(CheckById(web, "audio_present"), nullptr);
  EXPECT_EQ((*CheckById(web, "audio_present"))["status"], "fail");
  EXPECT_EQ((*CheckById(web, "audio_present"))["severity"], "warning");
  Analysis atsc = Run(path, "broadcast-atsc-a85");
  EXPECT_EQ(atsc.verdict, "reject");
  EXPECT_EQ((*CheckById(atsc, "audio_present"))["severity"], "error");
}

// A level below the -70 LUFS gate cannot be measured: the check says so
// instead of vanishing, and a preset that requires the level fails it.
TEST_F(AnalysisTest, UnmeasurableLoudnessIsReportedAndFailsBroadcast) {
  media::SynthOptions o;
  o.width = 160;
  o.height = 90;
  o.seconds = 3;
  o.tone_dbfs = -90;
  const std::string path = Make(o);
  Analysis web = Run(path, "web");
  EXPECT_TRUE(web.report["audio"]["loudness"]["integrated_lufs"].is_null());
  const nlohmann::json* check = CheckById(web, "loudness");
  ASSERT_NE(check, nullptr) << web.report["checks"].dump();
  EXPECT_EQ((*check)["status"], "fail");
  EXPECT_EQ((*check)["severity"], "warning");
  EXPECT_NE((*check)["message"].get<std::string>().find("cannot be measured"), std::string::npos);
  ASSERT_NE(CheckById(web, "true_peak"), nullptr);
  EXPECT_EQ((*CheckById(web, "true_peak"))["status"], "pass");
  Analysis ebu = Run(path, "broadcast-ebu-r128");
  EXPECT_EQ(ebu.verdict, "reject");
  EXPECT_NE(ebu.summary.find("integrated loudness cannot be measured"), std::string::npos)
      << ebu.summary;
}

// A stream that starts late and holes in both streams are reported, on the
// pictures' timeline; an ordinary file (AAC's priming aside) is not.
TEST_F(AnalysisTest, AvStartOffsetAndHolesAreReported) {
  const std::string video =
      "-f lavfi -i color=c=black:s=160x120:r=25:d=6 -f lavfi -i sine=f=440:r=48000:d=6";
  const std::string late = testing::MakeFixture(
      "late-audio.mkv",
      "-f lavfi -i color=c=black:s=160x120:r=25:d=6 -itsoffset 2 -f lavfi -i "
      "sine=f=440:r=48000:d=4 -map 0 -map 1 -c:v libx264 -preset ultrafast -c:a aac");
  const std::string holes = testing::MakeFixture(
      "holes.mkv", video +
                       " -vf \"select=not(between(t\\,2\\,4))\" -af "
                       "\"aselect=not(between(t\\,2\\,4))\" -fps_mode passthrough -c:v libx264 "
                       "-preset ultrafast -c:a pcm_s16le");
  const std::string plain = testing::MakeFixture(
      "plain.mp4", video + " -c:v libx264 -preset ultrafast -c:a aac -shortest");
  Analysis a = Run(late, "web");
  ASSERT_NE(CheckById(a, "av_sync"), nullptr);
  EXPECT_EQ((*CheckById(a, "av_sync"))["status"], "fail");
  EXPECT_NE((*CheckById(a, "av_sync"))["message"].get<std::string>().find(
                "audio starts 1.98 s after the video"),
            std::string::npos)
      << a.report["checks"].dump();
  EXPECT_NEAR(a.report["av_sync"]["audio_offset"].get<double>(), 2.0, 0.05);
  a = Run(holes, "web");
  ASSERT_NE(CheckById(a, "av_sync"), nullptr);
  const std::string message = (*CheckById(a, "av_sync"))["message"];
  EXPECT_NE(message.find("video has nothing from 2.00 to 4.0"), std::string::npos) << message;
  EXPECT_NE(message.find("audio has nothing from 2.0"), std::string::npos) << message;
  for (const auto& g : a.report["av_sync"]["gaps"]) {
    EXPECT_NEAR(g["start"].get<double>(), 2.0, 0.05) << g.dump();
    EXPECT_NEAR(g["end"].get<double>(), 4.0, 0.05) << g.dump();
  }
  EXPECT_EQ(a.report["av_sync"]["gaps"].size(), 2u);
  a = Run(plain, "web");
  ASSERT_NE(CheckById(a, "av_sync"), nullptr);
  EXPECT_EQ((*CheckById(a, "av_sync"))["status"], "pass") << a.report["av_sync"].dump();
  EXPECT_TRUE(a.report["av_sync"]["gaps"].empty());
}

// Silence that lasts to the end ends where the audio does, not where the
// codec's last whole frame would (AAC: 5.504 s for 5.5 s of audio).
TEST_F(AnalysisTest, TrailingSilenceEndsWithTheAudio) {
  const std::string path = testing::MakeFixture(
      "trailing-silence.mp4",
      "-f lavfi -i color=c=gray:s=160x120:r=25:d=5.5 -f lavfi -i "
      "\"aevalsrc=if(lt(t\\,2)\\,0.5*sin(2*PI*440*t)\\,0):s=48000:d=5.5\" -c:v libx264 -preset "
      "ultrafast -c:a aac");
  Analysis a = Run(path, "web");
  const auto& segments = a.report["audio"]["silence_segments"];
  ASSERT_EQ(segments.size(), 1u) << a.report["audio"].dump();
  EXPECT_NEAR(segments[0]["start"].get<double>(), 2.0, 0.05);
  EXPECT_LE(segments[0]["end"].get<double>(), 5.5 + 1e-6);
  EXPECT_NEAR(segments[0]["end"].get<double>(), 5.5, 0.01);
}

// The reason of a rejection names what rejected it, not the warnings beside.
TEST(JudgeTest, ARejectionsSummaryHasOnlyItsErrors) {
  const nlohmann::json checks = {
      {{"id", "video_present"}, {"severity", "error"}, {"status", "fail"}, {"message", "no video"}},
      {{"id", "loudness"}, {"severity", "warning"}, {"status", "fail"}, {"message", "too loud"}},
      {{"id", "black"}, {"severity", "error"}, {"status", "pass"}, {"message", "no black"}},
      {{"id", "truncated"}, {"severity", "error"}, {"status", "fail"}, {"message", "cut"}}};
  Judgement j = Judge(checks);
  EXPECT_EQ(j.verdict, "reject");
  EXPECT_EQ(j.summary, "no video; cut");
  j = Judge(nlohmann::json::array({checks[1], checks[2]}));
  EXPECT_EQ(j.verdict, "warn");
  EXPECT_EQ(j.summary, "too loud");
  j = Judge(nlohmann::json::array({checks[2]}));
  EXPECT_EQ(j.verdict, "pass");
  EXPECT_EQ(j.summary, "");
}

TEST_F(AnalysisTest, ProbeLimitsRejectWithoutDecoding) {
  media::SynthOptions o;
  o.width = 640;
  o.height = 360;
  o.seconds = 3;
  auto probe = media::Probe(Make(o));
  ASSERT_TRUE(probe.ok());
  Policy p = *PresetPolicy("web");
  EXPECT_FALSE(CheckProbeLimits(*probe, p).has_value());
  p.max_height = 240;
  p.max_duration_seconds = 2;
  p.allowed_video_codecs = {"hevc", "av1"};
  auto early = CheckProbeLimits(*probe, p);
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(early->verdict, "reject");
  EXPECT_EQ(early->report["checks"].size(), 3u);
  EXPECT_NE(early->summary.find("360 lines high, over the limit of 240"), std::string::npos)
      << early->summary;
  EXPECT_NE(early->summary.find("video codec h264 is not allowed"), std::string::npos);
  EXPECT_NE(early->summary.find("over the limit of 2 s"), std::string::npos);
  EXPECT_EQ(early->report["decoded"], false);
  EXPECT_TRUE(early->report["video"]["black_segments"].empty());
  // The contract's shape all the same: loudness fields present, unmeasured.
  for (const char* key : {"integrated_lufs", "lra", "true_peak_dbtp"}) {
    ASSERT_TRUE(early->report["audio"]["loudness"].contains(key)) << key;
    EXPECT_TRUE(early->report["audio"]["loudness"][key].is_null()) << key;
  }
  EXPECT_TRUE(early->report["series"].is_object());
}

TEST_F(AnalysisTest, BitRateSeriesAddsUpToTheStreamsBytes) {
  media::SynthOptions o;
  o.width = 160;
  o.height = 90;
  o.seconds = 4;
  const std::string path = Make(o);
  Analysis a = Run(path, "web");
  const auto& series = a.report["series"]["bit_rate"];
  ASSERT_TRUE(series.is_array());
  ASSERT_GE(series.size(), 4u);
  EXPECT_LE(series.size(), 5u);
  double kilobits = 0;
  for (const auto& v : series) kilobits += v.get<double>();
  // The packets are nearly the whole file (the rest is the MP4 index).
  const double file_kilobits = static_cast<double>(std::filesystem::file_size(path)) * 8 / 1000;
  EXPECT_GT(kilobits, 0.8 * file_kilobits);
  EXPECT_LE(kilobits, file_kilobits);
  ASSERT_NE(CheckById(a, "truncated"), nullptr);
  EXPECT_EQ((*CheckById(a, "truncated"))["status"], "pass");
}

TEST_F(AnalysisTest, AFileCutShortFailsTheTruncatedCheck) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vidgate-analysis-" + NewUuid() + ".mkv"))
          .string();
  paths_.push_back(path);
  ASSERT_EQ(std::system(("ffmpeg -v error -f lavfi -i testsrc2=size=160x90:rate=25:duration=6 "
                         "-c:v libx264 -y '" +
                         path + "'")
                            .c_str()),
            0);
  // Matroska declares its duration up front; keep the first 40 % of the bytes.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size * 4 / 10);
  Analysis web = Run(path, "web");
  EXPECT_EQ(web.verdict, "warn");
  ASSERT_NE(CheckById(web, "truncated"), nullptr);
  EXPECT_EQ((*CheckById(web, "truncated"))["status"], "fail");
  EXPECT_NE(web.summary.find("video decoded"), std::string::npos) << web.summary;
  EXPECT_NE(web.summary.find("of the 6.00 s the container declares"), std::string::npos)
      << web.summary;
  EXPECT_EQ(Run(path, "broadcast-ebu-r128").verdict, "reject");
}

TEST(PolicyTest, PresetsAndOverrides) {
  EXPECT_EQ(PresetPolicy("web")->SeverityOf("black"), Severity::kWarning);
  EXPECT_EQ(PresetPolicy("web")->SeverityOf("video_present"), Severity::kError);
  EXPECT_EQ(PresetPolicy("broadcast-ebu-r128")->loudness_target_lufs, -23);
  EXPECT_EQ(PresetPolicy("broadcast-atsc-a85")->loudness_target_lufs, -24);
  EXPECT_EQ(PresetPolicy("cinema").status().code(), Code::kInvalidArgument);
  auto p = MakePolicy("web", {{"black", "error"}, {"silence", "off"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->SeverityOf("black"), Severity::kError);
  EXPECT_EQ(p->SeverityOf("silence"), Severity::kOff);
  EXPECT_NE(MakePolicy("web", {{"blak", "error"}}).status().message().find("'blak'"),
            std::string::npos);
  EXPECT_NE(MakePolicy("web", {{"black", "fatal"}}).status().message().find("'fatal'"),
            std::string::npos);
}

}  // namespace
}  // namespace vidgate::qc
