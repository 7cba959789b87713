// rendition_encoder.h: a FrameSink that encodes the frames of the one decode
// pass into an MP4 rendition (H.264 + AAC), scaled to fit a height, never
// upscaled, with even dimensions and the source's aspect ratio.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "media/decode_pass.h"
#include "media/probe.h"

namespace vidgate::media {

struct RenditionSpec {
  std::string name = "main";
  int max_height = 1080;
  int crf = 23;
  std::string preset = "veryfast";
  int64_t audio_bitrate = 128000;
};

class RenditionEncoder final : public FrameSink {
 public:
  // Opens `path` for writing and sets up the encoders for the streams that
  // `probe` shows (its best video and audio streams). kInternal if an
  // encoder is missing; the file's errors as status.h says.
  static Result<std::unique_ptr<RenditionEncoder>> Create(const std::string& path,
                                                          const RenditionSpec& spec,
                                                          const ProbeResult& probe);
  ~RenditionEncoder() override;
  RenditionEncoder(const RenditionEncoder&) = delete;
  RenditionEncoder& operator=(const RenditionEncoder&) = delete;

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;
  // Drains the encoders and writes the trailer (the moov moves to the front).
  Status Finish() override;

  int width() const;
  int height() const;

 private:
  struct State;
  explicit RenditionEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vidgate::media
