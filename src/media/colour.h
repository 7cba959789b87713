// colour.h: what a video stream says about its colour: the four tags
// (primaries, transfer, matrix, range, with ffprobe's names), the bit depth,
// and for HDR the format and its static metadata (mastering display, content
// light level). Read from the stream's parameters and side data, completed
// from a decoded frame's side data (HEVC and AV1 carry HDR10 metadata in the
// bitstream, not the container).
#pragma once

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

struct AVStream;

namespace vidgate::media {

// SMPTE ST 2086: the display the video was graded on. Chromaticities are CIE
// 1931 x,y; luminances in cd/m².
struct MasteringDisplay {
  double red_x = 0, red_y = 0, green_x = 0, green_y = 0, blue_x = 0, blue_y = 0;
  double white_x = 0, white_y = 0;
  double min_luminance = 0, max_luminance = 0;
  bool operator==(const MasteringDisplay&) const = default;
};

// CTA-861.3: MaxCLL and MaxFALL in cd/m².
struct ContentLightLevel {
  int max_content = 0;
  int max_average = 0;
  bool operator==(const ContentLightLevel&) const = default;
};

struct ColourInfo {
  // libav's (and ffprobe's) names: "bt709", "smpte2084", "bt2020nc", "tv"...;
  // nullopt when the stream leaves the tag unspecified.
  std::optional<std::string> primaries, transfer, matrix, range;
  std::optional<int> bit_depth;  // of the luma samples
  // "hdr10" (SMPTE ST 2084), "hlg" (ARIB STD-B67), "dolby_vision" or
  // "hdr10plus" when their metadata is present; nullopt for SDR.
  std::optional<std::string> hdr_format;
  std::optional<MasteringDisplay> mastering_display;
  std::optional<ContentLightLevel> content_light_level;

  // The libav values of the tags (UNSPECIFIED where unset).
  AVColorPrimaries av_primaries = AVCOL_PRI_UNSPECIFIED;
  AVColorTransferCharacteristic av_transfer = AVCOL_TRC_UNSPECIFIED;
  AVColorSpace av_matrix = AVCOL_SPC_UNSPECIFIED;
  AVColorRange av_range = AVCOL_RANGE_UNSPECIFIED;
  // Dynamic metadata seen (a Dolby Vision configuration or RPU, HDR10+).
  bool dolby_vision = false, hdr10plus = false;

  // A PQ or HLG transfer: the picture needs tone mapping to be shown as SDR.
  bool IsHdr() const;

  // {"primaries","transfer","matrix","range","bit_depth","hdr_format",
  //  "mastering_display":{"red":[x,y],"green":[x,y],"blue":[x,y],
  //  "white_point":[x,y],"min_luminance","max_luminance"}|null,
  //  "content_light_level":{"max_content","max_average"}|null}; every key
  // present, null when unknown.
  nlohmann::json ToJson() const;
};

// Whether the pixel format named `pix_fmt` (libav's name) holds RGB
// samples, which have no matrix (gbrp10le, rgb24, argb...); false for an
// unknown name.
bool IsRgbPixelFormat(const std::string& pix_fmt);

// The colour description in `stream`'s parameters and side data.
ColourInfo DescribeColour(const AVStream& stream);

// Adds what a decoded `frame` says and the stream did not: tags left
// unspecified, HDR static metadata, and the dynamic metadata that names
// Dolby Vision or HDR10+. Then settles hdr_format.
void AddFrameColour(ColourInfo& info, const AVFrame& frame);

}  // namespace vidgate::media
