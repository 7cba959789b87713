#include "media/thumbnailer.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <cstdio>

#include "media/av.h"

namespace vidgate::media {
namespace {}  // namespace

struct Thumbnailer::Encoder {
  SwsContextPtr sws;
  PacketPtr pkt{av_packet_alloc()};
};

Thumbnailer::Thumbnailer(std::string dir, double duration_seconds, ThumbnailSpec spec)
    : dir_(std::move(dir)),
      duration_(duration_seconds),
      spec_(spec),
      enc_(std::make_unique<Encoder>()) {
  if (duration_ > 0) {
    for (int i = 0; i < spec_.count; ++i) times_.push_back((i + 0.5) / spec_.count * duration_);
  }
}

Thumbnailer::~Thumbnailer() = default;

Status Thumbnailer::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  if (!poster_done_ && (duration_ <= 0 || time_seconds >= spec_.poster_at * duration_)) {
    VG_RETURN_IF_ERROR(WriteJpeg(frame, "poster.jpg"));
    poster_done_ = true;
  }
  if (duration_ <= 0) {
    // Unknown length: one a second, up to `count`.
    if (next_index_ <= spec_.count && time_seconds >= next_index_ - 1) {
      VG_RETURN_IF_ERROR(WriteJpeg(frame, fmt::format("{:04}.jpg", next_index_)));
      ++next_index_;
    }
    return Status();
  }
  while (!times_.empty() && time_seconds >= times_.front()) {
    VG_RETURN_IF_ERROR(WriteJpeg(frame, fmt::format("{:04}.jpg", next_index_)));
    ++next_index_;
    times_.erase(times_.begin());
  }
  return Status();
}

Status Thumbnailer::WriteJpeg(const AVFrame& frame, const std::string& name) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return Internal("the FFmpeg build has no MJPEG encoder");
  const int width = std::min(spec_.max_width, frame.width) / 2 * 2;
  const int height = std::max(
      2, static_cast<int>(static_cast<int64_t>(frame.height) * width / std::max(1, frame.width)) /
             2 * 2);
  CodecContextPtr c(avcodec_alloc_context3(codec));
  if (!c) return ResourceExhausted("out of memory");
  c->width = width;
  c->height = height;
  c->pix_fmt = AV_PIX_FMT_YUVJ420P;
  c->time_base = AVRational{1, 25};
  c->flags |= AV_CODEC_FLAG_QSCALE;
  c->global_quality = FF_QP2LAMBDA * 4;
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "open the JPEG encoder for", name);
  enc_->sws.reset(sws_getCachedContext(
      enc_->sws.release(), frame.width, frame.height, static_cast<AVPixelFormat>(frame.format),
      width, height, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!enc_->sws) return InvalidArgument("cannot convert the video's pixel format for " + name);
  FramePtr scaled(av_frame_alloc());
  if (!scaled) return ResourceExhausted("out of memory");
  scaled->format = AV_PIX_FMT_YUVJ420P;
  scaled->width = width;
  scaled->height = height;
  if ((rc = av_frame_get_buffer(scaled.get(), 0)) < 0) return AvError(rc, "allocate", name);
  sws_scale(enc_->sws.get(), frame.data, frame.linesize, 0, frame.height, scaled->data,
            scaled->linesize);
  scaled->pts = 0;
  if ((rc = avcodec_send_frame(c.get(), scaled.get())) < 0) return AvError(rc, "encode", name);
  if ((rc = avcodec_receive_packet(c.get(), enc_->pkt.get())) < 0)
    return AvError(rc, "encode", name);
  const std::string path = dir_ + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    av_packet_unref(enc_->pkt.get());
    return ErrnoStatus(errno, "create", path);
  }
  const size_t n = static_cast<size_t>(enc_->pkt->size);
  const bool ok = std::fwrite(enc_->pkt->data, 1, n, f) == n;
  av_packet_unref(enc_->pkt.get());
  if (std::fclose(f) != 0 || !ok) return ErrnoStatus(errno, "write", path);
  files_.push_back(name);
  return Status();
}

}  // namespace vidgate::media
