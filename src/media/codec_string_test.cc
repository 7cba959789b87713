#include "media/codec_string.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vidgate::media {
namespace {

// An Annex B NAL unit: start code, then `rbsp` with emulation prevention
// bytes put in (00 00 0x becomes 00 00 03 0x for x <= 3).
std::vector<uint8_t> Nal(const std::vector<uint8_t>& rbsp) {
  std::vector<uint8_t> out = {0, 0, 0, 1};
  int zeros = 0;
  for (uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

// Writes bits most significant first.
class BitWriter {
 public:
  void Put(uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) {
      if (count_ % 8 == 0) bytes_.push_back(0);
      bytes_.back() |= static_cast<uint8_t>(((value >> i) & 1u) << (7 - count_ % 8));
      ++count_;
    }
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  int count_ = 0;
};

TEST(CodecStringTest, AvcFromTheSpsOrAnAvcCRecord) {
  std::vector<uint8_t> annex_b = Nal({0x67, 0x64, 0x00, 0x1f, 0xac});
  std::vector<uint8_t> pps = Nal({0x68, 0xeb});
  annex_b.insert(annex_b.begin(), pps.begin(), pps.end());  // the SPS need not come first
  EXPECT_EQ(AvcCodecString(annex_b), "avc1.64001f");
  EXPECT_EQ(AvcCodecString(std::vector<uint8_t>{1, 0x4d, 0x40, 0x28, 0xff}), "avc1.4d4028");
  EXPECT_EQ(AvcCodecString(Nal({0x68, 0xeb})), "") << "no SPS";
}

TEST(CodecStringTest, HevcFromTheSpsProfileTierLevel) {
  // Main profile, main tier, level 3.1 (93), progressive and frame-only.
  const std::vector<uint8_t> main_ptl = {0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93};
  std::vector<uint8_t> sps = {0x42, 0x01, 0x01};
  sps.insert(sps.end(), main_ptl.begin(), main_ptl.end());
  sps.push_back(0xa0);
  std::vector<uint8_t> stream = Nal({0x40, 0x01, 0x0c});  // a VPS first
  const std::vector<uint8_t> sps_nal = Nal(sps);
  stream.insert(stream.end(), sps_nal.begin(), sps_nal.end());
  EXPECT_EQ(HevcCodecString(stream), "hvc1.1.6.L93.90");

  // Main 10, high tier, level 4 (120): runs of zeros the bitstream escapes.
  const std::vector<uint8_t> high_ptl = {0x22, 0x20, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 120};
  sps = {0x42, 0x01, 0x01};
  sps.insert(sps.end(), high_ptl.begin(), high_ptl.end());
  EXPECT_EQ(HevcCodecString(Nal(sps)), "hvc1.2.4.H120.B0");

  // The same from an hvcC record.
  std::vector<uint8_t> hvcc = {1};
  hvcc.insert(hvcc.end(), main_ptl.begin(), main_ptl.end());
  hvcc.resize(23, 0);
  EXPECT_EQ(HevcCodecString(hvcc), "hvc1.1.6.L93.90");
  EXPECT_EQ(HevcCodecString(Nal({0x42, 0x01, 0x01, 0x01})), "") << "a cut SPS";
}

TEST(CodecStringTest, Av1FromTheSequenceHeader) {
  // Profile 0, level 8 (4.0), main tier, with and without timing info.
  for (bool timing : {false, true}) {
    BitWriter seq;
    seq.Put(0, 3);  // seq_profile
    seq.Put(0, 1);  // still_picture
    seq.Put(0, 1);  // reduced_still_picture_header
    seq.Put(timing, 1);
    if (timing) {
      seq.Put(1001, 32);
      seq.Put(30000, 32);
      seq.Put(1, 1);  // equal_picture_interval
      seq.Put(1, 1);  // uvlc 0
      seq.Put(0, 1);  // decoder_model_info_present_flag
    }
    seq.Put(0, 1);   // initial_display_delay_present_flag
    seq.Put(0, 5);   // operating_points_cnt_minus_1
    seq.Put(0, 12);  // operating_point_idc
    seq.Put(8, 5);   // seq_level_idx
    seq.Put(0, 1);   // seq_tier
    seq.Put(0, 16);  // the rest, as far as this reads
    std::vector<uint8_t> obu = {0x0a, static_cast<uint8_t>(seq.bytes().size())};
    obu.insert(obu.end(), seq.bytes().begin(), seq.bytes().end());
    EXPECT_EQ(Av1CodecString(obu), "av01.0.08M.08") << "timing info " << timing;
  }
  EXPECT_EQ(Av1CodecString(std::vector<uint8_t>{0x81, 0x09, 0x80, 0x00}), "av01.0.09H.08");
  EXPECT_EQ(Av1CodecString(std::vector<uint8_t>{0x81, 0x09, 0x80, 0x00}, 10), "av01.0.09H.10");
  EXPECT_EQ(Av1CodecString(std::vector<uint8_t>{0x12, 0x00}), "") << "a temporal delimiter";
}

TEST(CodecStringTest, Vp9LevelFromSizeAndRate) {
  EXPECT_EQ(Vp9CodecString(1920, 1080, 30), "vp09.00.40.08");
  EXPECT_EQ(Vp9CodecString(1920, 1080, 60), "vp09.00.41.08");
  EXPECT_EQ(Vp9CodecString(256, 144, 25), "vp09.00.11.08");
  EXPECT_EQ(Vp9CodecString(3840, 2160, 30), "vp09.00.50.08");
}

}  // namespace
}  // namespace vidgate::media
