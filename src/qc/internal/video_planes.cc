#include "qc/internal/video_planes.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>
}

namespace vidgate::qc::internal {
namespace {

bool IsYuvjFormat(AVPixelFormat format) {
  switch (format) {
    case AV_PIX_FMT_YUVJ411P:
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ444P:
      return true;
    default:
      return false;
  }
}

std::string FormatName(AVPixelFormat format) {
  const char* name = av_get_pix_fmt_name(format);
  return name != nullptr ? name : "unknown";
}

}  // namespace

bool DescribeVideoFrame(const AVFrame& frame, VideoPlanes* out, std::string* why) {
  const auto format = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (desc == nullptr || frame.width <= 0 || frame.height <= 0 || frame.data[0] == nullptr) {
    *why = "frame without a usable pixel format or size";
    return false;
  }
  const uint64_t unsupported_flags = AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL |
                                     AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL |
                                     AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER;
  const int depth = desc->comp[0].depth;
  const int bytes = depth > 8 ? 2 : 1;
  bool ok = (desc->flags & unsupported_flags) == 0 && depth >= 8 && depth <= 16 &&
            !(bytes == 2 && (desc->flags & AV_PIX_FMT_FLAG_BE) != 0);
  for (int c = 0; ok && c < desc->nb_components; ++c) {
    const AVComponentDescriptor& comp = desc->comp[c];
    ok = comp.shift == 0 && comp.depth == depth && comp.offset < bytes * 2 &&
         // Luma samples are contiguous; chroma may interleave (NV12).
         (c != 0 ? (comp.step == bytes || comp.step == 2 * bytes) : comp.step == bytes);
  }
  const int count = av_pix_fmt_count_planes(format);
  if (!ok || count <= 0 || count > 4 || desc->comp[0].plane != 0) {
    *why = "pixel format " + FormatName(format) + " is not supported";
    return false;
  }

  VideoPlanes planes;
  planes.depth = depth;
  planes.bytes_per_sample = bytes;
  planes.full_range = IsYuvjFormat(format) || frame.color_range == AVCOL_RANGE_JPEG;
  planes.count = count;
  const bool has_alpha = (desc->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
  for (int p = 0; p < count; ++p) {
    Plane& plane = planes.planes[static_cast<size_t>(p)];
    const int line_bytes = av_image_get_linesize(format, frame.width, p);
    if (line_bytes <= 0 || frame.data[p] == nullptr) {
      *why = "frame of pixel format " + FormatName(format) + " lacks plane " + std::to_string(p);
      return false;
    }
    plane.data = frame.data[p];
    plane.linesize = frame.linesize[p];
    plane.width = line_bytes / bytes;
    const bool chroma_plane =
        desc->nb_components >= 3 && (p == desc->comp[1].plane || p == desc->comp[2].plane);
    plane.height = chroma_plane ? AV_CEIL_RSHIFT(frame.height, desc->log2_chroma_h) : frame.height;
    if (p == 0) {
      plane.kind = PlaneKind::kLuma;
    } else if (has_alpha && p == desc->comp[desc->nb_components - 1].plane) {
      plane.kind = PlaneKind::kAlpha;
    } else {
      plane.kind = PlaneKind::kChroma;
    }
  }
  *out = planes;
  return true;
}

bool SameGeometry(const VideoPlanes& a, const VideoPlanes& b) {
  if (a.depth != b.depth || a.count != b.count) return false;
  for (int p = 0; p < a.count; ++p) {
    const Plane& pa = a.planes[static_cast<size_t>(p)];
    const Plane& pb = b.planes[static_cast<size_t>(p)];
    if (pa.width != pb.width || pa.height != pb.height || pa.kind != pb.kind) return false;
  }
  return true;
}

}  // namespace vidgate::qc::internal
