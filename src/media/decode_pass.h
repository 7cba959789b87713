// decode_pass.h: the single decode pass over a media file, fanned out to sinks.
//
// DecodePass demuxes a local file once and decodes its best video stream and
// its best audio stream (either may be absent, not both) to the end, handing
// every decoded frame to each sink in order (QC analysers first, then
// rendition encoders, as the caller orders them). It follows libav's
// send/receive protocol, drains the decoders at end of input, and then calls
// each sink's Finish() once.
//
// Decode errors do not stop the pass: a packet the decoder refuses, a failed
// receive, a frame flagged corrupt (AV_FRAME_FLAG_CORRUPT or
// decode_error_flags) and damaged container data at the end of a truncated
// file are each counted in DecodeStats::decode_errors (video and audio
// together); a corrupt frame is still delivered and counted as a frame.
//
// The "best" streams are libav's choice (av_find_best_stream); a video stream
// that is only a still picture attached to an audio file (cover art) is not
// decoded, so such a file is handled as audio-only.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace vidgate::media {

// The largest picture a decoder may allocate (AVCodecContext.max_pixels):
// 8192x8192, twice 8K. A stream claiming more (a damaged or hostile header)
// gets decode errors instead of frame buffers of gigabytes;
// qc::CheckProbeLimits rejects such a size before the pass, and this also
// covers a size change mid-stream.
inline constexpr int64_t kMaxDecodedSquare = 8192;  // the side of the largest square picture
inline constexpr int64_t kMaxDecodedPixels = kMaxDecodedSquare * kMaxDecodedSquare;

// A cue of a text subtitle stream, as the decode pass reads it.
struct SubtitleCue {
  int stream_index = -1;
  double start = 0, end = 0;  // seconds from the start of the pictures (else the sound)
  std::string text;           // as the stream has it: ASS markup, "\N" for a new line
};

// Receives the frames of a DecodePass. All calls come from the thread that
// runs DecodePass, in decode order per stream (video and audio interleave as
// the file does).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // `frame` is owned by the pass and valid only during the call (it is unref'd
  // afterwards): a sink copies or refs (av_frame_ref) what it keeps.
  // `time_seconds` is the frame's best_effort_timestamp in seconds from the
  // start of its stream (estimated from the previous frame when libav has no
  // timestamp). A non-ok Status aborts the pass and is returned by DecodePass.
  virtual Status OnVideoFrame(const AVFrame& frame, double time_seconds) {
    (void)frame;
    (void)time_seconds;
    return Status();
  }
  virtual Status OnAudioFrame(const AVFrame& frame, double time_seconds) {
    (void)frame;
    (void)time_seconds;
    return Status();
  }
  // A frame of a further sound track the pass was asked to decode
  // (DecodeOptions::extra_audio_streams); `time_seconds` as for
  // OnAudioFrame, from that stream's start. Not analysed by QC.
  virtual Status OnExtraAudioFrame(int stream_index, const AVFrame& frame, double time_seconds) {
    (void)stream_index;
    (void)frame;
    (void)time_seconds;
    return Status();
  }
  // A cue of a text subtitle stream (every one the file has, up to
  // kMaxSubtitleStreams), in file order.
  virtual Status OnSubtitle(const SubtitleCue& cue) {
    (void)cue;
    return Status();
  }
  // What the sink takes: the pass (and a ThreadedSink lane) hands it
  // nothing else, so a lane that only wants one further sound track is not
  // woken for every picture. Sinks that override OnSubtitle or
  // OnExtraAudioFrame say so here.
  virtual bool TakesVideo() const { return true; }
  virtual bool TakesAudio() const { return true; }
  virtual bool TakesExtraAudio(int stream_index) const {
    (void)stream_index;
    return false;
  }
  virtual bool TakesSubtitles() const { return false; }
  // Called on every sink once the last frame of a successful pass is
  // delivered, before the first Finish(): a sink that finishes on a thread
  // of its own (ThreadedSink) starts then, so that the sinks' finishing
  // (encoders' flushes, loudness normalisation) overlaps.
  virtual void BeginFinish() {}
  // Called once after the last frame of a successful pass (not after an
  // error). A non-ok Status is returned by DecodePass; the remaining sinks'
  // Finish() are not called, and every sink is told Abandon().
  virtual Status Finish() { return Status(); }
  // A sink's Finish() failed: one finishing meanwhile (on its own thread,
  // since BeginFinish) cuts its work short, its result no longer wanted.
  // Called from the pass's thread, maybe while Finish() runs on another.
  virtual void Abandon() {}
};

