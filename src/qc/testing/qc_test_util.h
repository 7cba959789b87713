// qc_test_util.h: test-only helpers for qc/ tests.
//
// Fixtures are made at test time with the ffmpeg CLI (lavfi sources) in the
// per-process scratch directory of media/media_test_util.h. The reference
// values come from the ffmpeg CLI's own filters run on the same file; the
// parsers below read their log lines. Synthetic frames let unit tests feed
// exact sample values.
#pragma once

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "media/av.h"
#include "media/decode_pass.h"
#include "qc/segment.h"

namespace vidgate::qc::testing {

// Runs `ffmpeg -y ARGS SCRATCH/name` and returns the output's path; records a
// test failure (and returns it anyway) when ffmpeg fails.
std::string MakeFixture(const std::string& name, const std::string& args);

// The main fixture, made once per process: 12 s, 320x240, 24 fps H.264 with
// black from 3.0 to 5.5 s and a frozen picture from 7.0 to 10.0 s (frames
// 168..239 repeat frame 168), plus 48 kHz stereo AAC: sines of 440 and 660 Hz
// at amplitude 0.1 (-20 dBFS peak), silent from 6.0 to 9.0 s.
std::string MainFixture();
inline constexpr double kMainFrameRate = 24;

// Runs media::DecodePass over `path` feeding `sinks`; records a failure when
// the pass fails.
media::DecodeStats Decode(const std::string& path, const std::vector<media::FrameSink*>& sinks);

// The info-level log of `ffmpeg -i path ARGS -f null -` (no progress lines).
std::string FfmpegLog(const std::string& path, const std::string& args);

// A number found in a log after one of several keys.
struct LogValue {
  size_t key = 0;  // index of the key that preceded it
  double value = 0;
};
// Every number that directly follows (after spaces) one of `keys` in `log`,
// in the order they appear. (No std::regex: g++ 12 warns inside it under
// ASan, and warnings are errors.)
std::vector<LogValue> FindValues(const std::string& log, const std::vector<std::string>& keys);

// blackdetect's "black_start:S black_end:E" lines.
std::vector<Segment> ParseBlackdetect(const std::string& log);
// freezedetect's freeze_start/freeze_end lines; a freeze still open at the end
// of the log ends at `stream_end`.
std::vector<Segment> ParseFreezedetect(const std::string& log, double stream_end);
// silencedetect's silence_start/silence_end lines.
std::vector<Segment> ParseSilencedetect(const std::string& log);

// The summary of ffmpeg's ebur128 filter (run with peak=true).
struct Ebur128Summary {
  double integrated = 0;  // LUFS
  double lra = 0;         // LU
  double true_peak = 0;   // dBFS
};
std::optional<Ebur128Summary> ParseEbur128Summary(const std::string& log);

// The largest |difference| of the starts and ends of two segment lists, or
// +infinity when their lengths differ.
double MaxSegmentError(const std::vector<Segment>& a, const std::vector<Segment>& b);
std::string ToString(const std::vector<Segment>& segments);

// Prints "[agreement] what: text" so the measured agreement shows in test logs.
void ReportAgreement(const std::string& what, const std::string& text);

// A video frame of `format` whose sample at (x, y) of plane p is value(p, x, y).
media::FramePtr MakeVideoFrame(AVPixelFormat format, int width, int height,
                               const std::function<int(int, int, int)>& value);

// An audio frame of `format` (packed or planar) from interleaved samples in
// full-scale units (1.0 = full scale; integers are rounded and saturated).
media::FramePtr MakeAudioFrame(AVSampleFormat format, int channels, int sample_rate,
                               const std::vector<double>& interleaved);

}  // namespace vidgate::qc::testing
