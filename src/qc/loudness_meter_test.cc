#include "qc/loudness_meter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::Ebur128Summary;
using ::vidgate::qc::testing::FfmpegLog;
using ::vidgate::qc::testing::MainFixture;
using ::vidgate::qc::testing::MakeAudioFrame;
using ::vidgate::qc::testing::MakeFixture;
using ::vidgate::qc::testing::ParseEbur128Summary;
using ::vidgate::qc::testing::ReportAgreement;

// Measures `path` with LoudnessMeter and ffmpeg's ebur128 filter; expects
// integrated loudness within 0.2 LU, true peak within 0.3 dB (ffmpeg prints
// one decimal) and LRA within `lra_tolerance` LU. libebur128 takes a
// short-term (3 s) block for LRA every second where ffmpeg takes one every
// 100 ms, so LRA only agrees on steady signals or long programmes.
LoudnessResult CompareWithEbur128(const std::string& what, const std::string& path,
                                  LoudnessMeter* meter, double lra_tolerance = 0.5) {
  Decode(path, {meter});
  const LoudnessResult& ours = meter->result();
  const std::optional<Ebur128Summary> ref =
      ParseEbur128Summary(FfmpegLog(path, "-af ebur128=peak=true -vn"));
  EXPECT_TRUE(ref.has_value());
  EXPECT_TRUE(ours.integrated_lufs.has_value());
  EXPECT_TRUE(ours.true_peak_dbtp.has_value());
  EXPECT_TRUE(ours.lra.has_value());
  if (!ref.has_value() || !ours.integrated_lufs || !ours.true_peak_dbtp || !ours.lra) return ours;
  ReportAgreement(what, "I ours " + std::to_string(*ours.integrated_lufs) + " ffmpeg " +
                            std::to_string(ref->integrated) + "; LRA ours " +
                            std::to_string(*ours.lra) + " ffmpeg " + std::to_string(ref->lra) +
                            "; TP ours " + std::to_string(*ours.true_peak_dbtp) + " ffmpeg " +
                            std::to_string(ref->true_peak));
  EXPECT_NEAR(*ours.integrated_lufs, ref->integrated, 0.2);
  EXPECT_NEAR(*ours.true_peak_dbtp, ref->true_peak, 0.3);
  EXPECT_NEAR(*ours.lra, ref->lra, lra_tolerance);
  return ours;
}

TEST(QcLoudnessMeterTest, SineAtMinus20DbfsMatchesEbur128) {
  // 1 kHz, peak 0.1 (-20 dBFS) in both channels: about -20 LUFS, -20 dBTP.
  const std::string path = MakeFixture(
      "tone.wav",
      "-f lavfi -i \"aevalsrc='0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t)':s=48000:d=8\" "
      "-c:a pcm_s16le");
  LoudnessMeter meter;
  const LoudnessResult r = CompareWithEbur128("loudness -20 dBFS sine (s16)", path, &meter);
  ASSERT_TRUE(r.integrated_lufs.has_value());
  EXPECT_NEAR(*r.integrated_lufs, -20.0, 0.2);
  EXPECT_NEAR(*r.true_peak_dbtp, -20.0, 0.1);
  EXPECT_NEAR(*r.lra, 0.0, 0.1);
  // Every second's momentary loudness is the tone's.
  const auto series = meter.PerSecondMomentary();
  ASSERT_EQ(series.size(), 8u);
  for (size_t k = 1; k < series.size(); ++k) EXPECT_NEAR(series[k].value(), -20.0, 0.2) << k;
  const nlohmann::json j = meter.ToJson();
  EXPECT_NEAR(j["integrated_lufs"].get<double>(), -20.0, 0.2);
  EXPECT_EQ(meter.SeriesJson().size(), 8u);
}

TEST(QcLoudnessMeterTest, MainFixtureMatchesEbur128) {
  // AAC (planar float), silent from 6 to 9 s. In 12 s with a 3 s gap the two
  // LRA block rates give different ranges (about 4.8 vs 7.8 LU): not compared.
  LoudnessMeter meter;
  CompareWithEbur128("loudness main (aac fltp)", MainFixture(), &meter, /*lra_tolerance=*/100);
  const auto series = meter.PerSecondMomentary();
  ASSERT_EQ(series.size(), 12u);
  EXPECT_GT(series[2].value_or(-1000), -25);
  EXPECT_LT(series[7].value_or(-1000), -70);  // silence: -inf (null) or far below
  EXPECT_TRUE(meter.SeriesJson()[7].is_null() || meter.SeriesJson()[7].get<double>() < -70);
}

TEST(QcLoudnessMeterTest, FivePointOneWeightsMatchEbur128) {
  // FL FR FC LFE BL BR with different levels: LFE must not count, the back
  // channels count 1.41 times.
  const std::string path = MakeFixture(
      "surround.wav",
      "-f lavfi -i \"aevalsrc='0.05*sin(2*PI*1000*t)|0.05*sin(2*PI*1000*t)|"
      "0.1*sin(2*PI*500*t)|0.5*sin(2*PI*60*t)|0.2*sin(2*PI*2000*t)|0.02*sin(2*PI*3000*t)'"
      ":c=5.1:s=48000:d=6\" -c:a pcm_f32le");
  LoudnessMeter meter;
  CompareWithEbur128("loudness 5.1 (flt)", path, &meter);
}

TEST(QcLoudnessMeterTest, NothingMeasuredIsNull) {
  LoudnessMeter meter;
  ASSERT_TRUE(meter.Finish().ok());
  EXPECT_FALSE(meter.result().integrated_lufs.has_value());
  EXPECT_EQ(meter.ToJson().dump(), R"({"integrated_lufs":null,"lra":null,"true_peak_dbtp":null})");
}

TEST(QcLoudnessMeterTest, DigitalSilenceHasNoLoudness) {
  LoudnessMeter meter;
  media::FramePtr frame = MakeAudioFrame(AV_SAMPLE_FMT_FLT, 2, 48000, std::vector<double>(96000));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(meter.OnAudioFrame(*frame, i).ok());
  ASSERT_TRUE(meter.Finish().ok());
  EXPECT_FALSE(meter.result().integrated_lufs.has_value());
  EXPECT_FALSE(meter.result().true_peak_dbtp.has_value());
  EXPECT_EQ(meter.SeriesJson().dump(), "[null,null,null]");
}

}  // namespace
}  // namespace vidgate::qc
