// luma_facts.h (internal): the luma statistics several analysers need of
// each frame (black, broadcast range and average luma; the difference to the
// previous frame and the combing of the two), taken in one sweep over the
// planes instead of one pass each: the planes are bigger than the cache, so
// every pass costs a trip through memory.
//
// LumaFacts is a FrameSink that goes first in the analysers' lane; the
// analysers given it read the facts of the frame they are being called for.
// Without it (or for a frame it could not describe) they count for
// themselves, with the same results.
#pragma once

#include <algorithm>

#include "media/av.h"
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

// The interlace detector's sampling of odd rows: every `at_least`-th, more
// sparsely on tall pictures so that about 135 rows are examined.
inline int CombRowStep(int at_least, int height) { return std::max(at_least, height / 270); }

// The combing test's parameters in 8-bit code values (see
// interlace_detector.h).
struct CombOptions {
  int threshold = 16;
  int row_step = 2;
};

struct FrameFacts {
  LumaCounts luma;  // at_most: luma <= BlackCode; outside: outside LegalLumaLow..High
  // Whether the previous frame had the same geometry, and then the luma
  // differences to it: the sum of absolute differences and the combing.
  bool has_previous = false;
  uint64_t abs_diff = 0;
  CombCounts combing;
};

class LumaFacts final : public media::FrameSink {
 public:
  LumaFacts(double black_pixel_threshold, CombOptions comb)
      : black_threshold_(black_pixel_threshold), comb_(comb) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  // The facts of `frame`, or null when they were not taken for it.
  const FrameFacts* For(const AVFrame& frame) const {
    return valid_ && &frame == frame_ && frame.data[0] == data_ ? &facts_ : nullptr;
  }
  double black_threshold() const { return black_threshold_; }
  const CombOptions& comb() const { return comb_; }

 private:
  double black_threshold_;
  CombOptions comb_;
  bool valid_ = false;
  const AVFrame* frame_ = nullptr;
  const uint8_t* data_ = nullptr;
  FrameFacts facts_;
  media::FramePtr previous_;
  VideoPlanes previous_planes_;
};

}  // namespace vidgate::qc::internal
