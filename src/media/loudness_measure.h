// loudness_measure.h: EBU R128 / ITU-R BS.1770 figures of a rendition's own
// sound (float samples, planar or packed, in one layout and rate), with
// libebur128: integrated loudness, loudness range, true peak, and the
// relative gate's threshold (what a linear normalisation wants measured).
// qc::LoudnessMeter measures the source for QC; this measures what a
// rendition holds, before and after normalising.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/status.h"

namespace vidgate::media {

struct LoudnessFigures {
  // Empty when minus infinity (silence, or under the -70 LUFS gate).
  std::optional<double> integrated_lufs, lra, true_peak_dbtp, threshold_lufs;
  // {"integrated_lufs","lra","true_peak_dbtp"}, null where empty.
  nlohmann::json ToJson() const;
};

class LoudnessMeasure {
 public:
  // kResourceExhausted when libebur128 cannot allocate; kInvalidArgument for
  // a layout or rate it refuses.
  static Result<std::unique_ptr<LoudnessMeasure>> Create(int channels, int sample_rate);
  ~LoudnessMeasure();
  LoudnessMeasure(const LoudnessMeasure&) = delete;
  LoudnessMeasure& operator=(const LoudnessMeasure&) = delete;

  // `frame` must be float (AV_SAMPLE_FMT_FLT or FLTP) of the channels and
  // rate given to Create.
  Status Add(const AVFrame& frame);
  LoudnessFigures Figures() const;

 private:
  struct State;
  explicit LoudnessMeasure(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vidgate::media
