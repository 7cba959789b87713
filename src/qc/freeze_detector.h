// freeze_detector.h: frozen (still) segments of a video stream, with the
// meaning of ffmpeg's freezedetect filter.
//
// The detector keeps a reference frame: the last frame that was not frozen.
// A frame is frozen when its mean absolute difference to the reference, over
// the samples of all its planes and divided by 2^depth (256 for 8-bit, as
// freezedetect does), is at most `noise` (0.001, i.e. -60 dB). A frame that
// is not frozen becomes the new reference. A freeze is reported when a frozen
// frame lies at least min_duration after its reference; the segment starts at
// the reference frame and ends at the first frame that differs again, or
// where the last frame ends when the stream ends frozen (freezedetect reports
// no end then). These are freezedetect's freeze_start and freeze_end.
//
// Note that frames are compared with the reference, not with their
// predecessor, so a slow fade is not a freeze. A change of frame size or
// format, or a frame in an unsupported pixel format (counted as skipped), is
// a difference.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "media/av.h"
#include "media/decode_pass.h"
#include "qc/internal/frame_clock.h"
#include "qc/internal/video_planes.h"
#include "qc/segment.h"

namespace vidgate::qc {

struct FreezeOptions {
  double noise = 0.001;       // mean absolute difference / 2^depth; 0.001 = -60 dB
  double min_duration = 2.0;  // seconds
};

struct FreezeResult {
  std::vector<Segment> segments;  // in time order, complete after Finish()
  int64_t frames = 0;             // frames analysed
  int64_t frozen_frames = 0;      // frames within the noise of their reference
  int64_t skipped_frames = 0;     // frames in an unsupported format
  std::string skipped_reason;
};

// FreezeDetector is a FrameSink for the video frames of one decode pass. It
// holds a reference (av_frame_ref) to one decoded frame. Not thread-safe.
class FreezeDetector : public media::FrameSink {
 public:
  explicit FreezeDetector(FreezeOptions options = {});

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  const FreezeResult& result() const { return result_; }
  // {"segments":[{"start","end"}],"frames","frozen_frames","skipped_frames",
  //  "noise","min_duration"} (+"skipped_reason").
  nlohmann::json ToJson() const;

 private:
  // Ends the current run at `end`, recording it when it was long enough.
  void CloseRun(double end);
  // Makes `frame` (at `time`) the reference.
  Status TakeReference(const AVFrame& frame, double time);

  FreezeOptions options_;
  FreezeResult result_;
  internal::FrameClock clock_;
  media::FramePtr reference_;
  internal::VideoPlanes reference_planes_;
  double reference_time_ = 0;
  bool run_long_enough_ = false;  // a frozen frame was min_duration after the reference
};

}  // namespace vidgate::qc
