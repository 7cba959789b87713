#include "media/thumbnailer.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/util.h"
#include "media/av.h"
#include "media/colour_convert.h"
#include "media/filter_chain.h"

namespace vidgate::media {
namespace {

// Scales pictures into new full-range BT.601 4:2:0 pictures, what JPEG
// holds: swscale (area averaging, the filter for large reductions and a
// cheap one) for SDR pictures that are RGB or BT.601 already, zscale for the
// others (BT.709 and the rest converted, HDR tone-mapped as the renditions
// are).
class JpegScaler {
 public:
  explicit JpegScaler(const std::optional<ColourInfo>& stream) : stream_(stream) {}

  Result<FramePtr> Scale(const AVFrame& frame, int width, int height, const std::string& what) {
    const PictureColour colour = ColourOfPicture(frame, stream_ ? &*stream_ : nullptr);
    if (!colour.IsSdrWith(AVCOL_SPC_BT470BG, /*full_ok=*/true) && !refused_) {
      Result<FramePtr> converted = Convert(frame, colour, width, height, what);
      if (!converted.ok() && converted.status().code() != Code::kResourceExhausted && !prescaled_) {
        // zimg refuses 4:2:0 pictures of an odd size: scaled to the
        // image's (even) size first, they convert and tone-map.
        prescaled_ = true;
        chain_.reset();
        converted = Convert(frame, colour, width, height, what);
      }
      if (converted.ok() || converted.status().code() == Code::kResourceExhausted) {
        return converted;
      }
      // zimg refuses even that: swscale converts the matrix and range
      // instead (no tone mapping).
      refused_ = true;
      chain_.reset();
    }
    sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height,
                                    static_cast<AVPixelFormat>(frame.format), width, height,
                                    AV_PIX_FMT_YUVJ420P, SWS_AREA, nullptr, nullptr, nullptr));
    if (!sws_) return InvalidArgument("cannot convert the video's pixel format for " + what);
    if (!colour.rgb) {
      sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(colour.matrix),
                               colour.full_range ? 1 : 0, sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                               1 << 16, 1 << 16);
    }
    FramePtr scaled(av_frame_alloc());
    if (!scaled) return ResourceExhausted("out of memory");
    scaled->format = AV_PIX_FMT_YUVJ420P;
    scaled->width = width;
    scaled->height = height;
    if (int rc = av_frame_get_buffer(scaled.get(), 0); rc < 0) return AvError(rc, "allocate", what);
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, scaled->data,
              scaled->linesize);
    return scaled;
  }

 private:
  Result<FramePtr> Convert(const AVFrame& frame, const PictureColour& colour, int width, int height,
                           const std::string& what) {
    if (chain_ && (!chain_->Fits(frame) || width != width_ || height != height_)) chain_.reset();
    if (!chain_) {
      const std::string prescale =
          prescaled_ ? fmt::format("scale=w={}:h={}:flags=area,", width, height) : "";
      VG_ASSIGN_OR_RETURN(
          chain_, FilterChain::Create(
                      frame, prescale + SdrChain(colour, width, height, kJpegTarget), what));
      width_ = width;
      height_ = height;
    }
    FramePtr in;
    VG_RETURN_IF_ERROR(KeepFrame(in, frame, what));
    in->pts = 0;
    VG_RETURN_IF_ERROR(chain_->Push(in.get()));
    FramePtr out(av_frame_alloc());
    if (!out) return ResourceExhausted("out of memory");
    VG_ASSIGN_OR_RETURN(bool got, chain_->Pull(out.get()));
    if (!got) return Internal("no picture came out of the colour conversion for " + what);
    out->format = AV_PIX_FMT_YUVJ420P;  // the same planes, full range: the JPEG encoder's name
    return out;
  }

  const std::optional<ColourInfo>& stream_;
  SwsContextPtr sws_;
  std::unique_ptr<FilterChain> chain_;
  int width_ = 0, height_ = 0;
  bool prescaled_ = false;  // zimg takes this video's pictures once scaled first
  bool refused_ = false;    // zimg refused this video's pictures
};

