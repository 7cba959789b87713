#include "qc/silence_detector.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "qc/internal/audio_samples.h"

namespace vidgate::qc {

SilenceDetector::SilenceDetector(SilenceOptions options) : options_(options) {}

Status SilenceDetector::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  std::string why;
  if (!internal::ToInterleavedFloat(frame, &samples_, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    return Status();
  }
  const int channels = internal::FrameChannels(frame);
  const int rate = frame.sample_rate;
  if (run_start_.has_value() && rate != run_rate_) {
    // Keep the run, measured in seconds, across a sample rate change.
    run_samples_ = std::llround(static_cast<double>(run_samples_) * rate / run_rate_);
  }
  run_rate_ = rate;
  const float noise = static_cast<float>(options_.noise);
  const float* s = samples_.data();
  for (int i = 0; i < frame.nb_samples; ++i, s += channels) {
    bool silent = true;
    for (int c = 0; c < channels && silent; ++c) silent = std::fabs(s[c]) < noise;
    if (silent) {
      if (!run_start_.has_value()) {
        run_start_ = time_seconds + static_cast<double>(i) / rate;
        run_samples_ = 0;
      }
      ++run_samples_;
    } else if (run_start_.has_value()) {
      CloseRun(time_seconds + static_cast<double>(i) / rate);
    }
  }
  result_.sample_frames += frame.nb_samples;
  end_time_ = time_seconds + static_cast<double>(frame.nb_samples) / rate;
  return Status();
}

Status SilenceDetector::Finish() {
  CloseRun(end_time_);
  return Status();
}

void SilenceDetector::CloseRun(double end) {
  if (!run_start_.has_value()) return;
  const auto needed = static_cast<int64_t>(std::llround(options_.min_duration * run_rate_));
  if (run_samples_ >= needed) result_.segments.push_back(Segment{*run_start_, end});
  run_start_.reset();
  run_samples_ = 0;
}

nlohmann::json SilenceDetector::ToJson() const {
  nlohmann::json j = {
      {"segments", SegmentsToJson(result_.segments)},
      {"noise", options_.noise},
      {"min_duration", options_.min_duration},
      {"skipped_frames", result_.skipped_frames},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

}  // namespace vidgate::qc
