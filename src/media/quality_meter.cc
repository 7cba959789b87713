#include "media/quality_meter.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <cmath>
#include <cstring>
#include <string>

namespace vidgate::media {
namespace {

// The luma plane of a picture, kept until its decoded counterpart comes:
// bytes for 8 bits, 16-bit words for more.
struct Luma {
  int width = 0, height = 0, depth = 8;
  std::vector<uint8_t> bytes;
};

Luma CopyLuma(const AVFrame& f) {
  Luma l;
  l.width = f.width;
  l.height = f.height;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f.format));
  l.depth = d != nullptr ? d->comp[0].depth : 8;
  const size_t row_bytes = static_cast<size_t>(f.width) * (l.depth > 8 ? 2 : 1);
  l.bytes.resize(row_bytes * static_cast<size_t>(f.height));
  for (int y = 0; y < f.height; ++y) {
    std::memcpy(l.bytes.data() + row_bytes * static_cast<size_t>(y),
                f.data[0] + static_cast<ptrdiff_t>(y) * f.linesize[0], row_bytes);
  }
  return l;
}

template <typename Sample>
PictureQuality CompareSamples(const Luma& la, const Luma& lb) {
  PictureQuality q;
  const int w = std::min(la.width, lb.width), h = std::min(la.height, lb.height);
  if (w <= 0 || h <= 0) return q;
  const auto* a = reinterpret_cast<const Sample*>(la.bytes.data());
  const auto* b = reinterpret_cast<const Sample*>(lb.bytes.data());
  auto at_a = [&](int x, int y) -> double {
    return a[static_cast<size_t>(y) * static_cast<size_t>(la.width) + static_cast<size_t>(x)];
  };
  auto at_b = [&](int x, int y) -> double {
    return b[static_cast<size_t>(y) * static_cast<size_t>(lb.width) + static_cast<size_t>(x)];
  };
  double squared = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double d = at_a(x, y) - at_b(x, y);
      squared += d * d;
    }
  }
  q.mse = squared / (static_cast<double>(w) * h);
  // SSIM over 8x8 windows stepping 4 pixels: sums of 4x4 blocks, each
  // window the sum of four neighbouring blocks.
  const int bw = w / 4, bh = h / 4;
  if (bw < 2 || bh < 2) return q;
  struct Sums {
    double a = 0, b = 0, ab = 0, squares = 0;
  };
  std::vector<Sums> blocks(static_cast<size_t>(bw) * static_cast<size_t>(bh));
  for (int by = 0; by < bh; ++by) {
    for (int bx = 0; bx < bw; ++bx) {
      Sums s;
      for (int y = by * 4; y < by * 4 + 4; ++y) {
        for (int x = bx * 4; x < bx * 4 + 4; ++x) {
          const double va = at_a(x, y), vb = at_b(x, y);
          s.a += va;
          s.b += vb;
          s.ab += va * vb;
          s.squares += va * va + vb * vb;
        }
      }
      blocks[static_cast<size_t>(by) * static_cast<size_t>(bw) + static_cast<size_t>(bx)] = s;
    }
  }
  const double max = static_cast<double>((1 << la.depth) - 1);
  // The stabilising constants as x264 and ffmpeg scale them for sums of 64.
  const double c1 = 0.01 * 0.01 * max * max * 64;
  const double c2 = 0.03 * 0.03 * max * max * 64 * 63;
  double total = 0;
  for (int by = 0; by + 1 < bh; ++by) {
    for (int bx = 0; bx + 1 < bw; ++bx) {
      Sums s;
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const Sums& k = blocks[static_cast<size_t>(by + dy) * static_cast<size_t>(bw) +
                                 static_cast<size_t>(bx + dx)];
          s.a += k.a;
          s.b += k.b;
          s.ab += k.ab;
          s.squares += k.squares;
        }
      }
      // 64 samples a window: variances and covariance times 64².
      const double variances = s.squares * 64 - s.a * s.a - s.b * s.b;
      const double covariance = s.ab * 64 - s.a * s.b;
      total += (2 * s.a * s.b + c1) * (2 * covariance + c2) /
               ((s.a * s.a + s.b * s.b + c1) * (variances + c2));
    }
  }
  q.ssim = total / (static_cast<double>(bw - 1) * (bh - 1));
  return q;
}

PictureQuality Compare(const Luma& a, const Luma& b) {
  if (a.depth != b.depth) return PictureQuality{};
  return a.depth > 8 ? CompareSamples<uint16_t>(a, b) : CompareSamples<uint8_t>(a, b);
}

double Psnr(double mse, int depth) {
  if (mse <= 0) return 100;
  const double max = static_cast<double>((1 << depth) - 1);
  return std::min(100.0, 10 * std::log10(max * max / mse));
}

std::optional<double> Rounded(std::optional<double> v) {
  if (!v) return v;
  return std::round(*v * 10000) / 10000;
}

}  // namespace