// "HH:MM:SS.mmm" for WebVTT.
std::string VttTime(double seconds) {
  const int64_t ms = std::llround(std::max(0.0, seconds) * 1000);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

// The frame's size as people see it: pixels made square, then turned.
struct Size {
  int width, height;
};
Size Shown(const AVFrame& frame, int rotation) {
  const AVRational sar = frame.sample_aspect_ratio;
  const double ratio = sar.num > 0 && sar.den > 0 ? av_q2d(sar) : 1.0;
  const int width =
      std::max(1, static_cast<int>(std::lround(frame.width * std::clamp(ratio, 0.1, 10.0))));
  const int height = std::max(1, frame.height);
  return rotation == 90 || rotation == 270 ? Size{height, width} : Size{width, height};
}

// Even, at least 2: the height for `width` at the shown aspect ratio.
int EvenHeightFor(Size shown, int width) {
  return std::max(
      2, static_cast<int>(static_cast<int64_t>(shown.height) * width / shown.width) / 2 * 2);
}

// `in` (4:2:0, even sizes) turned clockwise by 90, 180 or 270 degrees.
Result<FramePtr> Turn(const AVFrame& in, int rotation, const std::string& what) {
  const bool quarter = rotation == 90 || rotation == 270;
  FramePtr out(av_frame_alloc());
  if (!out) return ResourceExhausted("out of memory");
  out->format = in.format;
  out->width = quarter ? in.height : in.width;
  out->height = quarter ? in.width : in.height;
  if (int rc = av_frame_get_buffer(out.get(), 0); rc < 0) return AvError(rc, "allocate", what);
  for (int p = 0; p < 3; ++p) {
    const int w = p == 0 ? in.width : in.width / 2;
    const int h = p == 0 ? in.height : in.height / 2;
    for (int y = 0; y < h; ++y) {
      const uint8_t* row = in.data[p] + static_cast<ptrdiff_t>(y) * in.linesize[p];
      for (int x = 0; x < w; ++x) {
        // Where (x, y) lands: a quarter turn clockwise takes the top-left
        // corner to the top-right.
        const int to_x = rotation == 90 ? h - 1 - y : rotation == 180 ? w - 1 - x : y;
        const int to_y = rotation == 90 ? x : rotation == 180 ? h - 1 - y : w - 1 - x;
        out->data[p][static_cast<ptrdiff_t>(to_y) * out->linesize[p] + to_x] = row[x];
      }
    }
  }
  return out;
}

// `frame` as a full-range 4:2:0 image of `size` as shown (scaled, then
// turned by `rotation`).
Result<FramePtr> Image(JpegScaler& scaler, const AVFrame& frame, Size size, int rotation,
                       const std::string& what) {
  const bool quarter = rotation == 90 || rotation == 270;
  VG_ASSIGN_OR_RETURN(FramePtr scaled, scaler.Scale(frame, quarter ? size.height : size.width,
                                                    quarter ? size.width : size.height, what));
  if (rotation != 90 && rotation != 180 && rotation != 270) return scaled;
  return Turn(*scaled, rotation, what);
}

}  // namespace

struct Thumbnailer::Encoder {
  explicit Encoder(const std::optional<ColourInfo>& colour) : scaler(colour), tile_scaler(colour) {}
  JpegScaler scaler, tile_scaler;
  PacketPtr pkt{av_packet_alloc()};
  std::vector<FramePtr> tiles;  // sprite tiles taken so far, same size each
  FramePtr last;                // the last picture, for the times it shows
  double next_tile_time = 0;
};

Thumbnailer::Thumbnailer(std::string dir, double duration_seconds, ThumbnailSpec spec)
    : dir_(std::move(dir)),
      duration_(duration_seconds),
      spec_(spec),
      enc_(std::make_unique<Encoder>(spec_.colour)) {
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
  if (duration_ <= 0) {
    // Unknown length: the first picture is the poster; a thumbnail a
    // second, up to `count`.
    if (!poster_done_) {
      VG_RETURN_IF_ERROR(WriteJpeg(frame, "poster.jpg"));
      poster_done_ = true;
    }
    if (next_index_ <= spec_.count && time_seconds >= next_index_ - 1) {
      VG_RETURN_IF_ERROR(WriteJpeg(frame, fmt::format("{:04}.jpg", next_index_)));
      ++next_index_;
    }
    return Status();
  }
  // A time is shown by the last picture at or before it: the times this
  // picture passes get the one before (this one, for times before the
  // first picture). The rest get the last picture at the end, so a video of
  // one frame still has every image.
  const AVFrame& before = enc_->last ? *enc_->last : frame;
  VG_RETURN_IF_ERROR(WriteDue(before, time_seconds));
  return KeepFrame(enc_->last, frame, "thumbnails");
}

Status Thumbnailer::WriteDue(const AVFrame& frame, double until) {
  if (!poster_done_ && until > spec_.poster_at * duration_) {
    VG_RETURN_IF_ERROR(WriteJpeg(frame, "poster.jpg"));
    poster_done_ = true;
  }
  while (!times_.empty() && until > times_.front()) {
    VG_RETURN_IF_ERROR(WriteJpeg(frame, fmt::format("{:04}.jpg", next_index_)));
    ++next_index_;
    times_.erase(times_.begin());
  }
  return Status();
}

Status Thumbnailer::AddTile(const AVFrame& frame) {
  // Every tile the size of the first, so the grid stays regular.
  const Size shown = Shown(frame, spec_.rotation);
  int width = std::max(2, std::min(spec_.sprite_tile_width, shown.width) / 2 * 2);
  int height = EvenHeightFor(shown, width);
  if (!enc_->tiles.empty()) {
    width = enc_->tiles[0]->width;
    height = enc_->tiles[0]->height;
  }
  VG_ASSIGN_OR_RETURN(FramePtr tile, Image(enc_->tile_scaler, frame, Size{width, height},
                                           spec_.rotation, "sprite.jpg"));
  enc_->tiles.push_back(std::move(tile));
  return Status();
}

Status Thumbnailer::Finish() {
  if (enc_->last) {
    VG_RETURN_IF_ERROR(WriteDue(*enc_->last, std::numeric_limits<double>::infinity()));
    enc_->last.reset();
  }
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
  const Size shown = Shown(frame, spec_.rotation);
  const int width = std::max(2, std::min(spec_.max_width, shown.width) / 2 * 2);
  VG_ASSIGN_OR_RETURN(
      FramePtr scaled,
      Image(enc_->scaler, frame, Size{width, EvenHeightFor(shown, width)}, spec_.rotation, name));
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
