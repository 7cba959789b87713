#include "media/thumbnailer.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/util.h"
#include "media/av.h"

namespace vidgate::media {
namespace {

// Scales `frame` into a new full-range 4:2:0 picture of `width` x `height`
// (area averaging: the filter for large reductions, and a cheap one).
Result<FramePtr> ScaleForJpeg(SwsContextPtr& sws, const AVFrame& frame, int width, int height,
                              const std::string& what) {
  sws.reset(sws_getCachedContext(sws.release(), frame.width, frame.height,
                                 static_cast<AVPixelFormat>(frame.format), width, height,
                                 AV_PIX_FMT_YUVJ420P, SWS_AREA, nullptr, nullptr, nullptr));
  if (!sws) return InvalidArgument("cannot convert the video's pixel format for " + what);
  FramePtr scaled(av_frame_alloc());
  if (!scaled) return ResourceExhausted("out of memory");
  scaled->format = AV_PIX_FMT_YUVJ420P;
  scaled->width = width;
  scaled->height = height;
  if (int rc = av_frame_get_buffer(scaled.get(), 0); rc < 0) return AvError(rc, "allocate", what);
  sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, scaled->data, scaled->linesize);
  return scaled;
}

// "HH:MM:SS.mmm" for WebVTT.
std::string VttTime(double seconds) {
  const int64_t ms = std::llround(std::max(0.0, seconds) * 1000);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

// The frame's width as displayed: its pixels may not be square.
int DisplayWidth(const AVFrame& frame) {
  const AVRational sar = frame.sample_aspect_ratio;
  const double ratio = sar.num > 0 && sar.den > 0 ? av_q2d(sar) : 1.0;
  return std::max(1, static_cast<int>(std::lround(frame.width * std::clamp(ratio, 0.1, 10.0))));
}

// Even, at least 2: the height for `width` at the frame's displayed aspect
// ratio.
int EvenHeightFor(const AVFrame& frame, int width) {
  return std::max(
      2,
      static_cast<int>(static_cast<int64_t>(frame.height) * width / DisplayWidth(frame)) / 2 * 2);
}

}  // namespace

struct Thumbnailer::Encoder {
  SwsContextPtr sws, tile_sws;
  PacketPtr pkt{av_packet_alloc()};
  std::vector<FramePtr> tiles;  // sprite tiles taken so far, same size each
  double next_tile_time = 0;
};

Thumbnailer::Thumbnailer(std::string dir, double duration_seconds, ThumbnailSpec spec)
    : dir_(std::move(dir)),
      duration_(duration_seconds),
      spec_(spec),
      enc_(std::make_unique<Encoder>()) {
  if (duration_ > 0) {
    for (int i = 0; i < spec_.count; ++i) times_.push_back((i + 0.5) / spec_.count * duration_);
    if (spec_.sprite_tiles > 0) tile_interval_ = std::max(1.0, duration_ / spec_.sprite_tiles);
  }
}

Thumbnailer::~Thumbnailer() = default;

Status Thumbnailer::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  if (static_cast<int>(enc_->tiles.size()) < spec_.sprite_tiles &&
      time_seconds >= enc_->next_tile_time) {
    VG_RETURN_IF_ERROR(AddTile(frame));
    enc_->next_tile_time = static_cast<double>(enc_->tiles.size()) * tile_interval_;
  }
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

Status Thumbnailer::AddTile(const AVFrame& frame) {
  // Every tile the size of the first, so the grid stays regular.
  int width = std::min(spec_.sprite_tile_width, DisplayWidth(frame)) / 2 * 2;
  int height = EvenHeightFor(frame, width);
  if (!enc_->tiles.empty()) {
    width = enc_->tiles[0]->width;
    height = enc_->tiles[0]->height;
  }
  VG_ASSIGN_OR_RETURN(
      FramePtr tile, ScaleForJpeg(enc_->tile_sws, frame, std::max(2, width), height, "sprite.jpg"));
  enc_->tiles.push_back(std::move(tile));
  return Status();
}

Status Thumbnailer::Finish() {
  if (enc_->tiles.empty()) return Status();
  VG_RETURN_IF_ERROR(WriteSprite());
  enc_->tiles.clear();
  return Status();
}

Status Thumbnailer::WriteSprite() {
  const int n = static_cast<int>(enc_->tiles.size());
  const int columns = std::max(1, std::min(spec_.sprite_columns, n));
  const int rows = (n + columns - 1) / columns;
  const int tw = enc_->tiles[0]->width, th = enc_->tiles[0]->height;
  FramePtr sheet(av_frame_alloc());
  if (!sheet) return ResourceExhausted("out of memory");
  sheet->format = AV_PIX_FMT_YUVJ420P;
  sheet->width = tw * columns;
  sheet->height = th * rows;
  if (int rc = av_frame_get_buffer(sheet.get(), 0); rc < 0) {
    return AvError(rc, "allocate", "sprite.jpg");
  }
  // Black where the last row has no tile: Y 0, chroma at its middle.
  for (int p = 0; p < 3; ++p) {
    const int h = p == 0 ? sheet->height : sheet->height / 2;
    std::memset(sheet->data[p], p == 0 ? 0 : 128, static_cast<size_t>(sheet->linesize[p]) * h);
  }
  std::string vtt = "WEBVTT\n";
  for (int i = 0; i < n; ++i) {
    const AVFrame& tile = *enc_->tiles[static_cast<size_t>(i)];
    const int x = (i % columns) * tw, y = (i / columns) * th;
    for (int p = 0; p < 3; ++p) {
      const int shift = p == 0 ? 0 : 1;
      const int w = tw >> shift, h = th >> shift;
      for (int row = 0; row < h; ++row) {
        std::memcpy(
            sheet->data[p] + static_cast<ptrdiff_t>((y >> shift) + row) * sheet->linesize[p] +
                (x >> shift),
            tile.data[p] + static_cast<ptrdiff_t>(row) * tile.linesize[p], static_cast<size_t>(w));
      }
    }
    const double start = i * tile_interval_;
    double end = (i + 1) * tile_interval_;
    if (i == n - 1 && duration_ > start) end = duration_;
    vtt += fmt::format("\n{} --> {}\nsprite.jpg#xywh={},{},{},{}\n", VttTime(start), VttTime(end),
                       x, y, tw, th);
  }
  VG_RETURN_IF_ERROR(EncodeJpeg(*sheet, "sprite.jpg"));
  VG_RETURN_IF_ERROR(WriteLocalFile(dir_ + "/sprite.vtt", vtt));
  files_.push_back("sprite.vtt");
  return Status();
}

Status Thumbnailer::WriteJpeg(const AVFrame& frame, const std::string& name) {
  const int width = std::max(2, std::min(spec_.max_width, DisplayWidth(frame)) / 2 * 2);
  VG_ASSIGN_OR_RETURN(FramePtr scaled,
                      ScaleForJpeg(enc_->sws, frame, width, EvenHeightFor(frame, width), name));
  return EncodeJpeg(*scaled, name);
}

Status Thumbnailer::EncodeJpeg(const AVFrame& picture, const std::string& name) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return Internal("the FFmpeg build has no MJPEG encoder");
  CodecContextPtr c(avcodec_alloc_context3(codec));
  if (!c) return ResourceExhausted("out of memory");
  c->width = picture.width;
  c->height = picture.height;
  c->pix_fmt = AV_PIX_FMT_YUVJ420P;
  c->time_base = AVRational{1, 25};
  c->flags |= AV_CODEC_FLAG_QSCALE;
  c->global_quality = FF_QP2LAMBDA * 4;
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "open the JPEG encoder for", name);
  FramePtr frame(av_frame_clone(&picture));
  if (!frame) return ResourceExhausted("out of memory");
  frame->pts = 0;
  if ((rc = avcodec_send_frame(c.get(), frame.get())) < 0) return AvError(rc, "encode", name);
  if ((rc = avcodec_receive_packet(c.get(), enc_->pkt.get())) < 0)
    return AvError(rc, "encode", name);
  Status written = WriteLocalFile(dir_ + "/" + name,
                                  std::string_view(reinterpret_cast<const char*>(enc_->pkt->data),
                                                   static_cast<size_t>(enc_->pkt->size)));
  av_packet_unref(enc_->pkt.get());
  VG_RETURN_IF_ERROR(written);
  files_.push_back(name);
  return Status();
}

}  // namespace vidgate::media
