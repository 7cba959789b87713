// codec_string.h: RFC 6381 codec strings ("avc1.64001f", "hvc1.1.6.L93.B0",
// "av01.0.08M.08", "vp09.00.40.08", "mp4a.40.2", "Opus") for an encoder's
// output, as an HLS master playlist's CODECS attribute lists them. Players
// (Safari above all) pick the variants they can play by these strings, so
// they are read from the encoder's own headers where the codec has them.
#pragma once

#include <cstdint>
#include <span>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace vidgate::media {

// The codec string of an opened video encoder's stream (8-bit 4:2:0 as
// vidgate writes it), or "" when its headers cannot be read.
//   h264  avc1.PPCCLL from the SPS (Annex B extradata or an avcC record);
//   hevc  hvc1.[A-C]P.COMPAT.{L|H}LEVEL.CONSTRAINTS from the SPS's
//         profile_tier_level (ISO/IEC 14496-15 annex E);
//   av1   av01.P.LLT.08 from the sequence header OBU (AV1-ISOBMFF);
//   vp9   vp09.00.LL.08, the level from the picture size and frame rate (VP9
//         has no global header; the level table of the VP9 specification).
std::string VideoCodecString(const AVCodecContext& encoder, double frame_rate);

// mp4a.40.2 for AAC LC, Opus for Opus, "" otherwise.
std::string AudioCodecString(const AVCodecContext& encoder);

// The pieces above, on raw header bytes (exposed for tests).
std::string AvcCodecString(std::span<const uint8_t> extradata);
std::string HevcCodecString(std::span<const uint8_t> extradata);
std::string Av1CodecString(std::span<const uint8_t> extradata, int bit_depth = 8);
std::string Vp9CodecString(int width, int height, double frame_rate);

}  // namespace vidgate::media