struct DecodeStats {
  // The streams decoded (-1: none of that kind).
  int video_stream = -1;
  int audio_stream = -1;
  int64_t video_frames = 0;
  int64_t audio_frames = 0;
  int64_t decode_errors = 0;
  // Seconds from the start of the stream where the first decode error was seen.
  std::optional<double> first_error_time;
  // Where the last decoded frame of each kind ends, in seconds from the start
  // of its stream (0 when there was none): less than the container says for
  // a file cut short.
  double video_end = 0;
  double audio_end = 0;
  // Bytes of the decoded streams' packets per second of their timestamps
  // (index = second; seconds past 48 h are not counted).
  std::vector<int64_t> bytes_per_second;
  // Holes in a stream's timestamps: no frame from `start` (where the last
  // one ended) to `end` (where the next began), in seconds from the
  // stream's start; at least kMinGapSeconds (and 2.5 frames of video), at
  // most kMaxGaps listed.
  struct Gap {
    std::string kind;  // "video" or "audio"
    double start = 0, end = 0;
  };
  std::vector<Gap> gaps;
};
inline constexpr size_t kMaxExtraAudioStreams = 8;
inline constexpr double kMinGapSeconds = 0.1;
inline constexpr size_t kMaxGaps = 100;

struct DecodeOptions {
  // Polled between packets and frames and from libav's AVIOInterruptCB during
  // reads; returns true to stop the pass (shutdown). May be empty. It must not
  // throw and must be cheap, and it may be called from several threads at
  // once (the renditions' loudness passes finish side by side).
  std::function<bool()> should_stop;
  // Wall-clock deadline in seconds since the Unix epoch; 0 means none.
  double deadline = 0;
  // Decoder threads; 0 lets libav choose.
  int threads = 0;
  // The streams to decode (ProbeResult's video_stream, audio_stream); -1:
  // libav's best, as the probe chose them. An index that is not a stream of
  // that kind is an InvalidArgument.
  int video_stream = -1;
  int audio_stream = -1;
  // Further audio streams to decode (at most kMaxExtraAudioStreams), their
  // frames to OnExtraAudioFrame; not counted in DecodeStats. One that is not
  // an audio stream, or whose decoder will not open, is left out.
  std::vector<int> extra_audio_streams;
  // false: only the audio is decoded (the stream a full pass would take),
  // for a second look at the sound; a file without audio is decoded whole.
  bool video = true;
};

// Runs the decode pass over the local file `path`. `sinks` are not owned; none
// may be null and each must outlive the call.
// Returns the stats, or:
//   kNotFound / kPermissionDenied  the file is missing / unreadable;
//   kInvalidArgument  the file cannot be opened or is not media, has neither a
//                     video nor an audio stream, has no decoder for a chosen
//                     stream or a decoder that refuses its headers, or has a
//                     video stream that yields no frame ("no decodable video
//                     frame in 'PATH'"); decoders are capped at 8192x8192
//                     pixels, so a bigger picture gives decode errors;
//   kUnavailable      an I/O error while reading (a truncated file is not an
//                     I/O error: it ends early, perhaps with decode errors);
//   kResourceExhausted  out of memory;
//   kDeadlineExceeded   options.deadline passed;
//   kCancelled          options.should_stop returned true;
//   kInternal           a null sink;
//   or the first non-ok Status a sink returned.
// Thread-safety: reentrant; concurrent passes need distinct sinks.
Result<DecodeStats> DecodePass(const std::string& path, const std::vector<FrameSink*>& sinks,
                               const DecodeOptions& options);

}  // namespace vidgate::media
