// range_checker.h: broadcast-legal range of limited-range video.
//
// In limited ("TV", MPEG) range, legal 8-bit luma lies in 16..235 and legal
// chroma in 16..240; for N-bit video the bounds are scaled by 2^(N-8) (64..940
// and 64..960 for 10-bit). RangeChecker counts the luma and chroma samples
// outside those bounds, per frame and over the stream. Full-range frames
// (yuvj* formats or color_range JPEG) use every code value legally and are
// counted but not checked; alpha planes are ignored; frames in an unsupported
// pixel format are skipped and counted.
//
// Per-frame results are kept as aggregates (frames with any sample outside,
// the worst frame, the worst frame of each second), so memory does not grow
// with the number of frames.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/decode_pass.h"
#include "qc/internal/per_second.h"

namespace vidgate::qc {
namespace internal {
class LumaFacts;
}

// Shares (0..1) of one frame's samples outside the legal range.
struct RangeFrame {
  double time = 0;
  double luma_outside = 0;
  double chroma_outside = 0;
};

struct RangeResult {
  int64_t frames = 0;             // limited-range frames checked
  int64_t frames_outside = 0;     // checked frames with at least one sample outside
  int64_t full_range_frames = 0;  // frames not checked (full range)
  int64_t skipped_frames = 0;     // frames in an unsupported format
  std::string skipped_reason;
  uint64_t luma_samples = 0;
  uint64_t luma_outside = 0;
  uint64_t chroma_samples = 0;
  uint64_t chroma_outside = 0;
  // The checked frame with the largest share of luma and chroma samples
  // outside together (the first of equals); empty when no frame was checked.
  std::optional<RangeFrame> worst_frame;

  double luma_outside_share() const;    // 0 when nothing was checked
  double chroma_outside_share() const;  // 0 when nothing was checked
};

// RangeChecker is a FrameSink for the video frames of one decode pass. Not
// thread-safe.
class RangeChecker : public media::FrameSink {
 public:
  // `facts`, when given, supplies each frame's luma counts (see
  // internal/luma_facts.h).
  explicit RangeChecker(const internal::LumaFacts* facts = nullptr) : facts_(facts) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;

  const RangeResult& result() const { return result_; }
  // Per second, the largest share of samples (luma and chroma together)
  // outside the legal range in any checked frame of that second.
  std::vector<std::optional<double>> PerSecondMaxOutside() const;

  // {"frames","frames_outside","full_range_frames","skipped_frames",
  //  "luma_outside_share","chroma_outside_share",
  //  "worst_frame":{"time","luma_outside_share","chroma_outside_share"}|null}
  //  (+"skipped_reason").
  nlohmann::json ToJson() const;
  // PerSecondMaxOutside() as a JSON array (null for seconds without frames).
  nlohmann::json SeriesJson() const;

 private:
  const internal::LumaFacts* facts_;
  RangeResult result_;
  double worst_share_ = -1;
  internal::PerSecond per_second_;
};

}  // namespace vidgate::qc
