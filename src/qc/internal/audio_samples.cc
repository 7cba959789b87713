#include "qc/internal/audio_samples.h"

extern "C" {
#include <libavutil/samplefmt.h>
}

#include <cstdint>

namespace vidgate::qc::internal {
namespace {

template <typename T>
float ToFloat(T v);
template <>
float ToFloat(uint8_t v) {
  return static_cast<float>(static_cast<int>(v) - 128) * (1.0f / 128.0f);
}
template <>
float ToFloat(int16_t v) {
  return static_cast<float>(v) * (1.0f / 32768.0f);
}
template <>
float ToFloat(int32_t v) {
  return static_cast<float>(static_cast<double>(v) * (1.0 / 2147483648.0));
}
template <>
float ToFloat(int64_t v) {
  return static_cast<float>(static_cast<double>(v) * (1.0 / 9223372036854775808.0));
}
template <>
float ToFloat(float v) {
  return v;
}
template <>
float ToFloat(double v) {
  return static_cast<float>(v);
}

template <typename T>
void Convert(const AVFrame& frame, int channels, bool planar, float* out) {
  const int n = frame.nb_samples;
  if (planar) {
    for (int c = 0; c < channels; ++c) {
      const auto* in = reinterpret_cast<const T*>(frame.extended_data[c]);
      for (int i = 0; i < n; ++i) out[static_cast<size_t>(i) * channels + c] = ToFloat<T>(in[i]);
    }
  } else {
    const auto* in = reinterpret_cast<const T*>(frame.extended_data[0]);
    const size_t total = static_cast<size_t>(n) * static_cast<size_t>(channels);
    for (size_t i = 0; i < total; ++i) out[i] = ToFloat<T>(in[i]);
  }
}

}  // namespace

int FrameChannels(const AVFrame& frame) { return frame.ch_layout.nb_channels; }

bool ToInterleavedFloat(const AVFrame& frame, std::vector<float>* out, std::string* why) {
  const int channels = FrameChannels(frame);
  if (channels <= 0 || frame.sample_rate <= 0 || frame.nb_samples < 0 ||
      frame.extended_data == nullptr) {
    *why = "audio frame without channels or sample rate";
    return false;
  }
  out->resize(static_cast<size_t>(frame.nb_samples) * static_cast<size_t>(channels));
  if (frame.nb_samples == 0) return true;
  const auto format = static_cast<AVSampleFormat>(frame.format);
  const bool planar = av_sample_fmt_is_planar(format) != 0;
  switch (av_get_packed_sample_fmt(format)) {
    case AV_SAMPLE_FMT_U8:
      Convert<uint8_t>(frame, channels, planar, out->data());
      return true;
    case AV_SAMPLE_FMT_S16:
      Convert<int16_t>(frame, channels, planar, out->data());
      return true;
    case AV_SAMPLE_FMT_S32:
      Convert<int32_t>(frame, channels, planar, out->data());
      return true;
    case AV_SAMPLE_FMT_S64:
      Convert<int64_t>(frame, channels, planar, out->data());
      return true;
    case AV_SAMPLE_FMT_FLT:
      Convert<float>(frame, channels, planar, out->data());
      return true;
    case AV_SAMPLE_FMT_DBL:
      Convert<double>(frame, channels, planar, out->data());
      return true;
    default: {
      const char* name = av_get_sample_fmt_name(format);
      *why = std::string("sample format ") + (name != nullptr ? name : "unknown") +
             " is not supported";
      return false;
    }
  }
}

}  // namespace vidgate::qc::internal
