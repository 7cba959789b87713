#include "qc/clipping_detector.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "qc/internal/audio_samples.h"

namespace vidgate::qc {

int64_t ClippingResult::total_clipped() const {
  int64_t total = 0;
  for (int64_t n : clipped) total += n;
  return total;
}

double ClippingResult::share() const {
  int64_t total = 0;
  for (int64_t n : samples) total += n;
  return total == 0 ? 0.0 : static_cast<double>(total_clipped()) / static_cast<double>(total);
}

double ClippingResult::channel_share(size_t channel) const {
  if (channel >= samples.size() || samples[channel] == 0) return 0.0;
  return static_cast<double>(clipped[channel]) / static_cast<double>(samples[channel]);
}

ClippingDetector::ClippingDetector(ClippingOptions options) : options_(options) {}

Status ClippingDetector::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  std::string why;
  if (!internal::ToInterleavedFloat(frame, &samples_, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    return Status();
  }
  const auto channels = static_cast<size_t>(internal::FrameChannels(frame));
  if (result_.clipped.size() < channels) {
    result_.clipped.resize(channels, 0);
    result_.samples.resize(channels, 0);
  }
  const auto threshold = static_cast<float>(options_.threshold);
  const auto n = static_cast<size_t>(frame.nb_samples);
  for (size_t c = 0; c < channels; ++c) {
    int64_t clipped = 0;
    size_t first = n;
    for (size_t i = 0; i < n; ++i) {
      if (std::fabs(samples_[i * channels + c]) >= threshold) {
        ++clipped;
        if (first == n) first = i;
      }
    }
    result_.clipped[c] += clipped;
    result_.samples[c] += static_cast<int64_t>(n);
    if (clipped > 0) {
      const double t = time_seconds + static_cast<double>(first) / frame.sample_rate;
      if (!result_.first_clip_time.has_value() || t < *result_.first_clip_time) {
        result_.first_clip_time = t;
      }
    }
  }
  return Status();
}

nlohmann::json ClippingDetector::ToJson() const {
  nlohmann::json channels = nlohmann::json::array();
  for (size_t c = 0; c < result_.clipped.size(); ++c) {
    channels.push_back(
        {{"clipped_samples", result_.clipped[c]}, {"share", result_.channel_share(c)}});
  }
  nlohmann::json j = {
      {"clipped_samples", result_.total_clipped()},
      {"share", result_.share()},
      {"first_clip_time", result_.first_clip_time.has_value()
                              ? nlohmann::json(*result_.first_clip_time)
                              : nlohmann::json(nullptr)},
      {"threshold", options_.threshold},
      {"channels", channels},
      {"skipped_frames", result_.skipped_frames},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

}  // namespace vidgate::qc
