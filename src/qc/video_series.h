// video_series.h: per-second video measurements for the report's plots.
//
// LuminanceSeries: the average luma of each second (the mean of its frames'
// mean luma), in 8-bit code values (N-bit video is divided by 2^(N-8)), so
// limited-range black is about 16 and white about 235.
//
// MotionSeries: the average motion of each second, where a frame's motion is
// the mean absolute difference of its luma to the previous frame's, in 8-bit
// code values. The first frame, and a frame whose size or format differs from
// its predecessor's, has no motion value.
//
// Second k covers stream times [k, k+1); a second without frames is null.
// Frames in an unsupported pixel format are skipped. Neither is thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "media/av.h"
#include "media/decode_pass.h"
#include "qc/internal/per_second.h"
#include "qc/internal/video_planes.h"

namespace vidgate::qc {
namespace internal {
class LumaFacts;
}

class LuminanceSeries : public media::FrameSink {
 public:
  // `facts`, when given, supplies each frame's luma sum (see
  // internal/luma_facts.h).
  explicit LuminanceSeries(const internal::LumaFacts* facts = nullptr) : facts_(facts) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;

  // The average luma of each second.
  std::vector<std::optional<double>> PerSecond() const { return series_.Means(); }
  // PerSecond() as a JSON array of numbers and nulls.
  nlohmann::json ToJson() const;

 private:
  const internal::LumaFacts* facts_;
  internal::PerSecond series_;
};

// MotionSeries holds a reference (av_frame_ref) to the previous frame,
// unless given the luma facts, which hold it for every analyser.
class MotionSeries : public media::FrameSink {
 public:
  // `facts`, when given, supplies each frame's difference to the previous
  // one (see internal/luma_facts.h).
  explicit MotionSeries(const internal::LumaFacts* facts = nullptr) : facts_(facts) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  // The average motion of each second.
  std::vector<std::optional<double>> PerSecond() const { return series_.Means(); }
  // PerSecond() as a JSON array of numbers and nulls.
  nlohmann::json ToJson() const;

 private:
  const internal::LumaFacts* facts_;
  internal::PerSecond series_;
  media::FramePtr previous_;
  internal::VideoPlanes previous_planes_;
};

}  // namespace vidgate::qc
