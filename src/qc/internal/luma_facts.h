// luma_facts.h (internal): the luma statistics several analysers need of
// each frame (black, broadcast range, average luma), taken in one pass over
// the plane instead of one pass each: the plane is bigger than the cache, so
// every pass costs a trip through memory.
//
// LumaFacts is a FrameSink that goes first in the analysers' lane; the
// analysers given it read the counts of the frame they are being called for.
// Without it (or for a frame it could not describe) they count for
// themselves, with the same results.
#pragma once

#include "media/decode_pass.h"
#include "qc/internal/pixel_ops.h"
#include "qc/internal/video_planes.h"

namespace vidgate::qc::internal {

// The largest luma code that counts as black (blackdetect's pixel threshold,
// a share of the luma range) for this picture's depth and range; -1 when no
// code does.
int64_t BlackCode(const VideoPlanes& planes, double pixel_threshold);

// The broadcast-legal luma codes for this depth: 16..235 scaled.
inline uint32_t LegalLumaLow(const VideoPlanes& planes) { return 16u << (planes.depth - 8); }
inline uint32_t LegalLumaHigh(const VideoPlanes& planes) { return 235u << (planes.depth - 8); }

class LumaFacts final : public media::FrameSink {
 public:
  explicit LumaFacts(double black_pixel_threshold) : black_threshold_(black_pixel_threshold) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;

  // The counts of `frame` (at_most: luma <= BlackCode; outside: luma outside
  // LegalLumaLow..High; sum), or null when they were not taken for it.
  const LumaCounts* For(const AVFrame& frame) const {
    return valid_ && &frame == frame_ && frame.data[0] == data_ ? &counts_ : nullptr;
  }

 private:
  double black_threshold_;
  bool valid_ = false;
  const AVFrame* frame_ = nullptr;
  const uint8_t* data_ = nullptr;
  LumaCounts counts_;
};

}  // namespace vidgate::qc::internal
