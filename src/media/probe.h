// probe.h: technical metadata of a local media file, with ffprobe's meanings.
//
// Probe reads the container header and stream parameters (it does not decode
// the whole file), so a file with decode errors still gets its probe. Every
// value agrees with `ffprobe -show_format -show_streams` on the same file:
//   format.name      the demuxer name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm")
//   format.duration  seconds; null when unknown
//   format.bit_rate  bits/s; null when unknown (ffprobe prints N/A for <= 0)
//   format.size      bytes
//   stream.type      "video", "audio", "subtitle" or "data" (attachments and
//                    unknown types are "data")
//   stream.codec     ffprobe's codec_name ("h264", "aac", ...; "unknown" when
//                    libav has no descriptor for the codec id)
//   stream.frame_rate  avg_frame_rate, or r_frame_rate where avg is 0/0
//   stream.duration  seconds; null when the container gives none
// Video fields (width, height, frame_rate, pix_fmt) are set only for video
// streams, audio fields (sample_rate, channels) only for audio streams, and
// each is null when libav does not know it (ffprobe's 0, "unknown" or N/A).
//
// Thread-safety: Probe is reentrant; ProbeResult is a plain value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/colour.h"

namespace vidgate::media {

struct StreamInfo {
  int index = 0;
  std::string type;  // video|audio|subtitle|data
  std::string codec;
  std::optional<int> width, height;
  std::optional<double> frame_rate;
  std::optional<std::string> pix_fmt;
  std::optional<int> sample_rate, channels;
  std::optional<double> duration;
  // The stream's first timestamp in seconds (0 when unknown): a stream may
  // start after another (audio recorded 2 s late) or before it (an AAC
  // encoder's priming). Not in the JSON.
  double start_time = 0;
  // The width of a pixel against its height (non-square pixels: 32/27 for
  // 16:9 NTSC DV); 1 when unset. Not in the JSON.
  double sample_aspect_ratio = 1;
  // Degrees (0, 90, 180 or 270) the picture is turned clockwise for display,
  // from the container's display matrix (phones record portrait video as
  // landscape pictures and say so there). Not in the JSON.
  int rotation = 0;
  // Video streams only: the colour tags, bit depth and HDR description
  // (colour.h). A stream with an HDR transfer gets its first frame decoded
  // for the metadata its bitstream carries. The JSON's "color".
  std::optional<ColourInfo> colour;
  // The stream's language tag as the container gives it ("eng", "fr"; the
  // JSON's "language", null without one) and its title (not in the JSON).
  std::optional<std::string> language;
  std::string title;
  // A still picture attached to the file (cover art), not video. Not in the
  // JSON.
  bool attached_picture = false;
};

struct FormatInfo {
  std::string name;
  std::optional<double> duration;
  std::optional<int64_t> bit_rate;
  int64_t size = 0;
  // The durations are guesses from the bit rate (no index or header gave
  // them): not to be held against what decodes. Not in the JSON.
  bool duration_estimated = false;
  // Seconds of `duration` before the first timestamp: a recorder may start
  // an hour in, and MP4 and Matroska count their duration from zero, not
  // from there (MPEG-TS and PS give the span: 0 for them). Not in the JSON.
  double lead_in = 0;
};

struct ProbeResult {
  FormatInfo format;
  std::vector<StreamInfo> streams;

  // The `probe --json` contract shape:
  // {"format":{"name","duration","bit_rate","size"},
  //  "streams":[{"index","type","codec","width","height","frame_rate","pix_fmt",
  //              "sample_rate","channels","duration","color"}]}
  // Every key is always present; a value that does not apply or is unknown is
  // null. "color" (added to the contract's keys by the fidelity issue) is
  // ColourInfo::ToJson() for a video stream.
  nlohmann::json ToJson() const;

  // True when some stream has type "video" (resp. "audio"). A still picture
  // attached to an audio file (cover art) is a video stream here, as in
  // ffprobe.
  bool HasVideo() const;
  bool HasAudio() const;

  // The streams a decode pass takes: libav's best video (cover art is no
  // video) and the best audio that goes with it, or what the caller chose
  // since (DecodeOptions takes them); -1 for none.
  int video_stream = -1;
  int audio_stream = -1;
  const StreamInfo* VideoStream() const;
  const StreamInfo* AudioStream() const;

  // How long the video stream (else the file) plays on the decoded
  // timeline, from its first timestamp: the stream's own duration, else
  // the container's less its lead-in; 0 when unknown.
  double PlayingSeconds() const;
};

// Probes the local file `path`.
// Returns the probe, or:
//   kNotFound          the file does not exist;
//   kPermissionDenied  it cannot be read;
//   kInvalidArgument   it is a directory, empty ("... is empty"), or not a
//                      media file (the message names the file and libav's
//                      reason);
//   kResourceExhausted / kUnavailable  out of memory / an I/O failure.
Result<ProbeResult> Probe(const std::string& path);

}  // namespace vidgate::media
