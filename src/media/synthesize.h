// synthesize.h: writes short sample clips in process (libx264 + AAC in MP4),
// for `vidgate demo` and for tests that need media of known content.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace vidgate::media {

struct SynthOptions {
  int width = 640;   // even
  int height = 360;  // even
  int fps = 25;
  double seconds = 4;
  bool audio = true;
  double tone_hz = 440;
  double tone_dbfs = -20;  // sine peak level
  // [start, end) ranges in seconds where the picture is black / the sound silent.
  std::vector<std::pair<double, double>> black;
  std::vector<std::pair<double, double>> silent;
};

// Writes an MP4 (H.264 yuv420p, AAC stereo 48 kHz, faststart) to `path`:
// a moving colour pattern and a sine tone, with the black and silent ranges
// asked for. kInvalidArgument for bad options; kUnavailable (or the errno's
// code) when the file cannot be written; kInternal if an encoder is missing.
Status SynthesizeClip(const std::string& path, const SynthOptions& options);

}  // namespace vidgate::media
