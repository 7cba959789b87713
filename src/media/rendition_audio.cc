#include "media/rendition_audio.h"

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>

#include "media/av.h"

namespace vidgate::media {

struct RenditionAudio::State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { av_channel_layout_uninit(&swr_layout); }

  std::string what;  // the output, in errors
  PacketSink sink;
  CodecContextPtr enc;
  SwrContextPtr swr;
  // What `swr` was set up for: a decoder may change these mid-stream (an
  // MPEG-TS that switches from mono 44.1 kHz to stereo 48 kHz).
  int swr_format = -1, swr_rate = 0;
  AVChannelLayout swr_layout{};  // freed in ~State
  AudioFifoPtr fifo;
  FramePtr converted;  // resampler output, reused; grows to the largest frame
  int converted_capacity = 0;
  FramePtr audio_out;
  PacketPtr pkt;
  int64_t audio_pts = 0;
  int64_t frames_in = 0;
  // Source times plus `shift` are the rendition's.
  double shift = 0;
  int64_t audio_position = 0;    // samples put into the FIFO so far, silence included
  int64_t audio_to_drop = 0;     // samples before the timeline's start, still to drop
  double max_audio_seconds = 0;  // no silence is padded beyond this (a wild timestamp)
  FramePtr silence;              // a tenth of a second of silence, in the encoder's format
  LoudnessMeasure* measure_only = nullptr;
  LoudnessMeasure* trial = nullptr;
  LoudnessMeasure* encoded = nullptr;
  std::unique_ptr<LoudnessNormaliser> normaliser;
  AudioFifoPtr normalised;  // the normaliser's output, cut into encoder frames
  FramePtr normalised_in;

