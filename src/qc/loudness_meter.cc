#include "qc/loudness_meter.h"

#include <ebur128.h>

extern "C" {
#include <libavutil/channel_layout.h>
}

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "qc/internal/audio_samples.h"
#include "qc/internal/series_json.h"

namespace vidgate::qc {

namespace {

// HISTOGRAM keeps the gating blocks in fixed-size histograms (as ffmpeg's
// ebur128 filter does) instead of a list that grows with the duration.
constexpr int kModes = EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_M |
                       EBUR128_MODE_HISTOGRAM;
constexpr int kReadingsPerSecond = 10;

std::optional<double> Finite(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// BS.1770 weighting from a libav channel; nullopt when the layout does not
// name the channel (libebur128's default order then applies).
std::optional<channel> ChannelType(AVChannel ch) {
  switch (ch) {
    case AV_CHAN_NONE:
      return std::nullopt;
    case AV_CHAN_FRONT_LEFT:
      return EBUR128_LEFT;
    case AV_CHAN_FRONT_RIGHT:
      return EBUR128_RIGHT;
    case AV_CHAN_FRONT_CENTER:
      return EBUR128_CENTER;
    case AV_CHAN_LOW_FREQUENCY:
    case AV_CHAN_LOW_FREQUENCY_2:
      return EBUR128_UNUSED;
    case AV_CHAN_BACK_LEFT:
    case AV_CHAN_SIDE_LEFT:
    case AV_CHAN_SURROUND_DIRECT_LEFT:
    case AV_CHAN_TOP_BACK_LEFT:
      return EBUR128_LEFT_SURROUND;
    case AV_CHAN_BACK_RIGHT:
    case AV_CHAN_SIDE_RIGHT:
    case AV_CHAN_SURROUND_DIRECT_RIGHT:
    case AV_CHAN_TOP_BACK_RIGHT:
    case AV_CHAN_BACK_CENTER:
    case AV_CHAN_TOP_BACK_CENTER:
      return EBUR128_RIGHT_SURROUND;  // weight 1.41, as the left one
    default:
      return EBUR128_CENTER;  // other full-range channels: weight 1.0
  }
}

}  // namespace

struct LoudnessMeter::Ebur128 {
  explicit Ebur128(ebur128_state* s) : state(s) {}
  ~Ebur128() { ebur128_destroy(&state); }
  Ebur128(const Ebur128&) = delete;
  Ebur128& operator=(const Ebur128&) = delete;

  ebur128_state* state;
};

LoudnessMeter::LoudnessMeter() = default;
LoudnessMeter::~LoudnessMeter() = default;

Status LoudnessMeter::Configure(const AVFrame& frame) {
  const auto channels = static_cast<unsigned>(internal::FrameChannels(frame));
  const auto rate = static_cast<unsigned long>(frame.sample_rate);
  if (meter_ != nullptr && channels == channels_ && rate == rate_) return Status();
  if (meter_ == nullptr) {
    ebur128_state* state = ebur128_init(channels, rate, kModes);
    if (state == nullptr) return ResourceExhausted("libebur128 could not allocate its state");
    meter_ = std::make_unique<Ebur128>(state);
  } else {
    const int err = ebur128_change_parameters(meter_->state, channels, rate);
    if (err == EBUR128_ERROR_NOMEM) {
      return ResourceExhausted("libebur128 could not allocate its state");
    }
    if (err != EBUR128_SUCCESS && err != EBUR128_ERROR_NO_CHANGE) {
      return Internal("libebur128 rejected " + std::to_string(channels) + " channels at " +
                      std::to_string(rate) + " Hz");
    }
    // Continue the series on the new rate's sample grid.
    stream_start_ += static_cast<double>(position_) / static_cast<double>(rate_);
    position_ = 0;
    readings_ = 0;
  }
  for (unsigned i = 0; i < channels; ++i) {
    const std::optional<channel> type =
        ChannelType(av_channel_layout_channel_from_index(&frame.ch_layout, i));
    if (type.has_value()) ebur128_set_channel(meter_->state, i, *type);
  }
  channels_ = channels;
  rate_ = rate;
  next_reading_ = std::llround(static_cast<double>(rate_) / kReadingsPerSecond);
  return Status();
}

Status LoudnessMeter::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  std::string why;
  if (!internal::ToInterleavedFloat(frame, &samples_, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    return Status();
  }
  if (meter_ == nullptr) stream_start_ = time_seconds;
  VG_RETURN_IF_ERROR(Configure(frame));
  return Feed(samples_.data(), frame.nb_samples);
}

Status LoudnessMeter::Feed(const float* samples, int64_t frames) {
  while (frames > 0) {
    const int64_t n = std::min(frames, next_reading_ - position_);
    if (ebur128_add_frames_float(meter_->state, samples, static_cast<size_t>(n)) !=
        EBUR128_SUCCESS) {
      return ResourceExhausted("libebur128 could not take audio samples");
    }
    samples += n * channels_;
    frames -= n;
    position_ += n;
    result_.sample_frames += n;
    if (position_ == next_reading_) {
      double momentary = 0;
      if (ebur128_loudness_momentary(meter_->state, &momentary) == EBUR128_SUCCESS) {
        // The reading closes a 100 ms step; it belongs to the second that
        // step lies in.
        const double step_middle = stream_start_ +
                                   static_cast<double>(position_) / static_cast<double>(rate_) -
                                   0.5 / kReadingsPerSecond;
        momentary_.Add(step_middle, momentary);
      }
      ++readings_;
      next_reading_ = std::llround(static_cast<double>(readings_ + 1) * static_cast<double>(rate_) /
                                   kReadingsPerSecond);
    }
  }
  return Status();
}

Status LoudnessMeter::Finish() {
  if (meter_ == nullptr) return Status();
  double value = 0;
  if (ebur128_loudness_global(meter_->state, &value) == EBUR128_SUCCESS) {
    result_.integrated_lufs = Finite(value);
  }
  if (ebur128_loudness_range(meter_->state, &value) == EBUR128_SUCCESS) result_.lra = Finite(value);
  double peak = 0;
  for (unsigned c = 0; c < channels_; ++c) {
    if (ebur128_true_peak(meter_->state, c, &value) == EBUR128_SUCCESS)
      peak = std::max(peak, value);
  }
  if (peak > 0) result_.true_peak_dbtp = 20 * std::log10(peak);
  return Status();
}

nlohmann::json LoudnessMeter::ToJson() const {
  auto value = [](const std::optional<double>& v) {
    return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"integrated_lufs", value(result_.integrated_lufs)},
          {"lra", value(result_.lra)},
          {"true_peak_dbtp", value(result_.true_peak_dbtp)}};
}

nlohmann::json LoudnessMeter::SeriesJson() const {
  return internal::SeriesToJson(PerSecondMomentary());
}

}  // namespace vidgate::qc
