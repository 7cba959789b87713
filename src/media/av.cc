#include "media/av.h"

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <sys/stat.h>

#include <cerrno>
#include <string>

namespace vidgate::media {
namespace {

// AVERROR(e) is -e for errno values; libav's own codes are FFERRTAG tags,
// far outside the errno range.
constexpr int kMaxErrno = 4095;

std::string Quote(std::string_view path) { return "'" + std::string(path) + "'"; }

}  // namespace

Status DemuxError(int err, std::string_view step, std::string_view path, const AVIOContext* pb) {
  if (err == AVERROR_EXIT || (pb != nullptr && pb->error == AVERROR_EXIT)) {
    return AvError(AVERROR_EXIT, step, path);
  }
  if (pb != nullptr && pb->error < 0 && pb->error != AVERROR_EOF) {
    return AvError(pb->error, "read", path);
  }
  if (err < 0 && err >= -kMaxErrno && err != AVERROR(ENOMEM)) {
    return InvalidArgument("cannot " + std::string(step) + " " + Quote(path) +
                           ": its data is not valid media (libav: " + AvErrorText(err) + ")");
  }
  return AvError(err, step, path);
}

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, buf, sizeof(buf)) < 0 && buf[0] == '\0') {
    return "libav error " + std::to_string(err);
  }
  return buf;
}

Status AvError(int err, std::string_view step, std::string_view path, Code on_interrupt) {
  if (err >= 0) {
    return Internal("AvError called without an error (" + std::to_string(err) + ") for " +
                    std::string(step) + " " + Quote(path));
  }
  std::string msg = "cannot " + std::string(step) + " " + Quote(path) + ": " + AvErrorText(err);
  switch (err) {
    case AVERROR_INVALIDDATA:
    case AVERROR_EOF:
    case AVERROR_PATCHWELCOME:
    case AVERROR_EXPERIMENTAL:
    case AVERROR_BSF_NOT_FOUND:
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_FILTER_NOT_FOUND:
    case AVERROR_MUXER_NOT_FOUND:
    case AVERROR_OPTION_NOT_FOUND:
    case AVERROR_PROTOCOL_NOT_FOUND:
    case AVERROR_STREAM_NOT_FOUND:
    case AVERROR_HTTP_BAD_REQUEST:
    case AVERROR_HTTP_OTHER_4XX:
    case AVERROR(ENOSYS):
      return InvalidArgument(std::move(msg));
    case AVERROR_HTTP_NOT_FOUND:
      return NotFound(std::move(msg));
    case AVERROR_HTTP_UNAUTHORIZED:
    case AVERROR_HTTP_FORBIDDEN:
      return PermissionDenied(std::move(msg));
    case AVERROR_EXIT:
      if (on_interrupt == Code::kOk) on_interrupt = Code::kCancelled;
      return Status(on_interrupt, std::move(msg));
    case AVERROR_BUG:
    case AVERROR_BUG2:
    case AVERROR_BUFFER_TOO_SMALL:
      return Internal(std::move(msg));
    default:
      break;
  }
  if (err >= -kMaxErrno) {
    // Same code as ErrnoStatus, with our message (identical text for errno).
    return Status(ErrnoStatus(-err, step, path).code(), std::move(msg));
  }
  return Unavailable(std::move(msg));
}

Result<InputFormatPtr> OpenMediaInput(const std::string& path, const AVIOInterruptCB* interrupt) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "open media file", path);
  if (S_ISDIR(st.st_mode))
    return InvalidArgument(Quote(path) + " is a directory, not a media file");
  if (S_ISREG(st.st_mode) && st.st_size == 0) {
    return InvalidArgument("media file " + Quote(path) + " is empty");
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return ResourceExhausted("cannot allocate a demuxer for " + Quote(path));
  if (interrupt != nullptr) raw->interrupt_callback = *interrupt;

  DictionaryPtr options;
  {
    AVDictionary* dict = nullptr;
    if (av_dict_set(&dict, "protocol_whitelist", "file", 0) < 0) {
      av_dict_free(&dict);
      avformat_free_context(raw);
      return ResourceExhausted("cannot allocate demuxer options for " + Quote(path));
    }
    options.reset(dict);
  }

  // The "file:" prefix stops libav from reading a protocol out of the name.
  const std::string url = "file:" + path;
  // The file is opened here rather than by the demuxer, so that a failure
  // can be told apart: the file's (its AVIOContext's error) or the data's.
  AVIOContext* pb = nullptr;
  {
    AVDictionary* dict = nullptr;
    int ret = av_dict_copy(&dict, options.get(), 0);
    if (ret >= 0) ret = avio_open2(&pb, url.c_str(), AVIO_FLAG_READ, interrupt, &dict);
    av_dict_free(&dict);
    if (ret < 0) {
      avformat_free_context(raw);
      return AvError(ret, "open media file", path);
    }
  }
  raw->pb = pb;
  AVDictionary* dict = options.release();
  // On failure avformat_open_input frees `raw` and sets it to null; `pb`,
  // supplied by the caller, stays ours.
  int ret = avformat_open_input(&raw, url.c_str(), nullptr, &dict);
  options.reset(dict);
  if (ret < 0) {
    Status status = DemuxError(ret, "open media file", path, pb);
    avio_closep(&pb);
    return status;
  }
  // From here the context owns `pb`: avformat_close_input closes it once the
  // custom-I/O flag (set because the caller supplied pb) is cleared.
  raw->flags &= ~AVFMT_FLAG_CUSTOM_IO;
  InputFormatPtr input(raw);

  ret = avformat_find_stream_info(input.get(), nullptr);
  if (ret < 0) return DemuxError(ret, "read the stream parameters of", path, input->pb);
  return input;
}

void SwsFree::operator()(SwsContext* p) const { sws_freeContext(p); }
void SwrFree::operator()(SwrContext* p) const { swr_free(&p); }
void AudioFifoFree::operator()(AVAudioFifo* p) const { av_audio_fifo_free(p); }

Status KeepFrame(FramePtr& slot, const AVFrame& frame, std::string_view who) {
  if (slot == nullptr) {
    slot.reset(av_frame_alloc());
    if (slot == nullptr) return ResourceExhausted(std::string(who) + ": out of memory for a frame");
  } else {
    av_frame_unref(slot.get());
  }
  if (int err = av_frame_ref(slot.get(), &frame); err < 0) {
    slot.reset();
    return ResourceExhausted(std::string(who) + " could not keep a frame: " + AvErrorText(err));
  }
  return Status();
}

bool CanDecode(const std::string& name) {
  const AVCodecDescriptor* desc = avcodec_descriptor_get_by_name(name.c_str());
  return desc != nullptr && avcodec_find_decoder(desc->id) != nullptr;
}

}  // namespace vidgate::media