  // Sends `frame` (null = drain) and hands every packet to the sink.
  Status Encode(const AVFrame* frame) {
    int rc = avcodec_send_frame(enc.get(), frame);
    if (rc < 0 && rc != AVERROR_EOF) return AvError(rc, "encode rendition", what);
    for (;;) {
      rc = avcodec_receive_packet(enc.get(), pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status();
      if (rc < 0) return AvError(rc, "encode rendition", what);
      VG_RETURN_IF_ERROR(sink(*pkt));
      av_packet_unref(pkt.get());
    }
  }

  // (Re)builds the resampler for `frame`'s format, rate and layout, first
  // draining the old one's tail when they changed.
  Status SetUpResampler(const AVFrame& frame) {
    AVChannelLayout in_layout{};
    if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&in_layout, frame.ch_layout.nb_channels);
    } else if (av_channel_layout_copy(&in_layout, &frame.ch_layout) < 0) {
      return ResourceExhausted("out of memory");
    }
    if (swr && frame.format == swr_format && frame.sample_rate == swr_rate &&
        av_channel_layout_compare(&in_layout, &swr_layout) == 0) {
      av_channel_layout_uninit(&in_layout);
      return Status();
    }
    if (swr) {
      Status tail = Resample(nullptr, 0);
      if (!tail.ok()) {
        av_channel_layout_uninit(&in_layout);
        return tail;
      }
    }
    AVCodecContext* c = enc.get();
    SwrContext* raw = nullptr;
    int rc = swr_alloc_set_opts2(&raw, &c->ch_layout, c->sample_fmt, c->sample_rate, &in_layout,
                                 static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0,
                                 nullptr);
    // A downmix with the standard coefficients (centre and surrounds at
    // -3 dB, LFE left out, as ITU-R BS.775), scaled so that no row of the
    // matrix sums over 1: a loud 5.1 cannot clip in stereo. This is what
    // ffmpeg's -ac 2 does; without it a float downmix adds up to +7.7 dB.
    if (rc >= 0) rc = av_opt_set_double(raw, "rematrix_maxval", 1.0, 0);
    swr.reset(raw);
    av_channel_layout_uninit(&swr_layout);
    swr_layout = in_layout;  // takes over its allocation, if any
    swr_format = frame.format;
    swr_rate = frame.sample_rate;
    if (rc < 0 || (rc = swr_init(swr.get())) < 0) {
      swr.reset();
      return AvError(rc, "set up audio conversion for", what);
    }
    return Status();
  }

  // Converts `samples` input samples (none: what the resampler still holds)
  // into the FIFO.
  Status Resample(const uint8_t** in, int samples) {
    const int max_out = swr_get_out_samples(swr.get(), samples);
    if (max_out <= 0) return Status();
    if (max_out > converted_capacity) {
      AVCodecContext* c = enc.get();
      converted.reset(av_frame_alloc());
      if (!converted) return ResourceExhausted("out of memory");
      converted->format = c->sample_fmt;
      converted->sample_rate = c->sample_rate;
      if (av_channel_layout_copy(&converted->ch_layout, &c->ch_layout) < 0) {
        return ResourceExhausted("out of memory");
      }
      converted->nb_samples = max_out;
      if (int rc = av_frame_get_buffer(converted.get(), 0); rc < 0) {
        converted.reset();
        converted_capacity = 0;
        return AvError(rc, "allocate", what);
      }
      converted_capacity = max_out;
    }
    // The FIFO copies the samples, so the buffer is free again right after.
    const int got = swr_convert(swr.get(), converted->extended_data, max_out, in, samples);
    if (got < 0) return AvError(got, "convert audio for", what);
    if (av_audio_fifo_write(fifo.get(), reinterpret_cast<void**>(converted->extended_data), got) <
        got) {
      return ResourceExhausted("out of memory");
    }
    audio_position += got;
    if (audio_to_drop > 0) {
      const int drop =
          static_cast<int>(std::min<int64_t>(audio_to_drop, av_audio_fifo_size(fifo.get())));
      av_audio_fifo_drain(fifo.get(), drop);
      audio_to_drop -= drop;
      audio_position -= drop;
    }
    return Status();
  }

  // Where the next sample fed to the resampler lands on the rendition's
  // timeline, in seconds.
  double AudioPosition() const {
    const int rate = enc->sample_rate;
    const int64_t held = swr ? swr_get_delay(swr.get(), rate) : 0;
    return static_cast<double>(audio_position + held) / rate;
  }

  // Keeps the sound where the source has it: silence up to `time` when the
  // audio is behind it (a stream that starts late, a hole in the
  // recording), or the samples before the timeline's start dropped.
  Status AlignAudio(double time) {
    constexpr double kTolerance = 0.03;  // well under what people notice
    if (audio_position == 0 && time < -kTolerance) {
      audio_to_drop = std::llround(-time * enc->sample_rate);
      return Status();
    }
    // A hole longer than this is a wild timestamp, not a recording's gap:
    // padding it would encode hours of silence nothing can stop.
    constexpr double kMaxHoleSeconds = 600;
    const double behind = time - AudioPosition();
    if (behind <= kTolerance || time > max_audio_seconds || behind > kMaxHoleSeconds) {
      return Status();
    }
    audio_to_drop = 0;  // what was before the start is behind us
    if (swr) {          // what the resampler holds goes before the silence
      VG_RETURN_IF_ERROR(Resample(nullptr, 0));
      swr.reset();
    }
    int64_t left = std::llround((time - AudioPosition()) * enc->sample_rate);
    if (!silence) {
      AVCodecContext* c = enc.get();
      silence.reset(av_frame_alloc());
      if (!silence) return ResourceExhausted("out of memory");
      silence->format = c->sample_fmt;
      silence->sample_rate = c->sample_rate;
      silence->nb_samples = c->sample_rate / 10;
      if (av_channel_layout_copy(&silence->ch_layout, &c->ch_layout) < 0 ||
          av_frame_get_buffer(silence.get(), 0) < 0) {
        silence.reset();
        return ResourceExhausted("out of memory");
      }
      av_samples_set_silence(silence->extended_data, 0, silence->nb_samples,
                             c->ch_layout.nb_channels, c->sample_fmt);
    }
    while (left > 0) {
      const int n = static_cast<int>(std::min<int64_t>(left, silence->nb_samples));
      if (av_audio_fifo_write(fifo.get(), reinterpret_cast<void**>(silence->extended_data), n) <
          n) {
        return ResourceExhausted("out of memory");
      }
      left -= n;
      audio_position += n;
      VG_RETURN_IF_ERROR(DrainAudio(/*flush=*/false));
    }
    return Status();
  }

  // Encodes whole encoder frames from the FIFO (all that is left when
  // `flush`).
  Status DrainAudio(bool flush) {
    const int frame_size = enc->frame_size;
    while (av_audio_fifo_size(fifo.get()) >= frame_size ||
           (flush && av_audio_fifo_size(fifo.get()) > 0)) {
      VG_RETURN_IF_ERROR(ReadFrame(fifo.get()));
      VG_RETURN_IF_ERROR(TakeAudio(*audio_out));
    }
    if (!normaliser) return Status();
    if (flush) {
      VG_RETURN_IF_ERROR(normaliser->Push(nullptr));
      VG_RETURN_IF_ERROR(PullNormalised());
    }
    while (av_audio_fifo_size(normalised.get()) >= frame_size ||
           (flush && av_audio_fifo_size(normalised.get()) > 0)) {
      VG_RETURN_IF_ERROR(ReadFrame(normalised.get()));
      VG_RETURN_IF_ERROR(trial ? trial->Add(*audio_out) : EncodeAudio(*audio_out));
    }
    return Status();
  }

  // An encoder frame (or what is left, if less) from `from` into audio_out.
  Status ReadFrame(AVAudioFifo* from) {
    const int n = std::min(enc->frame_size, av_audio_fifo_size(from));
    audio_out->nb_samples = n;
    int rc = av_frame_make_writable(audio_out.get());
    if (rc < 0) return AvError(rc, "encode rendition", what);
    if (av_audio_fifo_read(from, reinterpret_cast<void**>(audio_out->data), n) < n) {
      return Internal("audio FIFO underrun in " + what);
    }
    return Status();
  }

  // The rendition's sound, a frame at a time: measured (the pass of a
  // normalised rendition), normalised, or encoded.
  Status TakeAudio(AVFrame& frame) {
    if (measure_only) return measure_only->Add(frame);
    if (!normaliser) return EncodeAudio(frame);
    FramePtr ref(av_frame_clone(&frame));
    if (!ref) return ResourceExhausted("out of memory");
    VG_RETURN_IF_ERROR(normaliser->Push(ref.get()));
    return PullNormalised();
  }

  Status PullNormalised() {
    if (!normalised_in) {
      normalised_in.reset(av_frame_alloc());
      if (!normalised_in) return ResourceExhausted("out of memory");
    }
    for (;;) {
      VG_ASSIGN_OR_RETURN(bool got, normaliser->Pull(normalised_in.get()));
      if (!got) return Status();
      const int n = normalised_in->nb_samples;
      const int wrote = av_audio_fifo_write(
          normalised.get(), reinterpret_cast<void**>(normalised_in->extended_data), n);
      av_frame_unref(normalised_in.get());
      if (wrote < n) return ResourceExhausted("out of memory");
    }
  }

  Status EncodeAudio(AVFrame& frame) {
    frame.pts = audio_pts;
    audio_pts += frame.nb_samples;
    if (encoded) VG_RETURN_IF_ERROR(encoded->Add(frame));
    return Encode(&frame);
  }

  // A source audio frame at `time_seconds` from its stream's start.
  Status TakeSourceAudio(const AVFrame& frame, double time_seconds) {
    ++frames_in;
    VG_RETURN_IF_ERROR(AlignAudio(time_seconds + shift));
    VG_RETURN_IF_ERROR(SetUpResampler(frame));
    VG_RETURN_IF_ERROR(
        Resample(const_cast<const uint8_t**>(frame.extended_data), frame.nb_samples));
    return DrainAudio(/*flush=*/false);
  }

  Status Open(const RenditionSpec& spec, const StreamInfo& audio) {
    const char* name = spec.audio_codec == "opus" ? "libopus" : "aac";
    const AVCodec* codec = avcodec_find_encoder_by_name(name);
    if (!codec) return Internal(std::string("the FFmpeg build has no ") + name + " encoder");
    enc.reset(avcodec_alloc_context3(codec));
    if (!enc) return ResourceExhausted("out of memory");
    AVCodecContext* c = enc.get();
    // The encoder's own sample format: float (planar, else packed) when it
    // takes that, so nothing is lost or clipped on the way.
    c->sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    int rank = 0;
    for (const AVSampleFormat* f = codec->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; ++f) {
      const int r = *f == AV_SAMPLE_FMT_FLTP ? 2 : *f == AV_SAMPLE_FMT_FLT ? 1 : 0;
      if (r > rank) {
        rank = r;
        c->sample_fmt = *f;
      }
    }
    int rate = std::clamp(*audio.sample_rate, 8000, 96000);
    if (codec->supported_samplerates) {  // Opus: 48 kHz unless the source rate is allowed
      int chosen = 0;
      for (const int* r = codec->supported_samplerates; *r; ++r) {
        if (*r == rate) chosen = rate;
      }
      rate = chosen ? chosen : 48000;
    }
    c->sample_rate = rate;
    av_channel_layout_default(&c->ch_layout, std::min(*audio.channels, 2));
    c->bit_rate = spec.audio_bitrate;
    c->time_base = AVRational{1, c->sample_rate};
    // MP4 and fMP4 HLS want the parameter sets out of band.
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int rc = avcodec_open2(c, codec, nullptr); rc < 0) {
      return AvError(rc, std::string("open ") + name + " for", what);
    }
    const int frame_size = c->frame_size > 0 ? c->frame_size : 1024;
    c->frame_size = frame_size;
    fifo.reset(av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, frame_size * 4));
    audio_out.reset(av_frame_alloc());
    if (!fifo || !audio_out) return ResourceExhausted("out of memory");
    audio_out->format = c->sample_fmt;
    audio_out->sample_rate = c->sample_rate;
    av_channel_layout_copy(&audio_out->ch_layout, &c->ch_layout);
    audio_out->nb_samples = frame_size;
    if (int rc = av_frame_get_buffer(audio_out.get(), 0); rc < 0) {
      return AvError(rc, "allocate", what);
    }
    return Status();
  }
};

