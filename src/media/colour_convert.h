// colour_convert.h: what a decoded picture's colour is, and the zscale
// chain that makes it what an SDR rendition holds: BT.709 primaries,
// transfer and matrix, limited range, 4:2:0. HDR (PQ, HLG) is tone-mapped
// (linear light, BT.709 primaries, Hable's curve), so it is watchable in SDR
// instead of grey and washed out.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <string>

#include "media/colour.h"

namespace vidgate::media {

// A picture's colour, with what is unsaid filled in as players fill it:
// the frame's tags, else the stream's, else BT.709 from 720p up and BT.601
// below (matrix and primaries), the BT.709 transfer, limited range (full
// for the JPEG formats).
struct PictureColour {
  bool rgb = false;  // RGB samples: no matrix
  AVColorSpace matrix = AVCOL_SPC_BT709;
  bool full_range = false;
  AVColorTransferCharacteristic transfer = AVCOL_TRC_BT709;
  AVColorPrimaries primaries = AVCOL_PRI_BT709;

  bool IsHdr() const;
  // SDR whose samples swscale converts to `matrix` faithfully: RGB, or
  // YUV of that matrix already (its YUV-to-YUV matrix change leaves
  // artefacts, so zscale does that), in limited range unless `full_ok`.
  bool IsSdrWith(AVColorSpace matrix, bool full_ok = false) const;
};

// `stream` may be null.
PictureColour ColourOfPicture(const AVFrame& frame, const ColourInfo* stream);

// What the converted pictures hold: a rendition's BT.709 limited range, or
// a JPEG's BT.601 full range (JFIF).
struct SdrTarget {
  AVColorSpace matrix = AVCOL_SPC_BT709;
  bool full_range = false;
};
inline constexpr SdrTarget kJpegTarget{AVCOL_SPC_BT470BG, true};

// The libavfilter chain turning pictures of `from` into `width` x `height`
// yuv420p of `to`, tone-mapped when `from` is HDR.
std::string SdrChain(const PictureColour& from, int width, int height, SdrTarget to = {});

}  // namespace vidgate::media
