#include "media/decode_pass.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "media/av.h"
#include "media/text_subtitles.h"

namespace vidgate::media {
namespace {

// Consecutive failed receives tolerated while draining a decoder, so a decoder
// stuck on an error cannot loop forever.
constexpr int kMaxDrainErrors = 64;

double WallClockNow() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string Quote(const std::string& path) { return "'" + path + "'"; }

// Whether the pass must stop, and why. Shared with libav's AVIOInterruptCB.
class Interrupter {
 public:
  Interrupter(const DecodeOptions& options, const std::string& path)
      : options_(options), path_(path) {}

  // True once should_stop or the deadline fired; the first reason sticks.
  bool Poll() {
    if (reason_ != Code::kOk) return true;
    if (options_.should_stop && options_.should_stop()) {
      reason_ = Code::kCancelled;
    } else if (options_.deadline > 0 && WallClockNow() >= options_.deadline) {
      reason_ = Code::kDeadlineExceeded;
    }
    return reason_ != Code::kOk;
  }

  bool fired() const { return reason_ != Code::kOk; }

  Status ToStatus() const {
    if (reason_ == Code::kDeadlineExceeded) {
      return DeadlineExceeded("deadline passed while decoding " + Quote(path_));
    }
    return Cancelled("decoding " + Quote(path_) + " was stopped");
  }

  AVIOInterruptCB Callback() { return AVIOInterruptCB{&Interrupter::OnLibav, this}; }

 private:
  static int OnLibav(void* opaque) { return static_cast<Interrupter*>(opaque)->Poll() ? 1 : 0; }

  const DecodeOptions& options_;
  const std::string& path_;
  Code reason_ = Code::kOk;
};

// Per-stream decoding state.
struct StreamDecoder {
  AVMediaType type = AVMEDIA_TYPE_UNKNOWN;
  const AVStream* stream = nullptr;
  CodecContextPtr codec;
  int64_t start_pts = 0;     // stream start in time_base units
  double last_time = 0;      // time of the last delivered frame
  double next_time = 0;      // estimate for a frame without a timestamp
  double last_duration = 0;  // of the last delivered frame
  bool extra = false;        // a further sound track: delivered apart, not counted

  const char* Kind() const { return type == AVMEDIA_TYPE_VIDEO ? "video" : "audio"; }

  double ToSeconds(int64_t ts) const {
    return static_cast<double>(ts - start_pts) * av_q2d(stream->time_base);
  }
};

// One pass over one file: owns every libav object of the job.
class DecodeEngine {
 public:
  DecodeEngine(const std::string& path, const std::vector<FrameSink*>& sinks,
               const DecodeOptions& options)
      : path_(path),
        sinks_(sinks),
        interrupter_(options, path),
        threads_(options.threads),
        decode_video_(options.video),
        wanted_video_(options.video_stream),
        wanted_audio_(options.audio_stream),
        wanted_extra_audio_(options.extra_audio_streams) {}

