#include "media/synthesize.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include <cmath>
#include <functional>
#include <numbers>

#include "media/av.h"

namespace vidgate::media {
namespace {

bool InRanges(const std::vector<std::pair<double, double>>& ranges, double t) {
  for (const auto& [a, b] : ranges) {
    if (t >= a && t < b) return true;
  }
  return false;
}

// Sends `frame` (or the flush, when null) and writes every packet out.
Status EncodeAndWrite(AVCodecContext* enc, AVFrame* frame, AVStream* stream, AVFormatContext* out,
                      AVPacket* pkt, const std::string& path) {
  int rc = avcodec_send_frame(enc, frame);
  if (rc < 0) return AvError(rc, "encode", path);
  for (;;) {
    rc = avcodec_receive_packet(enc, pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status();
    if (rc < 0) return AvError(rc, "encode", path);
    // Without a duration the last frame of the file would be cut by the
    // MP4 edit list.
    if (pkt->duration == 0 && enc->codec_type == AVMEDIA_TYPE_VIDEO) pkt->duration = 1;
    av_packet_rescale_ts(pkt, enc->time_base, stream->time_base);
    pkt->stream_index = stream->index;
    rc = av_interleaved_write_frame(out, pkt);
    av_packet_unref(pkt);
    if (rc < 0) return AvError(rc, "write", path);
  }
}

Result<CodecContextPtr> OpenEncoder(const char* name, AVFormatContext* out,
                                    const std::function<void(AVCodecContext*)>& setup,
                                    AVStream** stream) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (!codec) return Internal(std::string("the FFmpeg build has no ") + name + " encoder");
  CodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) return ResourceExhausted("out of memory");
  setup(enc.get());
  if (out->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int rc = avcodec_open2(enc.get(), codec, nullptr);
  const std::string path = out->url ? out->url : "";
  if (rc < 0) return AvError(rc, std::string("open encoder ") + name + " for", path);
  *stream = avformat_new_stream(out, nullptr);
  if (!*stream) return ResourceExhausted("out of memory");
  rc = avcodec_parameters_from_context((*stream)->codecpar, enc.get());
  if (rc < 0) return AvError(rc, "set stream parameters of", path);
  (*stream)->time_base = enc->time_base;
  return enc;
}

}  // namespace

Status SynthesizeClip(const std::string& path, const SynthOptions& o) {
  if (o.width < 16 || o.height < 16 || o.width % 2 || o.height % 2 || o.fps < 1 ||
      !(o.seconds > 0) || o.seconds > 600) {
    return InvalidArgument("synthesize: bad size, rate or duration");
  }
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str());
  if (rc < 0) return AvError(rc, "create", path);
  OutputFormatPtr out(raw);

