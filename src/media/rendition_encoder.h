// rendition_encoder.h: a FrameSink that encodes the frames of the one decode
// pass into a rendition: an MP4 (faststart) and, when asked, the same
// packets as an HLS media playlist with fMP4 segments. Video is scaled to fit
// a height, never upscaled, with even dimensions and the source's aspect
// ratio, as 8-bit 4:2:0 SDR tagged BT.709 (primaries, transfer, matrix;
// limited range): pictures of another matrix or range are converted and HDR
// is tone-mapped (colour_convert.h). Audio of more than two channels is
// downmixed to stereo with the standard coefficients, never clipping.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "media/decode_pass.h"
#include "media/probe.h"
#include "media/quality_meter.h"

namespace vidgate::media {

struct RenditionSpec {
  std::string name = "main";
  std::string codec = "h264";       // h264 (libx264), hevc (libx265), av1 (libsvtav1), vp9 (libvpx)
  int max_height = 1080;            // never upscaled
  int crf = 23;                     // constant quality, used when bitrate is 0
  int64_t bitrate = 0;              // video bits per second; 0 = constant quality
  std::string preset;               // the encoder's own preset; "" = DefaultPreset(codec)
  std::string audio_codec = "aac";  // aac or opus (libopus)
  int64_t audio_bitrate = 128000;
  // EBU R128 normalisation of the rendition's sound to this integrated
  // loudness (LUFS, -70..-5; unset: the sound as it came) with true peaks
  // under `true_peak_limit` (dBTP, -9..0).
  std::optional<double> loudness_target;
  double true_peak_limit = -1;
  // "sdr": an HDR source is tone-mapped to SDR BT.709 (any codec); "keep":
  // HDR10 and HLG stay HDR, 10-bit with their colour tags and mastering
  // metadata (hevc and av1 only; SDR sources are SDR either way).
  std::string dynamic_range = "sdr";
  // The luma SSIM (0..1) under which the rendition fails QC's
  // rendition_quality check (a warning unless [qc.severity] says error);
  // unset: no minimum, the figures are reported all the same.
  std::optional<double> min_ssim;
  // Whether the pass measures the rendition's PSNR and SSIM (it decodes
  // the rendition again; see docs/benchmarks.md for the cost).
  bool quality_figures = true;
  // "one": the rendition carries the sound track the pass decodes; "all":
  // every further sound track also becomes a sound-only rendition of its
  // own beside it (an HLS alternate audio rendition).
  std::string audio_tracks = "one";
  // Set by the stage for such a sound-only rendition: no pictures, the
  // sound placed on the pictures' timeline as in the rendition it goes with.
  bool sound_only = false;
  // Set by the stage likewise: where that rendition's timeline starts, in
  // the source's seconds (its origin: the pictures', or its sound's when
  // that starts well before), so this sound plays in sync with it.
  std::optional<double> timeline_origin;
};

// Where a rendition of `probe`'s streams starts its timeline, in the
// source's seconds: the pictures' first timestamp, or the sound's when that
// comes more than 0.1 s before (not an AAC encoder's priming).
double TimelineOrigin(const ProbeResult& probe);

// Where the rendition's source is, for a rendition that reads its sound a
// second time (loudness normalisation), and how that pass may be stopped.
struct RenditionSource {
  std::string path;
  DecodeOptions options;
};

// The preset used when a spec names none: x264/x265 "veryfast", SVT-AV1 "10",
// libvpx cpu-used "6" (each about as fast as the others on one pass).
std::string DefaultPreset(const std::string& codec);

// kInvalidArgument naming the field when `spec` cannot be encoded: an unknown
// codec or audio codec, a height outside 16..4320 or odd, a CRF outside the
// codec's range, a bit rate below 0, a preset the encoder does not know, a
// name that is not a plain file name.
Status CheckRenditionSpec(const RenditionSpec& spec);

struct HlsOutput {
  std::string dir;  // where index.m3u8, init.mp4 and NNNNN.m4s go; empty = no HLS
  double segment_seconds = 6;
};

class RenditionEncoder final : public FrameSink {
 public:
  // Opens `path` for writing (and the HLS playlist when `hls.dir` is set) and
  // sets up the encoders for the streams `probe` shows (its best video and
  // audio streams). kInvalidArgument for a spec CheckRenditionSpec refuses;
  // kInternal if the FFmpeg build lacks an encoder; file errors as status.h
  // says.
  //
  // With a loudness target (and sound), the pass measures the rendition's
  // sound and writes the video aside (PATH.video.spool); Finish decodes the
  // sound of `source` again (not the video), normalises it and writes the
  // outputs. kInvalidArgument without `source.path` then.
  static Result<std::unique_ptr<RenditionEncoder>> Create(const std::string& path,
                                                          const RenditionSpec& spec,
                                                          const ProbeResult& probe,
                                                          const HlsOutput& hls = {},
                                                          const RenditionSource& source = {});
  ~RenditionEncoder() override;
  RenditionEncoder(const RenditionEncoder&) = delete;
  RenditionEncoder& operator=(const RenditionEncoder&) = delete;

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;
  // Stops a loudness pass running in Finish() (another lane failed).
  void Abandon() override;
  // Only the streams it encodes (a sound-only rendition takes no picture).
  bool TakesVideo() const override;
  bool TakesAudio() const override;
  // Drains the encoders and writes the trailers (the moov moves to the front).
  Status Finish() override;

  int width() const;   // 0 without video
  int height() const;  // 0 without video
  // The codec names as ffprobe says them ("h264", "aac"...); "" when absent
  // (an audio stream that gave no frame leaves no audio track).
  std::string video_codec() const;
  std::string audio_codec() const;
  // RFC 6381 codecs for an HLS master playlist ("avc1.64001f,mp4a.40.2"),
  // "" when one of the codecs has no string this encoder knows.
  std::string hls_codecs() const;
  double frame_rate() const;  // 0 when unknown or without video
  // For a rendition with a loudness target, after Finish: {"target",
  // "true_peak_limit", "mode": "linear"|"limited"|"untouched" (too quiet to
  // measure), "before": {...}, "after": {...}} (LoudnessFigures::ToJson, of
  // the rendition's own sound); null otherwise.
  nlohmann::json LoudnessJson() const;
  // After Finish: the luma PSNR and SSIM of the pictures against what went
  // into the encoder (quality_meter.h); nullopt without video.
  std::optional<QualityFigures> quality() const;
  // What the pictures hold: "sdr", or the HDR format kept ("hdr10", "hlg");
  // "" without video.
  std::string dynamic_range() const;

 private:
  struct State;
  explicit RenditionEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vidgate::media