RenditionAudio::RenditionAudio(std::unique_ptr<State> state) : s_(std::move(state)) {}
RenditionAudio::~RenditionAudio() = default;

Result<std::unique_ptr<RenditionAudio>> RenditionAudio::Open(const RenditionSpec& spec,
                                                             const StreamInfo& audio, double shift,
                                                             double max_seconds, std::string what,
                                                             PacketSink sink) {
  auto s = std::make_unique<State>();
  s->what = std::move(what);
  s->sink = std::move(sink);
  s->shift = shift;
  s->max_audio_seconds = max_seconds;
  s->pkt.reset(av_packet_alloc());
  if (!s->pkt) return ResourceExhausted("out of memory");
  VG_RETURN_IF_ERROR(s->Open(spec, audio));
  return std::unique_ptr<RenditionAudio>(new RenditionAudio(std::move(s)));
}

const AVCodecContext& RenditionAudio::codec() const { return *s_->enc; }
int64_t RenditionAudio::frames_in() const { return s_->frames_in; }

Status RenditionAudio::Take(const AVFrame& frame, double time_seconds) {
  return s_->TakeSourceAudio(frame, time_seconds);
}

Status RenditionAudio::Flush(bool drain_encoder) {
  if (s_->swr) VG_RETURN_IF_ERROR(s_->Resample(nullptr, 0));  // the resampler's tail
  VG_RETURN_IF_ERROR(s_->DrainAudio(/*flush=*/true));
  if (drain_encoder) VG_RETURN_IF_ERROR(s_->Encode(nullptr));
  return Status();
}

void RenditionAudio::Restart() {
  s_->swr.reset();
  av_audio_fifo_reset(s_->fifo.get());
  s_->audio_position = s_->audio_to_drop = s_->audio_pts = s_->frames_in = 0;
}

void RenditionAudio::MeasureInsteadOfEncoding(LoudnessMeasure* measure) {
  s_->measure_only = measure;
}

Status RenditionAudio::NormaliseWith(std::unique_ptr<LoudnessNormaliser> normaliser) {
  s_->normaliser = std::move(normaliser);
  if (!s_->normaliser) return Status();
  const AVCodecContext& c = *s_->enc;
  s_->normalised.reset(av_audio_fifo_alloc(c.sample_fmt, c.ch_layout.nb_channels, 4096));
  if (!s_->normalised) return ResourceExhausted("out of memory");
  return Status();
}

void RenditionAudio::MeasureNormalisedInsteadOfEncoding(LoudnessMeasure* measure) {
  s_->trial = measure;
}

void RenditionAudio::MeasureWhatIsEncoded(LoudnessMeasure* measure) { s_->encoded = measure; }

}  // namespace vidgate::media
