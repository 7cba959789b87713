// quality_meter.h: how much a rendition lost. Each picture handed to the
// encoder (scaled, converted: what the encoder was asked to keep) is
// compared with what the encoder made of it, decoded again from its
// packets, on the luma plane: PSNR (from the mean squared error) and SSIM
// (8x8 windows every 4 pixels, as x264 and ffmpeg's ssim filter compute
// it). Per picture, per second of the rendition, and for the whole.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/status.h"
#include "media/av.h"

namespace vidgate::media {

struct QualityFigures {
  int64_t frames = 0;          // pictures compared
  std::optional<double> psnr;  // dB, luma, from the mean squared error; 100 when lossless
  std::optional<double> ssim;  // luma, the mean of the pictures'
  // One value a second of the rendition (null for a second without pictures).
  std::vector<std::optional<double>> psnr_per_second, ssim_per_second;
  // {"frames","psnr_y","ssim_y"}.
  nlohmann::json SummaryJson() const;
};

class QualityMeter {
 public:
  // A decoder for what `encoder` (opened) writes; `what` names the output.
  static Result<std::unique_ptr<QualityMeter>> Create(const AVCodecContext& encoder,
                                                      const std::string& what);
  ~QualityMeter();
  QualityMeter(const QualityMeter&) = delete;
  QualityMeter& operator=(const QualityMeter&) = delete;

  // A picture as it went into the encoder (its pts, in the encoder's time
  // base, finds it again); its luma is copied.
  Status Sent(const AVFrame& picture);
  // A packet the encoder made (not taken over); null at the end.
  Status Made(const AVPacket* packet);
  QualityFigures Figures() const;

 private:
  struct State;
  explicit QualityMeter(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

// The luma PSNR and SSIM of `b` against `a` (same size and format, 8 to 16
// bits): the figures one picture gets. Exposed for tests.
struct PictureQuality {
  bool measured = false;  // false: too small (under 8x8) or of another depth
  double mse = 0;
  double ssim = 1;
};
PictureQuality CompareLuma(const AVFrame& a, const AVFrame& b);

}  // namespace vidgate::media
