// rendition_audio.h: a rendition's sound. Each source frame is put on the
// rendition's timeline (silence where the source has none, nothing before
// its start), downmixed and resampled for the encoder (stereo at most, with
// the standard coefficients, never clipping), and then, an encoder frame at
// a time, measured (the first pass of a normalised rendition), normalised,
// or encoded; the packets go to the caller.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "media/loudness_measure.h"
#include "media/loudness_normaliser.h"
#include "media/probe.h"
#include "media/rendition_encoder.h"

namespace vidgate::media {

class RenditionAudio {
 public:
  // Receives each encoded packet (in the codec's time base) and takes over
  // its references.
  using PacketSink = std::function<Status(AVPacket& packet)>;

  // Opens the encoder of `spec` for the source's `audio` stream. Source
  // times are shifted by `shift` seconds onto the rendition's timeline; no
  // silence is padded past `max_seconds` (a wild timestamp). `what` names
  // the output in errors. kInternal if the FFmpeg build lacks the encoder.
  static Result<std::unique_ptr<RenditionAudio>> Open(const RenditionSpec& spec,
                                                      const StreamInfo& audio, double shift,
                                                      double max_seconds, std::string what,
                                                      PacketSink sink);
  ~RenditionAudio();
  RenditionAudio(const RenditionAudio&) = delete;
  RenditionAudio& operator=(const RenditionAudio&) = delete;

  const AVCodecContext& codec() const;
  // Source frames taken since Open or the last Restart.
  int64_t frames_in() const;

  // A source frame at `time_seconds` from its stream's start.
  Status Take(const AVFrame& frame, double time_seconds);
  // Sends what the resampler and the normaliser still hold through; with
  // `drain_encoder`, the encoder's last packets too.
  Status Flush(bool drain_encoder);
  // Back to the top of the sound, for another pass over the source.
  void Restart();

  // Where the frames go (the measures are not owned; null: not used):
  //   measured instead of encoded (the measuring pass);
  void MeasureInsteadOfEncoding(LoudnessMeasure* measure);
  //   normalised on the way to the encoder (null: not normalised), and then
  //   measured instead of encoded (a trial run), or measured as encoded.
  Status NormaliseWith(std::unique_ptr<LoudnessNormaliser> normaliser);
  void MeasureNormalisedInsteadOfEncoding(LoudnessMeasure* measure);
  void MeasureWhatIsEncoded(LoudnessMeasure* measure);

 private:
  struct State;
  explicit RenditionAudio(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vidgate::media
