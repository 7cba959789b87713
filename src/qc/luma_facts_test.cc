#include "qc/internal/luma_facts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/util.h"
#include "media/synthesize.h"
#include "qc/black_detector.h"
#include "qc/interlace_detector.h"
#include "qc/range_checker.h"
#include "qc/video_series.h"

namespace vidgate::qc {
namespace {

// The analysers reading the shared counts report exactly what they report
// counting on their own.
TEST(LumaFactsTest, SharedCountsGiveTheSameResults) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vidgate-facts-" + NewUuid() + ".mp4")).string();
  media::SynthOptions o;
  o.width = 320;
  o.height = 180;
  o.seconds = 5;
  o.audio = false;
  o.black = {{1.0, 3.5}};
  ASSERT_TRUE(media::SynthesizeClip(path, o).ok());

  internal::LumaFacts facts(0.10, {});
  // Right after the facts: they were taken for every frame, so the shared
  // analysers below did not fall back to counting for themselves.
  struct FactsSeen final : media::FrameSink {
    explicit FactsSeen(const internal::LumaFacts& f) : facts(f) {}
    Status OnVideoFrame(const AVFrame& frame, double) override {
      ++frames;
      if (facts.For(frame) != nullptr) ++with_facts;
      return Status();
    }
    const internal::LumaFacts& facts;
    int frames = 0, with_facts = 0;
  } seen(facts);
  BlackDetector shared_black({}, &facts), own_black;
  RangeChecker shared_range(&facts), own_range;
  LuminanceSeries shared_luma(&facts), own_luma;
  MotionSeries shared_motion(&facts), own_motion;
  InterlaceDetector shared_interlace({}, &facts), own_interlace;
  auto stats = media::DecodePass(
      path,
      {&facts, &seen, &shared_black, &shared_range, &shared_luma, &shared_motion, &shared_interlace,
       &own_black, &own_range, &own_luma, &own_motion, &own_interlace},
      {});
  std::filesystem::remove(path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(seen.frames, 0);
  EXPECT_EQ(seen.with_facts, seen.frames);
  EXPECT_EQ(shared_black.ToJson(), own_black.ToJson());
  EXPECT_EQ(shared_black.result().segments.size(), 1u);
  EXPECT_EQ(shared_range.ToJson(), own_range.ToJson());
  EXPECT_GT(shared_range.result().luma_outside, 0u) << "testsrc-like colours leave the range";
  EXPECT_EQ(shared_luma.ToJson(), own_luma.ToJson());
  EXPECT_EQ(shared_motion.ToJson(), own_motion.ToJson());
  EXPECT_GT(own_motion.PerSecond().at(0).value_or(0), 0) << "the pattern moves";
  EXPECT_EQ(shared_interlace.ToJson(), own_interlace.ToJson());
  EXPECT_GT(own_interlace.result().progressive, 0);
}

TEST(LumaFactsTest, BlackCodeFollowsDepthAndRange) {
  internal::VideoPlanes planes;
  planes.depth = 8;
  planes.full_range = false;
  EXPECT_EQ(internal::BlackCode(planes, 0.10), 37);  // 16 + 0.1 * 219, truncated
  planes.full_range = true;
  EXPECT_EQ(internal::BlackCode(planes, 0.10), 25);  // 0.1 * 255
  planes.depth = 10;
  planes.full_range = false;
  EXPECT_EQ(internal::BlackCode(planes, 0.10), 151);  // 64 + 0.1 * 876
  EXPECT_EQ(internal::BlackCode(planes, -1), -1);
}

}  // namespace
}  // namespace vidgate::qc