nlohmann::json QualityFigures::SummaryJson() const {
  auto value = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"frames", frames}, {"psnr_y", value(Rounded(psnr))}, {"ssim_y", value(Rounded(ssim))}};
}

PictureQuality CompareLuma(const AVFrame& a, const AVFrame& b) {
  return Compare(CopyLuma(a), CopyLuma(b));
}

struct QualityMeter::State {
  std::string what;
  CodecContextPtr decoder;
  FramePtr decoded;
  AVRational time_base{1, 1000};
  std::map<int64_t, Luma> waiting;  // by pts: sent, not yet decoded back
  int depth = 8;
  int64_t frames = 0;
  double squared_sum = 0, ssim_sum = 0;
  struct Second {
    double mse = 0, ssim = 0;
    int64_t frames = 0;
  };
  std::vector<Second> seconds;

  Status Receive() {
    for (;;) {
      const int rc = avcodec_receive_frame(decoder.get(), decoded.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status();
      if (rc < 0) return Status();  // a picture that does not decode is not compared
      FrameUnrefGuard unref(decoded.get());
      const int64_t pts = decoded->best_effort_timestamp;
      auto it = waiting.find(pts);
      if (it == waiting.end()) continue;
      const PictureQuality q = Compare(it->second, CopyLuma(*decoded));
      depth = it->second.depth;
      // Pictures older than this one will not come back (a dropped frame).
      waiting.erase(waiting.begin(), std::next(it));
      ++frames;
      squared_sum += q.mse;
      ssim_sum += q.ssim;
      const double t = static_cast<double>(pts) * av_q2d(time_base);
      if (t >= 0 && t < 48 * 3600) {
        const auto second = static_cast<size_t>(t);
        if (seconds.size() <= second) seconds.resize(second + 1);
        seconds[second].mse += q.mse;
        seconds[second].ssim += q.ssim;
        ++seconds[second].frames;
      }
    }
  }
};

QualityMeter::QualityMeter(std::unique_ptr<State> state) : s_(std::move(state)) {}
QualityMeter::~QualityMeter() = default;

Result<std::unique_ptr<QualityMeter>> QualityMeter::Create(const AVCodecContext& encoder,
                                                           const std::string& what) {
  auto s = std::make_unique<State>();
  s->what = what;
  s->time_base = encoder.time_base;
  const AVCodec* codec = avcodec_find_decoder(encoder.codec_id);
  if (codec == nullptr) {
    return Internal(std::string("the FFmpeg build has no decoder for ") +
                    avcodec_get_name(encoder.codec_id));
  }
  s->decoder.reset(avcodec_alloc_context3(codec));
  s->decoded.reset(av_frame_alloc());
  if (!s->decoder || !s->decoded) return ResourceExhausted("out of memory");
  AVCodecParameters* par = avcodec_parameters_alloc();
  if (par == nullptr) return ResourceExhausted("out of memory");
  int rc = avcodec_parameters_from_context(par, &encoder);
  if (rc >= 0) rc = avcodec_parameters_to_context(s->decoder.get(), par);
  avcodec_parameters_free(&par);
  if (rc < 0) return AvError(rc, "set up the quality check of", what);
  s->decoder->pkt_timebase = encoder.time_base;
  s->decoder->thread_count = 1;  // the rendition's own lane
  if ((rc = avcodec_open2(s->decoder.get(), codec, nullptr)) < 0) {
    return AvError(rc, "set up the quality check of", what);
  }
  return std::unique_ptr<QualityMeter>(new QualityMeter(std::move(s)));
}

Status QualityMeter::Sent(const AVFrame& picture) {
  s_->waiting[picture.pts] = CopyLuma(picture);
  return Status();
}

Status QualityMeter::Made(const AVPacket* packet) {
  const int rc = avcodec_send_packet(s_->decoder.get(), packet);
  if (rc < 0 && rc != AVERROR_EOF && rc != AVERROR(EAGAIN)) {
    return Status();  // not comparable; the rendition's own checks judge it
  }
  return s_->Receive();
}

QualityFigures QualityMeter::Figures() const {
  QualityFigures f;
  f.frames = s_->frames;
  if (s_->frames > 0) {
    f.psnr = Psnr(s_->squared_sum / static_cast<double>(s_->frames), s_->depth);
    f.ssim = s_->ssim_sum / static_cast<double>(s_->frames);
  }
  for (const auto& second : s_->seconds) {
    if (second.frames == 0) {
      f.psnr_per_second.emplace_back();
      f.ssim_per_second.emplace_back();
      continue;
    }
    const auto n = static_cast<double>(second.frames);
    f.psnr_per_second.emplace_back(Rounded(Psnr(second.mse / n, s_->depth)));
    f.ssim_per_second.emplace_back(Rounded(second.ssim / n));
  }
  return f;
}

}  // namespace vidgate::media
