// video_planes.h (internal): the sample planes of a decoded video frame, as
// the QC analysers read them.
//
// Supported: planar and semi-planar YUV and gray formats whose samples are
// unsigned integers of 8 bits (one byte) or 9 to 16 bits (two bytes, native
// little-endian, no shift): yuv420p, yuv422p, yuv444p, yuvj*, yuva*, gray,
// nv12/nv21, yuv420p10le, yuv422p10le, yuv444p12le, ... Packed YUV (yuyv422),
// RGB, palette, float, big-endian, shifted (p010) and hardware formats are not.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidgate::qc::internal {

enum class PlaneKind { kLuma, kChroma, kAlpha };

// One plane of samples. `width` counts samples per row (for a semi-planar
// chroma plane, U and V samples together); `data` and `linesize` are the
// frame's, so a view is valid only while its frame is.
struct Plane {
  const uint8_t* data = nullptr;
  ptrdiff_t linesize = 0;  // bytes from one row to the next
  int width = 0;
  int height = 0;
  PlaneKind kind = PlaneKind::kLuma;
};

struct VideoPlanes {
  int depth = 8;                // bits per sample
  int bytes_per_sample = 1;     // 1 (depth 8) or 2 (depth 9..16)
  bool full_range = false;      // yuvj* format or color_range JPEG
  int count = 0;                // planes in use
  std::array<Plane, 4> planes;  // planes[0] is luma (or gray)

  const Plane& luma() const { return planes[0]; }
  // Largest sample value: (1 << depth) - 1.
  uint32_t max_value() const { return (1u << depth) - 1; }
};

// Describes `frame`'s planes. Returns false and sets *why (e.g. "pixel format
// rgb24 is not supported") when the frame's format is not supported.
bool DescribeVideoFrame(const AVFrame& frame, VideoPlanes* out, std::string* why);

// True when two descriptions have the same format and plane sizes, so their
// samples can be compared one to one.
bool SameGeometry(const VideoPlanes& a, const VideoPlanes& b);

}  // namespace vidgate::qc::internal
