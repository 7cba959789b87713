#include "media/rendition_encoder.h"

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <cmath>

#include "media/av.h"

namespace vidgate::media {
namespace {

// Rounds down to even, so a size is never made larger than the source.
int Even(double v) { return std::max(2, static_cast<int>(v / 2) * 2); }

}  // namespace

struct RenditionEncoder::State {
  std::string path;
  OutputFormatPtr out;
  CodecContextPtr venc, aenc;
  AVStream* vstream = nullptr;
  AVStream* astream = nullptr;
  SwsContextPtr sws;
  SwrContextPtr swr;
  AudioFifoPtr fifo;
  FramePtr converted;  // resampler output, reused; grows to the largest frame
  int converted_capacity = 0;
  FramePtr scaled, audio_out;
  PacketPtr pkt;
  int64_t last_video_pts = -1;
  int64_t video_frame_ticks = 40;  // in the video encoder's 1/1000 time base
  int64_t audio_pts = 0;
  bool finished = false;

  Status Write(AVCodecContext* enc, AVStream* stream, const AVFrame* frame) {
    int rc = avcodec_send_frame(enc, frame);
    if (rc < 0 && rc != AVERROR_EOF) return AvError(rc, "encode rendition", path);
    for (;;) {
      rc = avcodec_receive_packet(enc, pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status();
      if (rc < 0) return AvError(rc, "encode rendition", path);
      // A frame's duration, so the MP4 edit list does not cut the last one.
      if (pkt->duration == 0 && enc == venc.get()) pkt->duration = video_frame_ticks;
      av_packet_rescale_ts(pkt.get(), enc->time_base, stream->time_base);
      pkt->stream_index = stream->index;
      rc = av_interleaved_write_frame(out.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (rc < 0) return AvError(rc, "write rendition", path);
    }
  }

  // Encodes whole encoder frames from the FIFO (all that is left when
  // `flush`).
  Status DrainAudio(bool flush) {
    const int frame_size = aenc->frame_size;
    while (av_audio_fifo_size(fifo.get()) >= frame_size ||
           (flush && av_audio_fifo_size(fifo.get()) > 0)) {
      const int n = std::min(frame_size, av_audio_fifo_size(fifo.get()));
      audio_out->nb_samples = n;
      int rc = av_frame_make_writable(audio_out.get());
      if (rc < 0) return AvError(rc, "encode rendition", path);
      if (av_audio_fifo_read(fifo.get(), reinterpret_cast<void**>(audio_out->data), n) < n) {
        return Internal("audio FIFO underrun in " + path);
      }
      audio_out->pts = audio_pts;
      audio_pts += n;
      VG_RETURN_IF_ERROR(Write(aenc.get(), astream, audio_out.get()));
    }
    return Status();
  }
};

RenditionEncoder::RenditionEncoder(std::unique_ptr<State> state) : s_(std::move(state)) {}
RenditionEncoder::~RenditionEncoder() = default;

int RenditionEncoder::width() const { return s_->venc ? s_->venc->width : 0; }
int RenditionEncoder::height() const { return s_->venc ? s_->venc->height : 0; }

Result<std::unique_ptr<RenditionEncoder>> RenditionEncoder::Create(const std::string& path,
                                                                   const RenditionSpec& spec,
                                                                   const ProbeResult& probe) {
  auto s = std::make_unique<State>();
  s->path = path;
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str());
  if (rc < 0) return AvError(rc, "create rendition", path);
  s->out.reset(raw);
  s->pkt.reset(av_packet_alloc());
  if (!s->pkt) return ResourceExhausted("out of memory");

  const StreamInfo* video = nullptr;
  const StreamInfo* audio = nullptr;
  for (const auto& st : probe.streams) {
    if (st.type == "video" && !video && st.width && st.height) video = &st;
    if (st.type == "audio" && !audio && st.sample_rate && st.channels) audio = &st;
  }
  if (!video && !audio) return InvalidArgument("no stream to encode into " + path);

  if (video) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) return Internal("the FFmpeg build has no libx264 encoder");
    s->venc.reset(avcodec_alloc_context3(codec));
    AVCodecContext* c = s->venc.get();
    // Never upscale; keep the aspect ratio; even sizes for 4:2:0.
    const int out_h = Even(std::min(*video->height, spec.max_height));
    const int out_w = Even(static_cast<double>(*video->width) * out_h / *video->height);
    c->width = out_w;
    c->height = out_h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = AVRational{1, 1000};
    if (video->frame_rate && *video->frame_rate > 0) {
      c->framerate = av_d2q(*video->frame_rate, 100000);
      s->video_frame_ticks = std::max<int64_t>(1, std::llround(1000 / *video->frame_rate));
    }
    c->thread_count = 0;
    av_opt_set(c->priv_data, "preset", spec.preset.c_str(), 0);
    av_opt_set(c->priv_data, "crf", std::to_string(spec.crf).c_str(), 0);
    if (s->out->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(c, codec, nullptr)) < 0) return AvError(rc, "open libx264 for", path);
    s->vstream = avformat_new_stream(s->out.get(), nullptr);
    if (!s->vstream) return ResourceExhausted("out of memory");
    if ((rc = avcodec_parameters_from_context(s->vstream->codecpar, c)) < 0) {
      return AvError(rc, "set up", path);
    }
    s->vstream->time_base = c->time_base;
    s->scaled.reset(av_frame_alloc());
    if (!s->scaled) return ResourceExhausted("out of memory");
    s->scaled->format = c->pix_fmt;
    s->scaled->width = out_w;
    s->scaled->height = out_h;
    if ((rc = av_frame_get_buffer(s->scaled.get(), 0)) < 0) return AvError(rc, "allocate", path);
  }
  if (audio) {
    const AVCodec* codec = avcodec_find_encoder_by_name("aac");
    if (!codec) return Internal("the FFmpeg build has no aac encoder");
    s->aenc.reset(avcodec_alloc_context3(codec));
    AVCodecContext* c = s->aenc.get();
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = std::clamp(*audio->sample_rate, 8000, 96000);
    av_channel_layout_default(&c->ch_layout, std::min(*audio->channels, 2));
    c->bit_rate = spec.audio_bitrate;
    c->time_base = AVRational{1, c->sample_rate};
    if (s->out->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(c, codec, nullptr)) < 0) return AvError(rc, "open aac for", path);
    s->astream = avformat_new_stream(s->out.get(), nullptr);
    if (!s->astream) return ResourceExhausted("out of memory");
    if ((rc = avcodec_parameters_from_context(s->astream->codecpar, c)) < 0) {
      return AvError(rc, "set up", path);
    }
    s->astream->time_base = c->time_base;
    s->fifo.reset(av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, c->frame_size * 4));
    s->audio_out.reset(av_frame_alloc());
    if (!s->fifo || !s->audio_out) return ResourceExhausted("out of memory");
    s->audio_out->format = c->sample_fmt;
    s->audio_out->sample_rate = c->sample_rate;
    av_channel_layout_copy(&s->audio_out->ch_layout, &c->ch_layout);
    s->audio_out->nb_samples = c->frame_size;
    if ((rc = av_frame_get_buffer(s->audio_out.get(), 0)) < 0) return AvError(rc, "allocate", path);
  }
  if ((rc = avio_open(&s->out->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0) {
    return AvError(rc, "create", path);
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  rc = avformat_write_header(s->out.get(), &opts);
  av_dict_free(&opts);
  if (rc < 0) return AvError(rc, "write header of", path);
  return std::unique_ptr<RenditionEncoder>(new RenditionEncoder(std::move(s)));
}

Status RenditionEncoder::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  if (!s_->venc || s_->finished) return Status();
  AVCodecContext* c = s_->venc.get();
  s_->sws.reset(sws_getCachedContext(s_->sws.release(), frame.width, frame.height,
                                     static_cast<AVPixelFormat>(frame.format), c->width, c->height,
                                     c->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!s_->sws) return InvalidArgument("cannot convert the video's pixel format for " + s_->path);
  int rc = av_frame_make_writable(s_->scaled.get());
  if (rc < 0) return AvError(rc, "encode rendition", s_->path);
  sws_scale(s_->sws.get(), frame.data, frame.linesize, 0, frame.height, s_->scaled->data,
            s_->scaled->linesize);
  // Milliseconds, strictly increasing whatever the source's timestamps do.
  int64_t pts = std::llround(time_seconds * 1000);
  if (pts <= s_->last_video_pts) pts = s_->last_video_pts + 1;
  s_->last_video_pts = pts;
  s_->scaled->pts = pts;
  return s_->Write(c, s_->vstream, s_->scaled.get());
}

Status RenditionEncoder::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  (void)time_seconds;
  if (!s_->aenc || s_->finished) return Status();
  AVCodecContext* c = s_->aenc.get();
  if (!s_->swr) {
    SwrContext* raw = nullptr;
    AVChannelLayout in_layout{};
    if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&in_layout, frame.ch_layout.nb_channels);
    } else if (av_channel_layout_copy(&in_layout, &frame.ch_layout) < 0) {
      return ResourceExhausted("out of memory");
    }
    int rc = swr_alloc_set_opts2(&raw, &c->ch_layout, c->sample_fmt, c->sample_rate, &in_layout,
                                 static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0,
                                 nullptr);
    av_channel_layout_uninit(&in_layout);
    s_->swr.reset(raw);
    if (rc < 0 || (rc = swr_init(s_->swr.get())) < 0) {
      return AvError(rc, "set up audio conversion for", s_->path);
    }
  }
  const int max_out = swr_get_out_samples(s_->swr.get(), frame.nb_samples);
  if (max_out <= 0) return Status();
  if (max_out > s_->converted_capacity) {
    s_->converted.reset(av_frame_alloc());
    if (!s_->converted) return ResourceExhausted("out of memory");
    s_->converted->format = c->sample_fmt;
    s_->converted->sample_rate = c->sample_rate;
    av_channel_layout_copy(&s_->converted->ch_layout, &c->ch_layout);
    s_->converted->nb_samples = max_out;
    if (int rc = av_frame_get_buffer(s_->converted.get(), 0); rc < 0) {
      s_->converted.reset();
      s_->converted_capacity = 0;
      return AvError(rc, "allocate", s_->path);
    }
    s_->converted_capacity = max_out;
  }
  // The FIFO copies the samples, so the buffer is free again right after.
  const int got = swr_convert(s_->swr.get(), s_->converted->extended_data, max_out,
                              const_cast<const uint8_t**>(frame.extended_data), frame.nb_samples);
  if (got < 0) return AvError(got, "convert audio for", s_->path);
  if (av_audio_fifo_write(s_->fifo.get(), reinterpret_cast<void**>(s_->converted->extended_data),
                          got) < got) {
    return ResourceExhausted("out of memory");
  }
  return s_->DrainAudio(/*flush=*/false);
}

Status RenditionEncoder::Finish() {
  if (s_->finished) return Status();
  s_->finished = true;
  if (s_->aenc) {
    VG_RETURN_IF_ERROR(s_->DrainAudio(/*flush=*/true));
    VG_RETURN_IF_ERROR(s_->Write(s_->aenc.get(), s_->astream, nullptr));
  }
  if (s_->venc) VG_RETURN_IF_ERROR(s_->Write(s_->venc.get(), s_->vstream, nullptr));
  int rc = av_write_trailer(s_->out.get());
  if (rc < 0) return AvError(rc, "finish", s_->path);
  return Status();
}

}  // namespace vidgate::media
