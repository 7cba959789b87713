// clipping_detector.h: samples at or beyond digital full scale.
//
// Samples are converted to float with full scale 1.0 (internal/audio_samples.h:
// s16 divides by 32768, so +32767 is 0.99997 and -32768 is -1.0). A sample is
// clipped when |x| >= threshold (0.999 by default, about -0.009 dBFS), which
// for 16-bit audio means |x| >= 32736. Counts are kept per channel (by index;
// a change of channel count adds channels). Not thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/decode_pass.h"

namespace vidgate::qc {

struct ClippingOptions {
  double threshold = 0.999;  // |sample| at or above this is clipped
};

struct ClippingResult {
  std::vector<int64_t> clipped;  // clipped samples per channel
  std::vector<int64_t> samples;  // samples per channel
  std::optional<double> first_clip_time;
  int64_t skipped_frames = 0;  // audio frames that could not be read
  std::string skipped_reason;

  int64_t total_clipped() const;
  // Clipped samples / samples over all channels (0 without samples).
  double share() const;
  // The same for one channel.
  double channel_share(size_t channel) const;
};

class ClippingDetector : public media::FrameSink {
 public:
  explicit ClippingDetector(ClippingOptions options = {});

  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;

  const ClippingResult& result() const { return result_; }
  // {"clipped_samples","share","first_clip_time"|null,"threshold",
  //  "channels":[{"clipped_samples","share"}],"skipped_frames"} (+"skipped_reason").
  nlohmann::json ToJson() const;

 private:
  ClippingOptions options_;
  ClippingResult result_;
  std::vector<float> samples_;
};

}  // namespace vidgate::qc
