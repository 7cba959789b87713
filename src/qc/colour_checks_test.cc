#include "qc/colour_checks.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace vidgate::qc {
namespace {

media::ColourInfo Tagged(AVColorPrimaries p, AVColorTransferCharacteristic t, AVColorSpace m,
                         int bits) {
  media::ColourInfo c;
  c.av_primaries = p;
  c.primaries = av_color_primaries_name(p);
  c.av_transfer = t;
  c.transfer = av_color_transfer_name(t);
  c.av_matrix = m;
  c.matrix = av_color_space_name(m);
  c.av_range = AVCOL_RANGE_MPEG;
  c.range = "tv";
  c.bit_depth = bits;
  if (t == AVCOL_TRC_SMPTE2084) c.hdr_format = "hdr10";
  if (t == AVCOL_TRC_ARIB_STD_B67) c.hdr_format = "hlg";
  return c;
}

media::MasteringDisplay P3D65(double max_nits) {
  return {0.68, 0.32, 0.265, 0.69, 0.15, 0.06, 0.3127, 0.329, 0.0001, max_nits};
}

TEST(ColourTagsTest, ConsistentTagsPass) {
  auto sdr =
      JudgeColourTags(Tagged(AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_BT709, 8), "yuv420p");
  EXPECT_TRUE(sdr.passed) << sdr.message;
  EXPECT_EQ(sdr.message, "colour bt709/bt709/bt709, tv range");
  auto hdr = JudgeColourTags(
      Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_SMPTE2084, AVCOL_SPC_BT2020_NCL, 10), "yuv420p10le");
  EXPECT_TRUE(hdr.passed) << hdr.message;
}

TEST(ColourTagsTest, UntaggedFailsNamingWhatIsMissing) {
  media::ColourInfo c;
  auto j = JudgeColourTags(c, "yuv420p");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("no colour primaries, transfer and matrix tagged"), std::string::npos)
      << j.message;
  c = Tagged(AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_BT709, 8);
  c.matrix.reset();
  c.av_matrix = AVCOL_SPC_UNSPECIFIED;
  j = JudgeColourTags(c, "yuv420p");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("no colour matrix tagged"), std::string::npos) << j.message;
}

TEST(ColourTagsTest, ContradictionsFail) {
  auto j = JudgeColourTags(Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_BT709, AVCOL_SPC_BT709, 10),
                           "yuv420p10le");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("primaries bt2020 contradict matrix bt709"), std::string::npos);
  j = JudgeColourTags(Tagged(AVCOL_PRI_BT709, AVCOL_TRC_SMPTE2084, AVCOL_SPC_BT709, 10),
                      "yuv420p10le");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("HDR transfer (smpte2084) on bt709 primaries"), std::string::npos)
      << j.message;
  j = JudgeColourTags(Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_ARIB_STD_B67, AVCOL_SPC_BT2020_NCL, 8),
                      "yuv420p");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("8-bit samples"), std::string::npos) << j.message;
  j = JudgeColourTags(Tagged(AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_RGB, 8), "yuv420p");
  EXPECT_FALSE(j.passed);
  EXPECT_NE(j.message.find("RGB"), std::string::npos) << j.message;
  EXPECT_TRUE(
      JudgeColourTags(Tagged(AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_RGB, 8), "gbrp").passed);
}

TEST(HdrMetadataTest, OnlyJudgedForHdr) {
  EXPECT_FALSE(JudgeHdrMetadata(Tagged(AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_BT709, 8)));
}

TEST(HdrMetadataTest, PqNeedsMasteringMetadataHlgDoesNot) {
  auto pq = Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_SMPTE2084, AVCOL_SPC_BT2020_NCL, 10);
  auto j = JudgeHdrMetadata(pq);
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->passed);
  EXPECT_NE(j->message.find("without mastering display metadata"), std::string::npos);
  pq.mastering_display = P3D65(1000);
  pq.content_light_level = media::ContentLightLevel{1000, 400};
  j = JudgeHdrMetadata(pq);
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->passed) << j->message;
  EXPECT_EQ(j->message, "hdr10, mastered on 0.0001-1000 cd/m², MaxCLL 1000 MaxFALL 400");
  auto hlg = Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_ARIB_STD_B67, AVCOL_SPC_BT2020_NCL, 10);
  j = JudgeHdrMetadata(hlg);
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->passed) << j->message;
}

TEST(HdrMetadataTest, OutOfRangeValuesFail) {
  auto pq = Tagged(AVCOL_PRI_BT2020, AVCOL_TRC_SMPTE2084, AVCOL_SPC_BT2020_NCL, 10);
  pq.mastering_display = P3D65(20000);
  auto j = JudgeHdrMetadata(pq);
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->passed);
  EXPECT_NE(j->message.find("peak 20000 cd/m² outside 50..10000"), std::string::npos) << j->message;
  pq.mastering_display = P3D65(1000);
  pq.mastering_display->red_x = 0;
  pq.mastering_display->min_luminance = 2000;
  j = JudgeHdrMetadata(pq);
  EXPECT_FALSE(j->passed);
  EXPECT_NE(j->message.find("chromaticities"), std::string::npos) << j->message;
  EXPECT_NE(j->message.find("not below its peak"), std::string::npos) << j->message;
  pq.mastering_display = P3D65(1000);
  pq.content_light_level = media::ContentLightLevel{400, 1000};
  j = JudgeHdrMetadata(pq);
  EXPECT_FALSE(j->passed);
  EXPECT_NE(j->message.find("MaxFALL 1000 over MaxCLL 400"), std::string::npos) << j->message;
}

}  // namespace
}  // namespace vidgate::qc
