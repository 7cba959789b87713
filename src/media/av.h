// av.h: the libav boundary of vidgate. RAII owners for libav handles, the
// mapping of libav `int` errors to Status, and the one way media/ opens a
// local media file.
//
// Every libav handle media/ creates is held by one of the *Ptr types below the
// moment it exists, so no error path can leak it. libav error codes never leave
// media/ as ints: they become a Status through AvError, with the step, the file
// and libav's own error text.
//
// Thread-safety: the types are as thread-safe as the libav objects they own
// (one owner thread at a time). The free functions are thread-safe.
#pragma once

extern "C" {
struct SwsContext;
struct SwrContext;
struct AVAudioFifo;
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
}

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace vidgate::media {

// An input AVFormatContext opened by avformat_open_input.
struct InputFormatFree {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatFree>;

// Scaler, resampler and audio FIFO (their free functions are called in av.cc,
// so users of these types need not include the libraries' headers).
struct SwsFree {
  void operator()(SwsContext* p) const;
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsFree>;
struct SwrFree {
  void operator()(SwrContext* p) const;
};
using SwrContextPtr = std::unique_ptr<SwrContext, SwrFree>;
struct AudioFifoFree {
  void operator()(AVAudioFifo* p) const;
};
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoFree>;

// An output (muxing) context: closes its file, then frees it.
struct OutputFormatFree {
  void operator()(AVFormatContext* p) const {
    if (p->pb && !(p->oformat->flags & AVFMT_NOFILE)) avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatFree>;

struct CodecContextFree {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;

struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;

struct FrameFree {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;

struct DictionaryFree {
  void operator()(AVDictionary* p) const { av_dict_free(&p); }
};
using DictionaryPtr = std::unique_ptr<AVDictionary, DictionaryFree>;

// Unrefs a packet or frame when the scope ends (the handle stays allocated
// for reuse). Hold one around each use of a reused packet/frame.
class PacketUnrefGuard {
 public:
  explicit PacketUnrefGuard(AVPacket* p) : p_(p) {}
  ~PacketUnrefGuard() { av_packet_unref(p_); }
  PacketUnrefGuard(const PacketUnrefGuard&) = delete;
  PacketUnrefGuard& operator=(const PacketUnrefGuard&) = delete;

 private:
  AVPacket* p_;
};

class FrameUnrefGuard {
 public:
  explicit FrameUnrefGuard(AVFrame* f) : f_(f) {}
  ~FrameUnrefGuard() { av_frame_unref(f_); }
  FrameUnrefGuard(const FrameUnrefGuard&) = delete;
  FrameUnrefGuard& operator=(const FrameUnrefGuard&) = delete;

 private:
  AVFrame* f_;
};

// libav's text for `err` (av_strerror), e.g. "Invalid data found when
// processing input".
std::string AvErrorText(int err);

// Whether this FFmpeg build can decode libav's codec `name` ("aac").
bool CanDecode(const std::string& name);

// Makes `slot` a new reference to `frame` (allocating it on first use,
// dropping what it held before): av_frame_ref shares the decoder's buffer
// when it is reference-counted and copies the frame otherwise. For sinks
// that keep a frame past OnVideoFrame. On failure `slot` is empty and the
// error names `who`.
Status KeepFrame(FramePtr& slot, const AVFrame& frame, std::string_view who);

// Maps a negative libav error from `step` (e.g. "open media file",
// "read packet from") on `path` to a Status whose message is
// "cannot STEP 'PATH': TEXT". The mapping:
//   AVERROR_INVALIDDATA, AVERROR_EOF (at open), AVERROR(ENOSYS),
//   AVERROR_PATCHWELCOME, *_NOT_FOUND (decoder, demuxer, stream, protocol...),
//   AVERROR_EXPERIMENTAL, HTTP 4xx other than below   -> kInvalidArgument
//   AVERROR_EXIT (an AVIOInterruptCB said stop)        -> `on_interrupt`
//                         (kCancelled by default; kDeadlineExceeded for a
//                          deadline: the caller knows which)
//   AVERROR(errno)        -> as ErrnoStatus (ENOENT kNotFound, EACCES
//                            kPermissionDenied, ENOMEM kResourceExhausted,
//                            EIO and the rest kUnavailable, ...)
//   HTTP 404 kNotFound, 401/403 kPermissionDenied, 5xx kUnavailable
//   AVERROR_BUG, AVERROR_BUG2, AVERROR_BUFFER_TOO_SMALL -> kInternal
//   AVERROR_EXTERNAL, AVERROR_UNKNOWN, anything else   -> kUnavailable
// `err` >= 0 is a caller bug and yields kInternal.
Status AvError(int err, std::string_view step, std::string_view path,
               Code on_interrupt = Code::kCancelled);
// A demuxer's failure `err` at `step` on the local file `path`, read through
// `pb` (may be null). The file's own read errors are recorded on `pb`;
// without one, an errno-style code is the demuxer's verdict on the bytes it
// read (libav demuxers return AVERROR(EINVAL), AVERROR(EIO), even a
// miscomputed AVERROR(EBUSY), for headers they refuse): kInvalidArgument,
// bad media, not a failing disk. Out of memory and interrupts keep their
// meaning; anything else as AvError.
Status DemuxError(int err, std::string_view step, std::string_view path, const AVIOContext* pb);

// Opens the local file `path` for demuxing and reads its stream parameters
// (avformat_open_input + avformat_find_stream_info). The path is always read
// through libav's "file" protocol only: a name like "http://x" or "a:b.mp4" is
// a file name, never a URL, and nested opens (playlists) cannot leave the
// local file system.
//
// `interrupt`, when not null, is copied into the context before opening; it
// must stay valid for the life of the returned context.
//
// Returns the opened context, or:
//   kNotFound / kPermissionDenied  the file is missing / unreadable (stat, open);
//   kInvalidArgument  a directory, an empty file ("... is empty"), or not a
//                     media file libav can demux (a demuxer's errno-style
//                     code without a read error on the file counts as that:
//                     demuxers answer EINVAL, EIO, even EBUSY for bad headers);
//   AvError codes otherwise (AVERROR_EXIT maps to kCancelled: a caller using an
//   interrupt callback should replace it with its own reason).
Result<InputFormatPtr> OpenMediaInput(const std::string& path,
                                      const AVIOInterruptCB* interrupt = nullptr);

}  // namespace vidgate::media
