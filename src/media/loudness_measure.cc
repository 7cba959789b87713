#include "media/loudness_measure.h"

extern "C" {
#include <ebur128.h>
#include <libavutil/samplefmt.h>
}

#include <cmath>
#include <string>
#include <vector>

namespace vidgate::media {
namespace {

std::optional<double> Finite(double v) {
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

nlohmann::json OrNull(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json LoudnessFigures::ToJson() const {
  return {{"integrated_lufs", OrNull(integrated_lufs)},
          {"lra", OrNull(lra)},
          {"true_peak_dbtp", OrNull(true_peak_dbtp)}};
}

struct LoudnessMeasure::State {
  ebur128_state* meter = nullptr;
  int channels = 0;
  std::vector<float> interleaved;
  ~State() {
    if (meter != nullptr) ebur128_destroy(&meter);
  }
};

LoudnessMeasure::LoudnessMeasure(std::unique_ptr<State> state) : s_(std::move(state)) {}
LoudnessMeasure::~LoudnessMeasure() = default;

Result<std::unique_ptr<LoudnessMeasure>> LoudnessMeasure::Create(int channels, int sample_rate) {
  if (channels < 1 || channels > 64 || sample_rate < 8000 || sample_rate > 384000) {
    return InvalidArgument("cannot measure the loudness of " + std::to_string(channels) +
                           " channels at " + std::to_string(sample_rate) + " Hz");
  }
  auto state = std::make_unique<State>();
  state->channels = channels;
  state->meter = ebur128_init(
      static_cast<unsigned>(channels), static_cast<unsigned long>(sample_rate),
      EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_HISTOGRAM);
  if (state->meter == nullptr) return ResourceExhausted("libebur128 could not allocate its state");
  return std::unique_ptr<LoudnessMeasure>(new LoudnessMeasure(std::move(state)));
}

Status LoudnessMeasure::Add(const AVFrame& frame) {
  const int n = frame.nb_samples;
  if (n <= 0) return Status();
  const float* samples = nullptr;
  if (frame.format == AV_SAMPLE_FMT_FLT) {
    samples = reinterpret_cast<const float*>(frame.extended_data[0]);
  } else if (frame.format == AV_SAMPLE_FMT_FLTP) {
    const int c = s_->channels;
    s_->interleaved.resize(static_cast<size_t>(n) * static_cast<size_t>(c));
    for (int ch = 0; ch < c; ++ch) {
      const auto* plane = reinterpret_cast<const float*>(frame.extended_data[ch]);
      for (int i = 0; i < n; ++i) s_->interleaved[static_cast<size_t>(i * c + ch)] = plane[i];
    }
    samples = s_->interleaved.data();
  } else {
    return Internal("the loudness of a rendition is measured on float samples");
  }
  if (ebur128_add_frames_float(s_->meter, samples, static_cast<size_t>(n)) != EBUR128_SUCCESS) {
    return ResourceExhausted("libebur128 could not allocate");
  }
  return Status();
}

LoudnessFigures LoudnessMeasure::Figures() const {
  LoudnessFigures f;
  double v = 0;
  if (ebur128_loudness_global(s_->meter, &v) == EBUR128_SUCCESS) f.integrated_lufs = Finite(v);
  if (ebur128_loudness_range(s_->meter, &v) == EBUR128_SUCCESS) f.lra = Finite(v);
  if (ebur128_relative_threshold(s_->meter, &v) == EBUR128_SUCCESS) f.threshold_lufs = Finite(v);
  double peak = 0;
  for (int c = 0; c < s_->channels; ++c) {
    if (ebur128_true_peak(s_->meter, static_cast<unsigned>(c), &v) == EBUR128_SUCCESS) {
      peak = std::max(peak, v);
    }
  }
  if (peak > 0) f.true_peak_dbtp = 20 * std::log10(peak);
  return f;
}

}  // namespace vidgate::media
