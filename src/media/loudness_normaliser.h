// loudness_normaliser.h: brings a rendition's sound to a loudness target
// (EBU R128 / ITU-R BS.1770) from figures measured on that same sound
// beforehand (LoudnessMeasure): one gain for the whole ("linear"), and where
// that gain would lift true peaks over the limit, a look-ahead limiter on
// the peaks ("limited"), with libavfilter's volume and alimiter. The sound
// comes back at its own rate, format and layout.
#pragma once

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include <memory>
#include <string>

#include "common/status.h"
#include "media/loudness_measure.h"

struct AVFilterGraph;
struct AVFilterContext;

namespace vidgate::media {

struct LoudnessTarget {
  double integrated_lufs = -16;  // -70 .. -5
  double true_peak_dbtp = -1;    // -9 .. 0
};

class LoudnessNormaliser {
 public:
  // `measured` must have an integrated loudness (a sound under the gate has
  // nothing to normalise). `correction_db` is added to the gain (what a
  // trial run found the limiter took). `what` names the output in errors.
  static Result<std::unique_ptr<LoudnessNormaliser>> Create(AVSampleFormat format, int rate,
                                                            const AVChannelLayout& layout,
                                                            const LoudnessFigures& measured,
                                                            const LoudnessTarget& target,
                                                            double correction_db,
                                                            const std::string& what);
  ~LoudnessNormaliser();
  LoudnessNormaliser(const LoudnessNormaliser&) = delete;
  LoudnessNormaliser& operator=(const LoudnessNormaliser&) = delete;

  // Gives samples (null at the end); takes over the frame's references.
  Status Push(AVFrame* frame);
  // The next normalised samples into `out`; false when none are ready.
  Result<bool> Pull(AVFrame* out);
  // Whether one gain does it (else the peaks are limited too).
  bool linear() const { return linear_; }

 private:
  LoudnessNormaliser() = default;
  struct GraphFree {
    void operator()(AVFilterGraph* g) const;
  };
  std::unique_ptr<AVFilterGraph, GraphFree> graph_;
  AVFilterContext* source_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  bool linear_ = false;
  std::string what_;
};

}  // namespace vidgate::media