  Result<DecodeStats> Run() {
    for (const FrameSink* sink : sinks_) {
      if (sink == nullptr) return Internal("DecodePass given a null sink for " + Quote(path_));
    }
    if (interrupter_.Poll()) return interrupter_.ToStatus();

    const AVIOInterruptCB callback = interrupter_.Callback();
    Result<InputFormatPtr> input = OpenMediaInput(path_, &callback);
    if (!input.ok()) return Interrupted(input.status());
    input_ = std::move(input).value();

    VG_RETURN_IF_ERROR(Interrupted(OpenDecoder(AVMEDIA_TYPE_VIDEO, -1, video_)));
    // Prefer the audio that belongs with the chosen video (same program).
    const int related = video_.codec ? video_.stream->index : -1;
    VG_RETURN_IF_ERROR(Interrupted(OpenDecoder(AVMEDIA_TYPE_AUDIO, related, audio_)));
    if (!decode_video_ && audio_.codec) video_.codec.reset();  // chosen, not decoded
    if (!video_.codec && !audio_.codec) {
      return InvalidArgument("no video or audio stream in " + Quote(path_));
    }
    if (video_.codec) stats_.video_stream = video_.stream->index;
    if (audio_.codec) stats_.audio_stream = audio_.stream->index;
    if (wanted_extra_audio_.size() > kMaxExtraAudioStreams) {
      return InvalidArgument("more than " + std::to_string(kMaxExtraAudioStreams) +
                             " further sound tracks asked of " + Quote(path_));
    }
    extra_audio_.resize(wanted_extra_audio_.size());
    for (size_t i = 0; i < wanted_extra_audio_.size(); ++i) {
      // A further track is an extra: one whose decoder will not open is
      // left out (its rendition then gets no sound), not the file's failure.
      Status opened = OpenDecoder(AVMEDIA_TYPE_AUDIO, -1, extra_audio_[i], wanted_extra_audio_[i]);
      if (interrupter_.fired()) return interrupter_.ToStatus();
      if (opened.code() == Code::kResourceExhausted) return opened;
      if (!opened.ok()) extra_audio_[i] = StreamDecoder{};
      extra_audio_[i].extra = true;
    }
    if (decode_video_) {
      // Subtitles are timed as the renditions are: from the pictures' start,
      // or the sound's when that comes well before (RenditionEncoder).
      auto start = [](const StreamDecoder& d) {
        return static_cast<double>(d.start_pts) * av_q2d(d.stream->time_base);
      };
      double origin = video_.codec ? start(video_) : start(audio_);
      if (video_.codec && audio_.codec && start(audio_) < origin - 0.1) origin = start(audio_);
      subtitles_.Open(*input_, origin);
    }

    packet_.reset(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    if (!packet_ || !frame_) return ResourceExhausted("cannot allocate decode buffers");

    VG_RETURN_IF_ERROR(Interrupted(ReadAll()));
    VG_RETURN_IF_ERROR(Interrupted(Drain(video_)));
    VG_RETURN_IF_ERROR(Interrupted(Drain(audio_)));
    for (StreamDecoder& dec : extra_audio_) VG_RETURN_IF_ERROR(Interrupted(Drain(dec)));

    if (video_.codec && stats_.video_frames == 0) {
      return InvalidArgument("no decodable video frame in " + Quote(path_));
    }
    for (FrameSink* sink : sinks_) sink->BeginFinish();
    for (FrameSink* sink : sinks_) {
      if (Status s = sink->Finish(); !s.ok()) {
        for (FrameSink* other : sinks_) other->Abandon();
        return s;
      }
    }
    return stats_;
  }

 private:
  // An interrupt wins over whatever error libav reported for it.
  Status Interrupted(Status status) const {
    if (!status.ok() && interrupter_.fired()) return interrupter_.ToStatus();
    return status;
  }

  // Opens the decoder of the stream `chosen` (-1: the one asked for in
  // the options, else libav's best of `type`).
  Status OpenDecoder(AVMediaType type, int related_stream, StreamDecoder& dec, int chosen = -1) {
    const int wanted = chosen >= 0                  ? chosen
                       : type == AVMEDIA_TYPE_VIDEO ? wanted_video_
                                                    : wanted_audio_;
    int index = wanted;
    if (wanted >= 0) {
      if (static_cast<unsigned>(wanted) >= input_->nb_streams ||
          input_->streams[wanted]->codecpar->codec_type != type) {
        return InvalidArgument("stream #" + std::to_string(wanted) + " of " + Quote(path_) +
                               " is not the " + (type == AVMEDIA_TYPE_VIDEO ? "video" : "audio") +
                               " stream it was chosen as");
      }
    } else {
      index = av_find_best_stream(input_.get(), type, -1, related_stream, nullptr, 0);
    }
    if (index == AVERROR_STREAM_NOT_FOUND) return Status();
    if (index < 0) return AvError(index, "select a stream of", path_);
    const AVStream* st = input_->streams[index];
    if (type == AVMEDIA_TYPE_VIDEO && (st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      return Status();  // cover art, not video
    }
    dec.type = type;
    dec.stream = st;
    dec.start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;

    const std::string what = std::string(dec.Kind()) + " stream #" + std::to_string(index);
    const AVCodecParameters& par = *st->codecpar;
    const AVCodec* decoder = avcodec_find_decoder(par.codec_id);
    if (decoder == nullptr) {
      std::string codec_name = avcodec_get_name(par.codec_id);
      if (par.codec_id == AV_CODEC_ID_NONE) {
        char tag[AV_FOURCC_MAX_STRING_SIZE] = {};
        codec_name = par.codec_tag != 0 ? std::string("an unknown codec, tag ") +
                                              av_fourcc_make_string(tag, par.codec_tag)
                                        : "an unknown codec";
      }
      return InvalidArgument("no decoder for the " + what + " (" + codec_name + ") of " +
                             Quote(path_));
    }
    CodecContextPtr codec(avcodec_alloc_context3(decoder));
    if (!codec) return ResourceExhausted("cannot allocate a decoder for " + Quote(path_));
    int ret = avcodec_parameters_to_context(codec.get(), &par);
    if (ret < 0) return DecoderError(ret, "configure the decoder of the " + what + " of");
    codec->pkt_timebase = st->time_base;
    codec->thread_count = threads_;
    codec->max_pixels = kMaxDecodedPixels;
    ret = avcodec_open2(codec.get(), decoder, nullptr);
    if (ret < 0) return DecoderError(ret, "open the decoder of the " + what + " of");
    dec.codec = std::move(codec);
    return Status();
  }

  // A decoder refusing the stream's parameters (its extradata, its headers)
  // refuses the file's data, whatever errno-style code it picked (Theora
  // answers AVERROR(EPERM)): kInvalidArgument, except out of memory and bugs.
  Status DecoderError(int ret, const std::string& step) const {
    Status status = AvError(ret, step, path_);
    if (status.code() == Code::kResourceExhausted || status.code() == Code::kInternal ||
        status.code() == Code::kInvalidArgument) {
      return status;
    }
    return InvalidArgument("cannot " + step + " " + Quote(path_) +
                           ": the stream's headers are invalid (libav: " + AvErrorText(ret) + ")");
  }

  StreamDecoder* DecoderFor(int stream_index) {
    if (video_.codec && video_.stream->index == stream_index) return &video_;
    if (audio_.codec && audio_.stream->index == stream_index) return &audio_;
    for (StreamDecoder& dec : extra_audio_) {
      if (dec.codec && dec.stream->index == stream_index) return &dec;
    }
    return nullptr;
  }

  Status ReadAll() {
    while (true) {
      if (interrupter_.Poll()) return interrupter_.ToStatus();
      int ret = av_read_frame(input_.get(), packet_.get());
      if (ret == AVERROR_EOF) {
        // libav reports a failed read as end of file too; the error is on pb.
        const AVIOContext* pb = input_->pb;
        if (pb != nullptr && pb->error < 0 && pb->error != AVERROR_EOF) {
          return AvError(pb->error, "read", path_);
        }
        return Status();
      }
      if (ret == AVERROR(EAGAIN)) {
        // Not ready yet (never for a plain file): wait a little, still polling.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (ret < 0) {
        // A failed read of the file itself, or an interrupt, is returned;
        // the demuxer refusing the data is not a failure of the disk.
        Status status = DemuxError(ret, "read", path_, input_->pb);
        if (status.code() != Code::kInvalidArgument) return status;
        // Damaged container data (a truncated or corrupt tail): what was
        // demuxed so far is the file, as ffmpeg treats it.
        RecordError(last_error_candidate_);
        return Status();
      }
      PacketUnrefGuard unref(packet_.get());
      if (subtitles_.Handles(packet_->stream_index)) {
        VG_RETURN_IF_ERROR(subtitles_.Decode(*packet_, sinks_));
        continue;
      }
      StreamDecoder* dec = DecoderFor(packet_->stream_index);
      if (dec == nullptr) continue;
      if (!dec->extra) CountBytes(PacketTime(*dec, *packet_), packet_->size);
      VG_RETURN_IF_ERROR(SendPacket(*dec, packet_.get()));
    }
  }

  // Sends `packet` (null: start draining) and receives what it yields.
  Status SendPacket(StreamDecoder& dec, const AVPacket* packet) {
    int ret = avcodec_send_packet(dec.codec.get(), packet);
    // The decoder is always emptied after each send, so EAGAIN is unexpected;
    // empty it once more and retry.
    if (ret == AVERROR(EAGAIN)) {
      VG_RETURN_IF_ERROR(ReceiveFrames(dec, /*draining=*/false));
      ret = avcodec_send_packet(dec.codec.get(), packet);
      if (ret == AVERROR(EAGAIN)) {
        return Internal(std::string("the ") + dec.Kind() + " decoder of " + Quote(path_) +
                        " accepts no input and gives no output");
      }
    }
    if (ret < 0 && ret != AVERROR_EOF) {
      if (ret == AVERROR(ENOMEM)) return AvError(ret, "decode", path_);
      if (!dec.extra) RecordError(packet != nullptr ? PacketTime(dec, *packet) : dec.last_time);
    }
    return ReceiveFrames(dec, /*draining=*/packet == nullptr);
  }

  Status ReceiveFrames(StreamDecoder& dec, bool draining) {
    int errors = 0;
    while (true) {
      int ret = avcodec_receive_frame(dec.codec.get(), frame_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return Status();
      if (ret < 0) {
        if (ret == AVERROR(ENOMEM)) return AvError(ret, "decode", path_);
        if (!dec.extra) RecordError(dec.next_time);
        // Mid-stream, move on to the next packet; while draining, keep pulling
        // the frames still buffered, within reason.
        if (!draining || ++errors >= kMaxDrainErrors) return Status();
        continue;
      }
      errors = 0;
      VG_RETURN_IF_ERROR(Deliver(dec));
      if (draining && interrupter_.Poll()) return interrupter_.ToStatus();
    }
  }

  Status Drain(StreamDecoder& dec) {
    if (!dec.codec) return Status();
    return SendPacket(dec, nullptr);
  }

  Status Deliver(StreamDecoder& dec) {
    FrameUnrefGuard unref(frame_.get());
    const AVFrame& frame = *frame_;
    double time = frame.best_effort_timestamp != AV_NOPTS_VALUE
                      ? dec.ToSeconds(frame.best_effort_timestamp)
                      : dec.next_time;
    const bool video = dec.type == AVMEDIA_TYPE_VIDEO;
    const double frame_duration = FrameDuration(dec, frame);
    if (dec.extra) {
      dec.last_time = time;
      dec.next_time = time + frame_duration;
      for (FrameSink* sink : sinks_) {
        if (!sink->TakesExtraAudio(dec.stream->index)) continue;
        VG_RETURN_IF_ERROR(sink->OnExtraAudioFrame(dec.stream->index, frame, time));
      }
      return Status();
    }
    // A stretch with no frame: a hole in the recording, which renditions
    // must keep (the other stream goes on through it).
    const double hole = std::max(kMinGapSeconds, (video ? 2.5 : 1.0) * dec.last_duration);
    if ((video ? stats_.video_frames : stats_.audio_frames) > 0 && std::isfinite(time) &&
        time - dec.next_time > hole && stats_.gaps.size() < kMaxGaps) {
      stats_.gaps.push_back({dec.Kind(), dec.next_time, time});
    }
    dec.last_duration = frame_duration;
    dec.last_time = time;
    dec.next_time = time + frame_duration;
    last_error_candidate_ = time;
    if ((frame.flags & AV_FRAME_FLAG_CORRUPT) != 0 || frame.decode_error_flags != 0) {
      RecordError(time);
    }
    ++(video ? stats_.video_frames : stats_.audio_frames);
    double& end = video ? stats_.video_end : stats_.audio_end;
    if (std::isfinite(dec.next_time)) end = std::max(end, dec.next_time);
    for (FrameSink* sink : sinks_) {
      if (!(video ? sink->TakesVideo() : sink->TakesAudio())) continue;
      VG_RETURN_IF_ERROR(video ? sink->OnVideoFrame(frame, time) : sink->OnAudioFrame(frame, time));
    }
    return Status();
  }

  static double FrameDuration(const StreamDecoder& dec, const AVFrame& frame) {
    if (dec.type == AVMEDIA_TYPE_AUDIO) {
      return frame.sample_rate > 0 ? static_cast<double>(frame.nb_samples) / frame.sample_rate
                                   : 0.0;
    }
    if (frame.pkt_duration > 0) {
      return static_cast<double>(frame.pkt_duration) * av_q2d(dec.stream->time_base);
    }
    AVRational rate = dec.stream->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = dec.stream->r_frame_rate;
    return rate.num > 0 && rate.den > 0 ? av_q2d(av_inv_q(rate)) : 0.0;
  }

  // The bit-rate series: a damaged timestamp far out is not counted, so it
  // cannot make the series huge.
  void CountBytes(double time, int bytes) {
    constexpr double kMaxSecond = 48 * 3600;
    if (!(time >= 0) || time >= kMaxSecond || bytes <= 0) return;
    const auto second = static_cast<size_t>(time);
    auto& series = stats_.bytes_per_second;
    if (series.size() <= second) series.resize(second + 1, 0);
    series[second] += bytes;
  }

  static double PacketTime(const StreamDecoder& dec, const AVPacket& packet) {
    if (packet.pts != AV_NOPTS_VALUE) return dec.ToSeconds(packet.pts);
    if (packet.dts != AV_NOPTS_VALUE) return dec.ToSeconds(packet.dts);
    return dec.next_time;
  }

  void RecordError(double time) {
    ++stats_.decode_errors;
    if (!stats_.first_error_time.has_value()) stats_.first_error_time = time;
  }

  const std::string& path_;
  const std::vector<FrameSink*>& sinks_;
  Interrupter interrupter_;  // must outlive input_ (its callback points here)
  const int threads_;
  const bool decode_video_;
  const int wanted_video_, wanted_audio_;  // -1: libav's best
  const std::vector<int> wanted_extra_audio_;
  std::vector<StreamDecoder> extra_audio_;
  InputFormatPtr input_;
  StreamDecoder video_;
  StreamDecoder audio_;
  TextSubtitles subtitles_;
  PacketPtr packet_;
  FramePtr frame_;
  double last_error_candidate_ = 0;  // time of the latest frame, for read errors
  DecodeStats stats_;
};

}  // namespace

Result<DecodeStats> DecodePass(const std::string& path, const std::vector<FrameSink*>& sinks,
                               const DecodeOptions& options) {
  DecodeEngine engine(path, sinks, options);
  return engine.Run();
}

}  // namespace vidgate::media
