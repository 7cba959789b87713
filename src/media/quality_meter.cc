#include "media/quality_meter.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <immintrin.h>

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

// Integer sums of a 4x4 block of each picture: samples, products, squares.
struct BlockSums {
  int64_t a = 0, b = 0, ab = 0, squares = 0;
};

// The sums of one row into its blocks (null past the last whole block row)
// and its squared error, from column `from` on.
template <typename Sample>
int64_t RowSums(const Sample* ra, const Sample* rb, int from, int w, int bw, BlockSums* row) {
  int64_t squared = 0;
  for (int x = from; x < w; ++x) {
    const int64_t va = ra[x], vb = rb[x];
    squared += (va - vb) * (va - vb);
    if (row != nullptr && x / 4 < bw) {
      BlockSums& k = row[x / 4];
      k.a += va;
      k.b += vb;
      k.ab += va * vb;
      k.squares += va * va + vb * vb;
    }
  }
  return squared;
}

#define VIDGATE_AVX2 __attribute__((target("avx2")))

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// Four rows of 8-bit samples, 16 columns (four blocks) at a time up to
// `x_end` (a multiple of 16): each block's sums into `blocks`; returns the
// squared error. The same sums as RowSums, in 16-bit lanes multiplied and
// added in pairs (madd), a block being two pairs over four rows.
VIDGATE_AVX2 int64_t StripSums8Avx2(const uint8_t* a, size_t stride_a, const uint8_t* b,
                                    size_t stride_b, int x_end, BlockSums* blocks) {
  const __m256i ones = _mm256_set1_epi16(1);
  int64_t squared = 0;
  alignas(32) int32_t sa[8], sb[8], sab[8], ss[8], sd[8];
  for (int x = 0; x < x_end; x += 16) {
    __m256i acc_a = _mm256_setzero_si256(), acc_b = acc_a, acc_ab = acc_a, acc_ss = acc_a,
            acc_d = acc_a;
    for (int r = 0; r < 4; ++r) {
      const __m256i va = _mm256_cvtepu8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + r * stride_a + x)));
      const __m256i vb = _mm256_cvtepu8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + r * stride_b + x)));
      const __m256i vd = _mm256_sub_epi16(va, vb);
      acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(va, ones));
      acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(vb, ones));
      acc_ab = _mm256_add_epi32(acc_ab, _mm256_madd_epi16(va, vb));
      acc_ss = _mm256_add_epi32(
          acc_ss, _mm256_add_epi32(_mm256_madd_epi16(va, va), _mm256_madd_epi16(vb, vb)));
      acc_d = _mm256_add_epi32(acc_d, _mm256_madd_epi16(vd, vd));
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(sa), acc_a);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sb), acc_b);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sab), acc_ab);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ss), acc_ss);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sd), acc_d);
    BlockSums* k = blocks + x / 4;
    for (int i = 0; i < 4; ++i) {
      k[i].a += sa[2 * i] + sa[2 * i + 1];
      k[i].b += sb[2 * i] + sb[2 * i + 1];
      k[i].ab += sab[2 * i] + sab[2 * i + 1];
      k[i].squares += ss[2 * i] + ss[2 * i + 1];
      squared += sd[2 * i] + sd[2 * i + 1];
    }
  }
  return squared;
}

template <typename Sample>
PictureQuality CompareSamples(const Luma& la, const Luma& lb) {
  PictureQuality q;
  const int w = std::min(la.width, lb.width), h = std::min(la.height, lb.height);
  if (w < 8 || h < 8) return q;  // not one SSIM window: not measured
  q.measured = true;
  const auto* a = reinterpret_cast<const Sample*>(la.bytes.data());
  const auto* b = reinterpret_cast<const Sample*>(lb.bytes.data());
  const auto stride_a = static_cast<size_t>(la.width), stride_b = static_cast<size_t>(lb.width);
  // One sweep: the squared error of every sample, and the 4x4 block sums
  // SSIM is made of (8x8 windows stepping 4 pixels: four blocks each).
  const int bw = w / 4, bh = h / 4;
  std::vector<BlockSums> blocks(static_cast<size_t>(bw) * static_cast<size_t>(bh));
  int64_t squared = 0;
  const bool simd = sizeof(Sample) == 1 && HasAvx2();
  const int x_end = simd ? bw * 4 / 16 * 16 : 0;
  for (int y = 0; y < h; ++y) {
    BlockSums* row = y / 4 < bh ? blocks.data() + static_cast<size_t>(y / 4) * bw : nullptr;
    const Sample* ra = a + static_cast<size_t>(y) * stride_a;
    const Sample* rb = b + static_cast<size_t>(y) * stride_b;
    int from = 0;
    if (row != nullptr && x_end > 0) {
      if (y % 4 == 0) {
        if constexpr (sizeof(Sample) == 1) {
          squared += StripSums8Avx2(ra, stride_a, rb, stride_b, x_end, row);
        }
      }
      from = x_end;
    }
    squared += RowSums(ra, rb, from, w, bw, row);
  }
  q.mse = static_cast<double>(squared) / (static_cast<double>(w) * h);
  if (bw < 2 || bh < 2) return q;
  const double max = static_cast<double>((1 << la.depth) - 1);
  // The stabilising constants as x264 and ffmpeg scale them for sums of 64.
  const double c1 = 0.01 * 0.01 * max * max * 64;
  const double c2 = 0.03 * 0.03 * max * max * 64 * 63;
  double total = 0;
  for (int by = 0; by + 1 < bh; ++by) {
    const BlockSums* top = blocks.data() + static_cast<size_t>(by) * bw;
    const BlockSums* bottom = top + bw;
    for (int bx = 0; bx + 1 < bw; ++bx) {
      const double sa =
          static_cast<double>(top[bx].a + top[bx + 1].a + bottom[bx].a + bottom[bx + 1].a);
      const double sb =
          static_cast<double>(top[bx].b + top[bx + 1].b + bottom[bx].b + bottom[bx + 1].b);
      const double sab =
          static_cast<double>(top[bx].ab + top[bx + 1].ab + bottom[bx].ab + bottom[bx + 1].ab);
      const double ss = static_cast<double>(top[bx].squares + top[bx + 1].squares +
                                            bottom[bx].squares + bottom[bx + 1].squares);
      // 64 samples a window: variances and covariance times 64².
      const double variances = ss * 64 - sa * sa - sb * sb;
      const double covariance = sab * 64 - sa * sb;
      total += (2 * sa * sb + c1) * (2 * covariance + c2) /
               ((sa * sa + sb * sb + c1) * (variances + c2));
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
      if (!q.measured) continue;
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
  // Two threads: a second decode of every picture is the figures' main
  // cost, and frame threads overlap it with the encoder's work.
  s->decoder->thread_count = 2;
  if ((rc = avcodec_open2(s->decoder.get(), codec, nullptr)) < 0) {
    return AvError(rc, "set up the quality check of", what);
  }
  return std::unique_ptr<QualityMeter>(new QualityMeter(std::move(s)));
}

Status QualityMeter::Sent(const AVFrame& picture) {
  // An encoder holds a few dozen pictures at most; a decoder that never
  // gives them back must not make this hold the whole video.
  constexpr size_t kMaxWaiting = 256;
  if (s_->waiting.size() >= kMaxWaiting) s_->waiting.erase(s_->waiting.begin());
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
