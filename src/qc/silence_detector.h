// silence_detector.h: silent segments of an audio stream, with the meaning of
// ffmpeg's silencedetect filter in its default (mono=false) mode.
//
// Samples are converted to float (full scale 1.0; see internal/audio_samples.h,
// every packed and planar format). A sample frame (one sample per channel) is
// silent when every channel's |sample| is below `noise` (0.001 = -60 dBFS):
// silencedetect counts consecutive silent samples across the interleaved
// channels, so one loud channel ends the silence of all, which is this rule.
// A run of silent sample frames lasting at least min_duration is a segment
// from the time of its first silent sample to the time of the first sample
// that is not silent, or to the end of the last frame when the stream ends
// silent (silencedetect's silence_start and silence_end).
//
// Difference from silencedetect: for s16/s32 input, silencedetect truncates
// the threshold to an integer (|x| < 32 for s16 at -60 dB) where the float
// comparison here admits |x| <= 32; only samples of exactly that magnitude
// are judged differently.
//
// Times are the frame's time plus the sample's offset at the frame's sample
// rate. Not thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/decode_pass.h"
#include "qc/segment.h"

namespace vidgate::qc {

struct SilenceOptions {
  double noise = 0.001;       // amplitude ratio to full scale; 0.001 = -60 dB
  double min_duration = 2.0;  // seconds
};

struct SilenceResult {
  std::vector<Segment> segments;  // in time order, complete after Finish()
  int64_t sample_frames = 0;      // sample frames analysed
  int64_t skipped_frames = 0;     // audio frames that could not be read
  std::string skipped_reason;
};

class SilenceDetector : public media::FrameSink {
 public:
  explicit SilenceDetector(SilenceOptions options = {});

  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  const SilenceResult& result() const { return result_; }
  // {"segments":[{"start","end"}],"noise","min_duration","skipped_frames"}
  // (+"skipped_reason").
  nlohmann::json ToJson() const;

 private:
  void CloseRun(double end);

  SilenceOptions options_;
  SilenceResult result_;
  std::vector<float> samples_;
  std::optional<double> run_start_;  // time of the first silent sample of the run
  int64_t run_samples_ = 0;          // its length in sample frames
  int run_rate_ = 0;                 // sample rate the run was counted at
  double end_time_ = 0;              // end of the last frame
};

}  // namespace vidgate::qc
