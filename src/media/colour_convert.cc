#include "media/colour_convert.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <fmt/format.h>

namespace vidgate::media {
namespace {

bool Unset(AVColorSpace m) { return m == AVCOL_SPC_UNSPECIFIED || m == AVCOL_SPC_RESERVED; }
bool Unset(AVColorTransferCharacteristic t) {
  return t == AVCOL_TRC_UNSPECIFIED || t == AVCOL_TRC_RESERVED || t == AVCOL_TRC_RESERVED0;
}
bool Unset(AVColorPrimaries p) {
  return p == AVCOL_PRI_UNSPECIFIED || p == AVCOL_PRI_RESERVED || p == AVCOL_PRI_RESERVED0;
}

// zimg's names for what it converts; others are taken as the nearest that
// it knows (BT.709, whose curve most SDR transfers share).
const char* ZMatrix(AVColorSpace m) {
  switch (m) {
    case AVCOL_SPC_SMPTE170M:
      return "170m";
    case AVCOL_SPC_BT470BG:
      return "470bg";
    case AVCOL_SPC_SMPTE240M:
      return "240m";
    case AVCOL_SPC_FCC:
      return "fcc";
    case AVCOL_SPC_YCGCO:
      return "ycgco";
    case AVCOL_SPC_BT2020_NCL:
      return "2020_ncl";
    case AVCOL_SPC_BT2020_CL:
      return "2020_cl";
    default:
      return "709";
  }
}
const char* ZTransfer(AVColorTransferCharacteristic t) {
  switch (t) {
    case AVCOL_TRC_SMPTE2084:
      return "smpte2084";
    case AVCOL_TRC_ARIB_STD_B67:
      return "arib-std-b67";
    case AVCOL_TRC_LINEAR:
      return "linear";
    case AVCOL_TRC_SMPTE170M:
      return "601";
    case AVCOL_TRC_BT2020_10:
      return "2020_10";
    case AVCOL_TRC_BT2020_12:
      return "2020_12";
    default:
      return "709";
  }
}
const char* ZPrimaries(AVColorPrimaries p) {
  switch (p) {
    case AVCOL_PRI_SMPTE170M:
      return "170m";
    case AVCOL_PRI_BT470BG:
      return "470bg";
    case AVCOL_PRI_SMPTE240M:
      return "240m";
    case AVCOL_PRI_BT2020:
      return "2020";
    case AVCOL_PRI_SMPTE432:
      return "smpte432";
    default:
      return "709";
  }
}

}  // namespace

bool PictureColour::IsHdr() const {
  return transfer == AVCOL_TRC_SMPTE2084 || transfer == AVCOL_TRC_ARIB_STD_B67;
}

bool PictureColour::IsSdrWith(AVColorSpace m, bool full_ok) const {
  const bool same = matrix == m || (m == AVCOL_SPC_BT470BG && matrix == AVCOL_SPC_SMPTE170M) ||
                    (m == AVCOL_SPC_SMPTE170M && matrix == AVCOL_SPC_BT470BG);
  return !IsHdr() && (rgb || (same && (full_ok || !full_range)));
}

PictureColour ColourOfPicture(const AVFrame& frame, const ColourInfo* stream) {
  PictureColour c;
  const bool hd = frame.width >= 1280 || frame.height > 576;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  c.rgb = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_RGB);
  c.matrix = frame.colorspace;
  if (Unset(c.matrix) && stream != nullptr) c.matrix = stream->av_matrix;
  if (Unset(c.matrix)) c.matrix = hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  const auto f = static_cast<AVPixelFormat>(frame.format);
  AVColorRange range = frame.color_range;
  if (range == AVCOL_RANGE_UNSPECIFIED && stream != nullptr) range = stream->av_range;
  c.full_range = range == AVCOL_RANGE_JPEG || f == AV_PIX_FMT_YUVJ420P ||
                 f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P || f == AV_PIX_FMT_YUVJ440P ||
                 f == AV_PIX_FMT_YUVJ411P;
  c.transfer = frame.color_trc;
  if (Unset(c.transfer) && stream != nullptr) c.transfer = stream->av_transfer;
  if (Unset(c.transfer)) c.transfer = AVCOL_TRC_BT709;
  c.primaries = frame.color_primaries;
  if (Unset(c.primaries) && stream != nullptr) c.primaries = stream->av_primaries;
  if (Unset(c.primaries)) c.primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
  return c;
}

std::string SdrChain(const PictureColour& from, int width, int height, SdrTarget to) {
  const std::string out = fmt::format(":m={}:r={},format=yuv420p", ZMatrix(to.matrix),
                                      to.full_range ? "full" : "limited");
  const std::string in = fmt::format(
      "zscale=w={}:h={}:f=bicubic:rin={}{}", width, height, from.full_range ? "full" : "limited",
      from.rgb ? std::string() : std::string(":min=") + ZMatrix(from.matrix));
  if (!from.IsHdr()) {
    // SDR: the matrix and range only; the primaries and the curve are
    // left as they are (the SDR ones differ too little to convert).
    return in + out;
  }
  // HDR: to linear light at 100 cd/m² for SDR white, BT.709 primaries,
  // Hable's curve (keeps highlight detail, ffmpeg's usual choice), then
  // BT.709's curve and matrix.
  // The target's matrix and range at the end: a JPEG's are BT.601 full
  // range (they were BT.709 limited whatever the target, which JPEG
  // readers took for full range: washed-out, shifted thumbnails).
  return in +
         fmt::format(
             ":tin={}:pin={}:t=linear:npl=100,format=gbrpf32le,zscale=p=709,"
             "tonemap=tonemap=hable:desat=0,zscale=t=709",
             ZTransfer(from.transfer), ZPrimaries(from.primaries)) +
         out;
}

}  // namespace vidgate::media
