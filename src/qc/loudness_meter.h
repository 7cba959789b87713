// loudness_meter.h: EBU R128 / ITU-R BS.1770 loudness of an audio stream,
// measured with libebur128.
//
// Samples are converted to interleaved float (every packed and planar
// format) and fed to libebur128 with modes I, LRA, TRUE_PEAK, M and
// HISTOGRAM. Channels
// are weighted from the frame's channel layout as BS.1770 says: front left,
// right and centre 1.0, surround (side or back) left/right 1.41, LFE not
// counted; an unknown layout uses libebur128's default order (L, R, C, LFE,
// Ls, Rs). A change of channel count or sample rate mid-stream re-creates the
// meter's filters (libebur128 keeps the gating blocks measured so far).
//
// Results, after Finish():
//   integrated_lufs  gated integrated loudness (LUFS);
//   lra              loudness range (LU) as libebur128 computes it, from a
//                    3 s short-term block every second (ffmpeg's ebur128
//                    filter takes one every 100 ms, so on short clips with
//                    sharp level changes the two can differ by several LU);
//   true_peak_dbtp   the largest true peak over all channels (dBTP), from
//                    libebur128's oversampling estimate;
//   per second       the largest momentary loudness (400 ms window, read
//                    every 100 ms of audio) within each second.
// A value that is minus infinity (silence, or too short a stream) is empty.
//
// libebur128 runs in histogram mode (as ffmpeg's filter does), so its memory
// does not grow with the duration (only the per-second series does, a few
// bytes a second); integrated loudness and LRA come out on its 0.1 LU bins
// (within 0.05 LU of the exact gated values). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/decode_pass.h"
#include "qc/internal/per_second.h"

namespace vidgate::qc {

struct LoudnessResult {
  std::optional<double> integrated_lufs;
  std::optional<double> lra;
  std::optional<double> true_peak_dbtp;
  int64_t sample_frames = 0;   // sample frames measured
  int64_t skipped_frames = 0;  // audio frames that could not be read
  std::string skipped_reason;
};

class LoudnessMeter : public media::FrameSink {
 public:
  LoudnessMeter();
  ~LoudnessMeter() override;
  LoudnessMeter(const LoudnessMeter&) = delete;
  LoudnessMeter& operator=(const LoudnessMeter&) = delete;

  // Returns kResourceExhausted when libebur128 cannot allocate, kInternal
  // when it rejects the stream's parameters.
  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  const LoudnessResult& result() const { return result_; }
  // The largest momentary loudness (LUFS) of each second.
  std::vector<std::optional<double>> PerSecondMomentary() const { return momentary_.Maxima(); }

  // {"integrated_lufs","lra","true_peak_dbtp"} (null where empty), as the QC
  // report's audio.loudness.
  nlohmann::json ToJson() const;
  // PerSecondMomentary() as a JSON array of numbers and nulls.
  nlohmann::json SeriesJson() const;

 private:
  // Owns libebur128's state (defined in loudness_meter.cc, which alone
  // includes ebur128.h).
  struct Ebur128;

  Status Configure(const AVFrame& frame);
  Status Feed(const float* samples, int64_t frames);

  std::unique_ptr<Ebur128> meter_;
  unsigned channels_ = 0;
  unsigned long rate_ = 0;
  LoudnessResult result_;
  std::vector<float> samples_;
  internal::PerSecond momentary_;
  double stream_start_ = 0;   // time of the first audio frame
  int64_t position_ = 0;      // sample frames fed since stream_start_ (at rate_)
  int64_t next_reading_ = 0;  // position of the next momentary reading
  int64_t readings_ = 0;      // momentary readings so far
};

}  // namespace vidgate::qc