  AVStream* vstream = nullptr;
  VG_ASSIGN_OR_RETURN(CodecContextPtr venc, OpenEncoder(
                                                "libx264", out.get(),
                                                [&](AVCodecContext* c) {
                                                  c->width = o.width;
                                                  c->height = o.height;
                                                  c->pix_fmt = AV_PIX_FMT_YUV420P;
                                                  // Tagged, as cameras do: the
                                                  // pattern is made as BT.709.
                                                  c->color_primaries = AVCOL_PRI_BT709;
                                                  c->color_trc = AVCOL_TRC_BT709;
                                                  c->colorspace = AVCOL_SPC_BT709;
                                                  c->color_range = AVCOL_RANGE_MPEG;
                                                  c->time_base = AVRational{1, o.fps};
                                                  c->framerate = AVRational{o.fps, 1};
                                                  c->gop_size = o.fps * 2;
                                                  av_opt_set(c->priv_data, "preset", "veryfast", 0);
                                                  av_opt_set(c->priv_data, "crf", "26", 0);
                                                },
                                                &vstream));
  AVStream* astream = nullptr;
  CodecContextPtr aenc;
  if (o.audio) {
    VG_ASSIGN_OR_RETURN(aenc, OpenEncoder(
                                  "aac", out.get(),
                                  [](AVCodecContext* c) {
                                    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
                                    c->sample_rate = 48000;
                                    c->bit_rate = 128000;
                                    av_channel_layout_default(&c->ch_layout, 2);
                                    c->time_base = AVRational{1, 48000};
                                  },
                                  &astream));
  }
  rc = avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) return AvError(rc, "create", path);
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "movflags", "+faststart", 0);
  DictionaryPtr opts(raw_opts);
  AVDictionary* header_opts = opts.release();
  rc = avformat_write_header(out.get(), &header_opts);
  opts.reset(header_opts);
  if (rc < 0) return AvError(rc, "write header", path);

  PacketPtr pkt(av_packet_alloc());
  FramePtr vframe(av_frame_alloc());
  if (!pkt || !vframe) return ResourceExhausted("out of memory");
  vframe->format = AV_PIX_FMT_YUV420P;
  vframe->width = o.width;
  vframe->height = o.height;
  if ((rc = av_frame_get_buffer(vframe.get(), 0)) < 0) return AvError(rc, "allocate frame", path);

  const int frames = static_cast<int>(std::lround(o.seconds * o.fps));
  const int64_t samples_total = static_cast<int64_t>(std::llround(o.seconds * 48000));
  int64_t samples_done = 0;
  const double amplitude = std::pow(10.0, o.tone_dbfs / 20.0);
  for (int i = 0; i <= frames; ++i) {
    const bool last = i == frames;
    if (!last) {
      if ((rc = av_frame_make_writable(vframe.get())) < 0) return AvError(rc, "encode", path);
      const double t = static_cast<double>(i) / o.fps;
      const bool black = InRanges(o.black, t);
      for (int y = 0; y < o.height; ++y) {
        uint8_t* row = vframe->data[0] + static_cast<ptrdiff_t>(y) * vframe->linesize[0];
        for (int x = 0; x < o.width; ++x) {
          row[x] = black ? 16 : static_cast<uint8_t>(40 + ((x + y + i * 4) % 180));
        }
      }
      for (int p = 1; p < 3; ++p) {
        for (int y = 0; y < o.height / 2; ++y) {
          uint8_t* row = vframe->data[p] + static_cast<ptrdiff_t>(y) * vframe->linesize[p];
          for (int x = 0; x < o.width / 2; ++x) {
            row[x] =
                black ? 128
                      : static_cast<uint8_t>(p == 1 ? (x * 2 + i) % 200 + 28 : (y * 3) % 200 + 28);
          }
        }
      }
      vframe->pts = i;
      VG_RETURN_IF_ERROR(
          EncodeAndWrite(venc.get(), vframe.get(), vstream, out.get(), pkt.get(), path));
    } else {
      VG_RETURN_IF_ERROR(EncodeAndWrite(venc.get(), nullptr, vstream, out.get(), pkt.get(), path));
    }
    // Audio up to the same time as the video written so far.
    if (aenc) {
      const int64_t until =
          last ? samples_total
               : std::min(samples_total, static_cast<int64_t>(i + 1) * 48000 / o.fps);
      while (samples_done < until) {
        FramePtr aframe(av_frame_alloc());
        if (!aframe) return ResourceExhausted("out of memory");
        aframe->format = AV_SAMPLE_FMT_FLTP;
        aframe->sample_rate = 48000;
        av_channel_layout_copy(&aframe->ch_layout, &aenc->ch_layout);
        aframe->nb_samples = aenc->frame_size;
        if ((rc = av_frame_get_buffer(aframe.get(), 0)) < 0)
          return AvError(rc, "allocate frame", path);
        for (int s = 0; s < aenc->frame_size; ++s) {
          const int64_t n = samples_done + s;
          const double t = static_cast<double>(n) / 48000;
          float v = 0;
          if (n < samples_total && !InRanges(o.silent, t)) {
            v = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * o.tone_hz * t));
          }
          for (int c = 0; c < aframe->ch_layout.nb_channels; ++c) {
            reinterpret_cast<float*>(aframe->data[c])[s] = v;
          }
        }
        aframe->pts = samples_done;
        samples_done += aenc->frame_size;
        VG_RETURN_IF_ERROR(
            EncodeAndWrite(aenc.get(), aframe.get(), astream, out.get(), pkt.get(), path));
      }
      if (last) {
        VG_RETURN_IF_ERROR(
            EncodeAndWrite(aenc.get(), nullptr, astream, out.get(), pkt.get(), path));
      }
    }
  }
  if ((rc = av_write_trailer(out.get())) < 0) return AvError(rc, "finish", path);
  return Status();
}

}  // namespace vidgate::media
