// black_detector.h: black segments of a video stream, with the meaning of
// ffmpeg's blackdetect filter.
//
// A luma sample is black when its value is at most the pixel threshold,
// expressed as a code value and truncated to an integer as blackdetect does:
//   limited range (8-bit): 16 + pixel_threshold * (235 - 16), so 37 at 0.10;
//   limited range (N-bit): the same scaled by 2^(N-8) (151 for 10-bit);
//   full range (yuvj* formats or color_range JPEG): pixel_threshold * (2^N - 1)
//     (25 for 8-bit).
// A frame is black when the share of black luma samples is at least
// picture_ratio. A black segment starts at the first black frame and ends at
// the first frame that is not black; a run still black at the end of the
// stream ends where its last frame ends (its start plus the frame interval).
// Runs shorter than min_duration are not reported.
//
// Differences from ffmpeg 5.1's blackdetect, both deliberate: blackdetect
// ends a run that lasts to the end of the file at the start of its last frame
// (its source says so in a FIXME), so segments at the end are one frame
// longer here; and blackdetect 5.1 takes the range from the pixel format only,
// where this also honours a frame's color_range flag (as later ffmpeg does).
//
// Frames in an unsupported pixel format (see internal/video_planes.h: RGB,
// packed YUV, ...) are skipped and counted; they end a running segment.
//
// Example:
//   BlackDetector black;
//   VG_ASSIGN_OR_RETURN(auto stats, media::DecodePass(path, {&black}, {}));
//   for (const Segment& s : black.result().segments) ...
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/decode_pass.h"
#include "qc/internal/frame_clock.h"
#include "qc/segment.h"

namespace vidgate::qc {
namespace internal {
class LumaFacts;
}

struct BlackOptions {
  double pixel_threshold = 0.10;  // share of the luma range, 0..1
  double picture_ratio = 0.98;    // share of black pixels that makes a frame black
  double min_duration = 2.0;      // seconds
};

struct BlackResult {
  std::vector<Segment> segments;  // in time order, complete after Finish()
  int64_t frames = 0;             // frames analysed
  int64_t black_frames = 0;
  int64_t skipped_frames = 0;  // frames in an unsupported format
  std::string skipped_reason;  // why the first skipped frame was skipped
};

// BlackDetector is a FrameSink for the video frames of one decode pass. Not
// thread-safe; one instance per pass.
class BlackDetector : public media::FrameSink {
 public:
  // `facts`, when given, supplies each frame's luma counts (see
  // internal/luma_facts.h) if it uses the same pixel threshold.
  explicit BlackDetector(BlackOptions options = {}, const internal::LumaFacts* facts = nullptr);

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  const BlackResult& result() const { return result_; }
  // {"segments":[{"start","end"}],"frames","black_frames","skipped_frames",
  //  "pixel_threshold","picture_ratio","min_duration"} (+"skipped_reason").
  nlohmann::json ToJson() const;

 private:
  void CloseRun(double end);

  BlackOptions options_;
  const internal::LumaFacts* facts_;
  BlackResult result_;
  internal::FrameClock clock_;
  std::optional<double> run_start_;
};

}  // namespace vidgate::qc
