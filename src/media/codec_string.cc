#include "media/codec_string.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <optional>
#include <vector>

namespace vidgate::media {
namespace {

// The payload of the first Annex B NAL unit whose type `type_of` gives as
// `type`, with the emulation prevention bytes (00 00 03) taken out.
template <typename TypeOf>
std::optional<std::vector<uint8_t>> FindNal(std::span<const uint8_t> d, int type, TypeOf type_of) {
  for (size_t i = 0; i + 3 < d.size(); ++i) {
    if (d[i] != 0 || d[i + 1] != 0 || d[i + 2] != 1 || type_of(d[i + 3]) != type) continue;
    std::vector<uint8_t> rbsp;
    int zeros = 0;
    for (size_t j = i + 3; j < d.size(); ++j) {
      if (zeros >= 2 && d[j] == 1) break;  // the next start code
      if (zeros >= 2 && d[j] == 3) {
        zeros = 0;
        continue;
      }
      zeros = d[j] == 0 ? zeros + 1 : 0;
      rbsp.push_back(d[j]);
    }
    return rbsp;
  }
  return std::nullopt;
}

// Reads bits most significant first; past the end it reads zeros and says so.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}
  uint32_t Read(int bits) {
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i, ++pos_) {
      const size_t byte = pos_ / 8;
      if (byte >= data_.size()) {
        overrun_ = true;
        v <<= 1;
        continue;
      }
      v = (v << 1) | ((data_[byte] >> (7 - pos_ % 8)) & 1u);
    }
    return v;
  }
  // AV1's uvlc(): leading zeros, then that many bits.
  uint32_t ReadUvlc() {
    int zeros = 0;
    while (Read(1) == 0 && !overrun_ && zeros < 32) ++zeros;
    return zeros >= 32 ? 0 : Read(zeros);
  }
  bool overrun() const { return overrun_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

}  // namespace

std::string AvcCodecString(std::span<const uint8_t> d) {
  // profile_idc, constraint flags, level_idc: the 3 bytes after the SPS's
  // NAL header, in an avcC record at bytes 1-3.
  if (d.size() >= 4 && d[0] == 1) return fmt::format("avc1.{:02x}{:02x}{:02x}", d[1], d[2], d[3]);
  auto sps = FindNal(d, 7, [](uint8_t h) { return h & 0x1f; });
  if (!sps || sps->size() < 4) return "";
  return fmt::format("avc1.{:02x}{:02x}{:02x}", (*sps)[1], (*sps)[2], (*sps)[3]);
}

std::string HevcCodecString(std::span<const uint8_t> d) {
  // general_profile_space/tier/profile_idc, 4 bytes of compatibility flags,
  // 6 of constraint flags, general_level_idc: hvcC bytes 1-12, or the SPS's
  // bytes 3-14 (after its 2-byte NAL header and 1 byte of ids).
  std::vector<uint8_t> ptl;
  if (d.size() >= 13 && d[0] == 1) {
    ptl.assign(d.begin() + 1, d.begin() + 13);
  } else {
    auto sps = FindNal(d, 33, [](uint8_t h) { return (h >> 1) & 0x3f; });
    if (!sps || sps->size() < 15) return "";
    ptl.assign(sps->begin() + 3, sps->begin() + 15);
  }
  const int space = ptl[0] >> 6;
  const bool high_tier = (ptl[0] >> 5) & 1;
  const int profile = ptl[0] & 0x1f;
  const uint32_t compat = (uint32_t{ptl[1]} << 24) | (uint32_t{ptl[2]} << 16) |
                          (uint32_t{ptl[3]} << 8) | uint32_t{ptl[4]};
  uint32_t reversed = 0;  // flag j of the bitstream's order as bit j
  for (int j = 0; j < 32; ++j) reversed |= ((compat >> (31 - j)) & 1u) << j;
  std::string out =
      fmt::format("hvc1.{}{}.{:X}.{}{}", space == 0 ? "" : std::string(1, 'A' + space - 1), profile,
                  reversed, high_tier ? 'H' : 'L', ptl[11]);
  int last = 10;  // constraint bytes 5..10, trailing zero bytes left out
  while (last >= 5 && ptl[static_cast<size_t>(last)] == 0) --last;
  for (int i = 5; i <= last; ++i) out += fmt::format(".{:02X}", ptl[static_cast<size_t>(i)]);
  return out;
}

std::string Av1CodecString(std::span<const uint8_t> d, int bit_depth) {
  // An av1C record (marker bit set) carries profile, level and tier in its
  // bytes 1-2; else the extradata is the sequence header OBU itself.
  if (d.size() >= 4 && d[0] == 0x81) {
    const int profile = d[1] >> 5, level = d[1] & 0x1f, tier = d[2] >> 7;
    return fmt::format("av01.{}.{:02d}{}.{:02d}", profile, level, tier ? 'H' : 'M', bit_depth);
  }
  BitReader r(d);
  r.Read(1);  // forbidden
  const uint32_t type = r.Read(4);
  const bool extension = r.Read(1) != 0;
  const bool has_size = r.Read(1) != 0;
  r.Read(1);
  if (type != 1) return "";  // OBU_SEQUENCE_HEADER
  if (extension) r.Read(8);
  if (has_size) {
    for (int i = 0; i < 8 && (r.Read(8) & 0x80) != 0; ++i) {
    }
  }
  const uint32_t profile = r.Read(3);
  r.Read(1);  // still_picture
  uint32_t level = 0, tier = 0;
  if (r.Read(1) != 0) {  // reduced_still_picture_header
    level = r.Read(5);
  } else {
    bool decoder_model = false;
    if (r.Read(1) != 0) {  // timing_info_present_flag
      r.Read(32);
      r.Read(32);
      if (r.Read(1) != 0) r.ReadUvlc();  // equal_picture_interval
      decoder_model = r.Read(1) != 0;
      if (decoder_model) {
        r.Read(5);
        r.Read(32);
        r.Read(5);
        r.Read(5);
      }
    }
    r.Read(1);  // initial_display_delay_present_flag
    r.Read(5);  // operating_points_cnt_minus_1: operating point 0 is the whole stream
    r.Read(12);
    level = r.Read(5);
    if (level > 7) tier = r.Read(1);
  }
  if (r.overrun()) return "";
  return fmt::format("av01.{}.{:02d}{}.{:02d}", profile, level, tier ? 'H' : 'M', bit_depth);
}

std::string Vp9CodecString(int width, int height, double frame_rate) {
  // VP9 specification annex A: the smallest level whose picture size and
  // luma sample rate hold the stream's.
  struct Level {
    int code;
    double max_picture, max_rate;
  };
  static constexpr std::array<Level, 14> kLevels{{{10, 36864, 829440},
                                                  {11, 73728, 2764800},
                                                  {20, 122880, 4608000},
                                                  {21, 245760, 9216000},
                                                  {30, 552960, 20736000},
                                                  {31, 983040, 36864000},
                                                  {40, 2228224, 83558400},
                                                  {41, 2228224, 160432128},
                                                  {50, 8912896, 311951360},
                                                  {51, 8912896, 588251136},
                                                  {52, 8912896, 1176502272},
                                                  {60, 35651584, 1176502272},
                                                  {61, 35651584, 2353004544},
                                                  {62, 35651584, 4706009088}}};
  const double picture = static_cast<double>(width) * height;
  const double rate = picture * (frame_rate > 0 ? frame_rate : 30);
  for (const Level& l : kLevels) {
    if (picture <= l.max_picture && rate <= l.max_rate) return fmt::format("vp09.00.{}.08", l.code);
  }
  return "";
}

// The luma bit depth of `format` (8 when unknown).
static int BitDepth(AVPixelFormat format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  return d != nullptr && d->nb_components > 0 ? d->comp[0].depth : 8;
}

std::string VideoCodecString(const AVCodecContext& encoder, double frame_rate) {
  const std::span<const uint8_t> extradata(
      encoder.extradata, encoder.extradata ? static_cast<size_t>(encoder.extradata_size) : 0);
  switch (encoder.codec_id) {
    case AV_CODEC_ID_H264:
      return AvcCodecString(extradata);
    case AV_CODEC_ID_HEVC:
      return HevcCodecString(extradata);
    case AV_CODEC_ID_AV1:
      return Av1CodecString(extradata, BitDepth(encoder.pix_fmt));
    case AV_CODEC_ID_VP9:
      return Vp9CodecString(encoder.width, encoder.height, frame_rate);
    default:
      return "";
  }
}

std::string AudioCodecString(const AVCodecContext& encoder) {
  switch (encoder.codec_id) {
    case AV_CODEC_ID_AAC:
      return "mp4a.40.2";
    case AV_CODEC_ID_OPUS:
      return "Opus";
    default:
      return "";
  }
}

}  // namespace vidgate::media
