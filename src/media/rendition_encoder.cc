#include "media/rendition_encoder.h"

#include "media/codec_string.h"
#include "media/colour_convert.h"
#include "media/filter_chain.h"
#include "media/loudness_measure.h"
#include "media/loudness_normaliser.h"
#include "media/packet_spool.h"
#include "media/quality_meter.h"
#include "media/rendition_audio.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "common/util.h"
#include "media/av.h"

namespace vidgate::media {
namespace {

// Rounds down to even, so a size is never made larger than the source.
int Even(double v) { return std::max(2, static_cast<int>(v / 2) * 2); }

struct VideoCodecInfo {
  const char* name;     // the spec's name, also ffprobe's
  const char* encoder;  // libav encoder
  int max_crf;
};
constexpr std::array<VideoCodecInfo, 4> kVideoCodecs = {{{"h264", "libx264", 51},
                                                         {"hevc", "libx265", 51},
                                                         {"av1", "libsvtav1", 63},
                                                         {"vp9", "libvpx-vp9", 63}}};

const VideoCodecInfo* FindVideoCodec(const std::string& name) {
  for (const auto& c : kVideoCodecs) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

bool IsX26xPreset(const std::string& p) {
  static constexpr std::array<const char*, 10> kNames = {
      "ultrafast", "superfast", "veryfast", "faster",   "fast",
      "medium",    "slow",      "slower",   "veryslow", "placebo"};
  for (const char* n : kNames) {
    if (p == n) return true;
  }
  return false;
}

bool IsIntIn(const std::string& s, int lo, int hi) {
  if (s.empty() || s.size() > 3) return false;
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(s, &used);
  } catch (...) {
    return false;
  }
  return used == s.size() && v >= lo && v <= hi;
}

// An output file and the streams the encoders write into it.
struct Muxer {
  OutputFormatPtr ctx;
  AVStream* video = nullptr;
  AVStream* audio = nullptr;
  std::string path;
};

// Big-endian reads and writes in an MP4's bytes.
uint32_t Be32(const std::string& b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[at + 3])};
}
void PutBe32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
}

// The first box of `type` among those in [from, to) of `b`, as the span of
// its payload; nullopt when there is none.
std::optional<std::pair<size_t, size_t>> FindBox(const std::string& b, size_t from, size_t to,
                                                 const char* type) {
  for (size_t at = from; at + 8 <= to;) {
    const size_t size = Be32(b, at);
    if (size < 8 || at + size > to) return std::nullopt;
    if (b.compare(at + 4, 4, type) == 0) return std::pair{at + 8, at + size};
    at += size;
  }
  return std::nullopt;
}

// Writes the display matrix of a `rotation` (clockwise degrees) into the
// first track's header of the MP4 at `path`. FFmpeg 5.1's HLS muxer does not
// pass the stream's display matrix on to the init segment it writes.
Status SetFirstTrackRotation(const std::string& path, int rotation) {
  constexpr size_t kMaxInitBytes = 1 << 20;  // an init segment is a few KiB
  VG_ASSIGN_OR_RETURN(std::string b, ReadLocalFile(path, "read", kMaxInitBytes));
  if (b.size() >= kMaxInitBytes) return Internal(path + " is too large for an init segment");
  auto moov = FindBox(b, 0, b.size(), "moov");
  auto trak = moov ? FindBox(b, moov->first, moov->second, "trak") : std::nullopt;
  auto tkhd = trak ? FindBox(b, trak->first, trak->second, "tkhd") : std::nullopt;
  // After version/flags, times, track id, duration, and 16 bytes of
  // reserved, layer, group and volume fields.
  const size_t matrix_at = tkhd ? tkhd->first + (b[tkhd->first] == 1 ? 52 : 40) : 0;
  if (!tkhd || matrix_at + 36 > tkhd->second) {
    return Internal("no video track header in " + path + " to set its rotation in");
  }
  int32_t matrix[9];
  av_display_rotation_set(matrix, rotation);
  for (size_t i = 0; i < 9; ++i) PutBe32(b, matrix_at + 4 * i, static_cast<uint32_t>(matrix[i]));
  return WriteLocalFile(path, b);
}

// x265's HDR10 parameters for `c`'s static metadata: chromaticities in
// 0.00002 units, luminance in 0.0001 cd/m² (SMPTE ST 2086 as HEVC's SEI).
std::string X265HdrParams(const ColourInfo& c) {
  std::string out;
  if (const auto& m = c.mastering_display) {
    auto xy = [](double x, double y) {
      return fmt::format("({},{})", std::lround(x * 50000), std::lround(y * 50000));
    };
    out += ":hdr10=1:master-display=G" + xy(m->green_x, m->green_y) + "B" +
           xy(m->blue_x, m->blue_y) + "R" + xy(m->red_x, m->red_y) + "WP" +
           xy(m->white_x, m->white_y) +
           fmt::format("L({},{})", std::lround(m->max_luminance * 10000),
                       std::lround(m->min_luminance * 10000));
  }
  if (const auto& l = c.content_light_level) {
    out += fmt::format(":max-cll={},{}", l->max_content, l->max_average);
  }
  return out;
}

// SVT-AV1's: chromaticities and luminance as decimal numbers.
std::string SvtAv1HdrParams(const ColourInfo& c) {
  std::string out;
  if (const auto& m = c.mastering_display) {
    out += fmt::format(
        "mastering-display=G({:.5f},{:.5f})B({:.5f},{:.5f})R({:.5f},{:.5f})"
        "WP({:.5f},{:.5f})L({:.4f},{:.4f})",
        m->green_x, m->green_y, m->blue_x, m->blue_y, m->red_x, m->red_y, m->white_x, m->white_y,
        m->max_luminance, m->min_luminance);
  }
  if (const auto& l = c.content_light_level) {
    out += fmt::format("{}content-light={},{}", out.empty() ? "" : ":", l->max_content,
                       l->max_average);
  }
  return out;
}

}  // namespace

double TimelineOrigin(const ProbeResult& probe) {
  const StreamInfo* video = probe.VideoStream();
  const StreamInfo* audio = probe.AudioStream();
  if (!video) return audio ? audio->start_time : 0;
  if (audio && audio->start_time < video->start_time - 0.1) return audio->start_time;
  return video->start_time;
}

std::string DefaultPreset(const std::string& codec) {
  if (codec == "av1") return "10";
  if (codec == "vp9") return "6";
  return "veryfast";
}

Status CheckRenditionSpec(const RenditionSpec& spec) {
  const std::string where = "rendition '" + spec.name + "'";
  if (spec.name.empty() || spec.name.size() > 64 ||
      spec.name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos) {
    return InvalidArgument("rendition name '" + spec.name +
                           "' must be 1 to 64 letters, digits, '-' or '_'");
  }
  if (spec.name == "subtitles") {
    return InvalidArgument(
        "rendition name 'subtitles' is taken: the HLS subtitle playlists go in hls/subtitles/");
  }
  const VideoCodecInfo* codec = FindVideoCodec(spec.codec);
  if (!codec) {
    return InvalidArgument(where + ": codec '" + spec.codec +
                           "' is not one of h264, hevc, av1, vp9");
  }
  if (spec.max_height < 16 || spec.max_height > 4320 || spec.max_height % 2 != 0) {
    return InvalidArgument(where + ": height " + std::to_string(spec.max_height) +
                           " must be even and between 16 and 4320");
  }
  if (spec.crf < 0 || spec.crf > codec->max_crf) {
    return InvalidArgument(where + ": crf " + std::to_string(spec.crf) + " must be between 0 and " +
                           std::to_string(codec->max_crf) + " for " + spec.codec);
  }
  if (spec.bitrate < 0 || spec.bitrate > 1'000'000'000) {
    return InvalidArgument(where + ": bitrate must be between 0 and 1000000000 bits per second");
  }
  if (!spec.preset.empty()) {
    const bool ok = spec.codec == "av1"   ? IsIntIn(spec.preset, 0, 13)
                    : spec.codec == "vp9" ? IsIntIn(spec.preset, 0, 8)
                                          : IsX26xPreset(spec.preset);
    if (!ok) {
      return InvalidArgument(where + ": preset '" + spec.preset + "' is not one of " +
                             (spec.codec == "av1"   ? std::string("0 to 13 (SVT-AV1)")
                              : spec.codec == "vp9" ? std::string("0 to 8 (libvpx cpu-used)")
                                                    : std::string("ultrafast ... placebo")));
    }
  }
  if (spec.audio_codec != "aac" && spec.audio_codec != "opus") {
    return InvalidArgument(where + ": audio codec '" + spec.audio_codec +
                           "' is not one of aac, opus");
  }
  if (spec.audio_bitrate < 6000 || spec.audio_bitrate > 512000) {
    return InvalidArgument(where + ": audio_bitrate must be between 6000 and 512000");
  }
  if (spec.loudness_target && !(*spec.loudness_target >= -70 && *spec.loudness_target <= -5)) {
    return InvalidArgument(where + ": loudness_target must be between -70 and -5 LUFS");
  }
  if (spec.dynamic_range != "sdr" && spec.dynamic_range != "keep") {
    return InvalidArgument(where + ": dynamic_range '" + spec.dynamic_range +
                           "' is not one of sdr, keep");
  }
  if (spec.dynamic_range == "keep" && spec.codec != "hevc" && spec.codec != "av1") {
    return InvalidArgument(where + ": dynamic_range keep needs codec hevc or av1 (10-bit); " +
                           spec.codec + " renditions are SDR");
  }
  if (spec.min_ssim && !(*spec.min_ssim >= 0 && *spec.min_ssim <= 1)) {
    return InvalidArgument(where + ": min_ssim must be between 0 and 1");
  }
  if (spec.min_ssim && !spec.quality_figures) {
    return InvalidArgument(where + ": min_ssim needs quality_figures");
  }
  if (spec.audio_tracks != "one" && spec.audio_tracks != "all") {
    return InvalidArgument(where + ": audio_tracks '" + spec.audio_tracks +
                           "' is not one of one, all");
  }
  if (!(spec.true_peak_limit >= -9 && spec.true_peak_limit <= 0)) {
    return InvalidArgument(where + ": true_peak_limit must be between -9 and 0 dBTP");
  }
  return Status();
}

struct RenditionEncoder::State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() = default;

  std::string path;
  std::vector<Muxer> muxers;  // the MP4, then the HLS playlist if any
  CodecContextPtr venc;
  SwsContextPtr sws;
  // The conversion `sws` was last set to (a new context starts at BT.601).
  const SwsContext* sws_for = nullptr;
  std::array<int, 3> sws_input{};  // width, height, format
  AVColorSpace sws_matrix = AVCOL_SPC_UNSPECIFIED;
  bool sws_full_range = false;
  // The pictures (width, height, format) zimg refused: swscale takes those.
  std::optional<std::array<int, 3>> zscale_refused;
  // A picture geometry zimg takes only once scaled to the rendition's size.
  std::optional<std::array<int, 3>> zscale_prescaled;
  bool keep_hdr = false;                    // dynamic_range keep, of an HDR source
  std::unique_ptr<QualityMeter> quality;    // what the encoder made of the pictures
  std::optional<ColourInfo> stream_colour;  // the probe's, for what frames leave unsaid
  std::unique_ptr<FilterChain> converter;   // zscale, for pictures not BT.709 SDR
  FramePtr to_convert, converted_picture;
  std::unique_ptr<FilterChain> deinterlacer;  // from the first interlaced picture on
  FramePtr to_deinterlace, deinterlaced;
  int rotation = 0;     // clockwise degrees for display, as the source's
  std::string hls_dir;  // where the HLS variant goes, if any
  FramePtr scaled;
  FramePtr passthrough;  // a reference to a decoded frame sent as is
  PacketPtr pkt, copy;
  int64_t last_video_pts = -1;
  int64_t video_frame_ticks = 40;         // in the video encoder's 1/1000 time base
  std::unique_ptr<RenditionAudio> audio;  // null without sound
  // The rendition's timeline starts where the source's pictures start (or
  // its sound, when that starts well before): the pictures' times are
  // shifted by their start's distance from there (the sound's likewise).
  double video_shift = 0;
  double frame_rate = 0;
  bool finished = false;
  std::atomic<bool> abandoned{false};  // Abandon(): a loudness pass stops

  // Loudness normalisation (RenditionSpec::loudness_target): the pass
  // measures the rendition's sound (`measuring`) and muxes the video alone
  // into `video_temp`; Finish decodes the sound again, normalises and
  // encodes it, and muxes it with the video read back into the outputs.
  std::optional<LoudnessTarget> loudness_target;
  RenditionSource source;
  HlsOutput hls_out;
  bool tag_hvc1 = false;   // HEVC: tagged hvc1 for Apple's players
  bool measuring = false;  // the pass measures the sound
  std::unique_ptr<LoudnessMeasure> before, after, trial;
  std::optional<LoudnessFigures> figures_before, figures_after;
  bool normalised = false, linear = false;
  std::unique_ptr<PacketSpool> spool;  // the encoded video, PATH.video.spool
  bool spooling = false;               // video packets go to the spool
  bool replay = false;                 // video packets still come from the spool
  PacketPtr replay_pkt;
  bool replay_pending = false;  // replay_pkt holds a packet not written yet

  // Sends a picture (null = drain) to the video encoder and writes out its
  // packets (to the spool while the sound is being measured).
  Status WriteVideo(const AVFrame* frame) {
    AVCodecContext* enc = venc.get();
    if (frame != nullptr && quality) VG_RETURN_IF_ERROR(quality->Sent(*frame));
    int rc = avcodec_send_frame(enc, frame);
    if (rc < 0 && rc != AVERROR_EOF) return AvError(rc, "encode rendition", path);
    for (;;) {
      rc = avcodec_receive_packet(enc, pkt.get());
      if (rc == AVERROR(EAGAIN)) return Status();
      if (rc == AVERROR_EOF) return quality ? quality->Made(nullptr) : Status();
      if (rc < 0) return AvError(rc, "encode rendition", path);
      if (quality) VG_RETURN_IF_ERROR(quality->Made(pkt.get()));
      // A frame's duration, so the MP4 edit list does not cut the last one.
      if (pkt->duration == 0) pkt->duration = video_frame_ticks;
      if (spooling) {  // the video waits for its sound
        Status kept = spool->Append(*pkt);
        av_packet_unref(pkt.get());
        VG_RETURN_IF_ERROR(kept);
        continue;
      }
      VG_RETURN_IF_ERROR(Fanout(*pkt, enc->time_base, /*is_video=*/true));
    }
  }

  // An audio packet: the video read back goes first, up to where it is.
  Status WriteAudio(AVPacket& packet) {
    const AVRational tb = audio->codec().time_base;
    if (replay) {
      const int64_t ts = packet.dts == AV_NOPTS_VALUE ? packet.pts : packet.dts;
      VG_RETURN_IF_ERROR(ReplayVideoUntil(static_cast<double>(ts) * av_q2d(tb)));
    }
    return Fanout(packet, tb, /*is_video=*/false);
  }

  // Writes `packet` (in time base `tb`) to every muxer; it is left blank.
  Status Fanout(AVPacket& packet, AVRational tb, bool is_video) {
    for (size_t i = 0; i < muxers.size(); ++i) {
      Muxer& m = muxers[i];
      AVStream* stream = is_video ? m.video : m.audio;
      // The last muxer takes the packet itself; the others a reference.
      AVPacket* p = &packet;
      int rc = 0;
      if (i + 1 < muxers.size()) {
        if ((rc = av_packet_ref(copy.get(), &packet)) < 0) return AvError(rc, "copy", path);
        p = copy.get();
      }
      av_packet_rescale_ts(p, tb, stream->time_base);
      p->stream_index = stream->index;
      rc = av_interleaved_write_frame(m.ctx.get(), p);
      av_packet_unref(p);
      if (rc < 0) return AvError(rc, "write rendition", m.path);
    }
    av_packet_unref(&packet);
    return Status();
  }

  // Encodes one picture at `pts` (milliseconds), scaled and converted to the
  // rendition's size and format unless it has them already.
  Status EncodePicture(const AVFrame& frame, int64_t pts) {
    AVCodecContext* c = venc.get();
    const PictureColour colour = ColourOfPicture(frame, stream_colour ? &*stream_colour : nullptr);
    // The rendition holds BT.709, limited range, SDR: pictures of another
    // matrix, range or an HDR curve go through zscale, or players would
    // show shifted colours (BT.601 green read as BT.709 turns yellowish) or
    // a grey, washed-out HDR picture.
    // Kept HDR is scaled only: the samples keep their matrix and curve.
    const bool sdr_bt709 = keep_hdr || colour.IsSdrWith(AVCOL_SPC_BT709);
    const std::array<int, 3> geometry{frame.width, frame.height, frame.format};
    if (!sdr_bt709 && zscale_refused != geometry) {
      Result<bool> got = ConvertPicture(frame, colour, pts);
      if (!got.ok() && got.status().code() != Code::kResourceExhausted &&
          zscale_prescaled != geometry) {
        // zimg refuses 4:2:0 pictures of an odd size: scaled to the
        // rendition's (even) size first, they convert and tone-map.
        zscale_prescaled = geometry;
        converter.reset();
        got = ConvertPicture(frame, colour, pts);
      }
      if (got.ok()) {
        if (!*got) return Status();
        converted_picture->pict_type = AV_PICTURE_TYPE_NONE;
        Status st = WriteVideo(converted_picture.get());
        av_frame_unref(converted_picture.get());
        return st;
      }
      if (got.status().code() == Code::kResourceExhausted) return got.status();
      // zimg refuses even that: swscale converts the matrix and range
      // instead (no tone mapping) for the rest.
      zscale_refused = geometry;
      converter.reset();
    }
    if (sdr_bt709 && frame.width == c->width && frame.height == c->height &&
        frame.format == c->pix_fmt) {
      // Already the size and format wanted: the decoded picture itself (a
      // reference, no copy). Its picture type is cleared, or the encoder
      // would copy the source's key frames.
      VG_RETURN_IF_ERROR(KeepFrame(passthrough, frame, "rendition"));
      passthrough->pict_type = AV_PICTURE_TYPE_NONE;
      passthrough->pts = pts;
      Status st = WriteVideo(passthrough.get());
      av_frame_unref(passthrough.get());
      return st;
    }
    sws.reset(sws_getCachedContext(sws.release(), frame.width, frame.height,
                                   static_cast<AVPixelFormat>(frame.format), c->width, c->height,
                                   c->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws) return InvalidArgument("cannot convert the video's pixel format for " + path);
    // To BT.709's coefficients (swscale's default is BT.601) from the
    // picture's: RGB, or YUV when zscale refused it.
    const AVColorSpace from = colour.rgb ? AVCOL_SPC_BT709 : colour.matrix;
    const bool full = colour.rgb || colour.full_range;
    // A context made anew (another size or format) may get the old one's
    // address: the conversion it was given is keyed on what it converts.
    const std::array<int, 3>& input = geometry;
    if (!keep_hdr && (sws.get() != sws_for || input != sws_input || from != sws_matrix ||
                      full != sws_full_range)) {
      sws_setColorspaceDetails(sws.get(), sws_getCoefficients(from), full ? 1 : 0,
                               sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
      sws_for = sws.get();
      sws_input = input;
      sws_matrix = from;
      sws_full_range = full;
    }
    int rc = av_frame_make_writable(scaled.get());
    if (rc < 0) return AvError(rc, "encode rendition", path);
    sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, scaled->data,
              scaled->linesize);
    scaled->pts = pts;
    return WriteVideo(scaled.get());
  }

  // Scales and converts `frame` of `colour` through zscale (one picture out
  // per picture in) into `converted_picture`; false when none came out.
  Result<bool> ConvertPicture(const AVFrame& frame, const PictureColour& colour, int64_t pts) {
    AVCodecContext* c = venc.get();
    if (converter && !converter->Fits(frame)) converter.reset();  // it holds no picture back
    if (!converter) {
      const std::array<int, 3> geometry{frame.width, frame.height, frame.format};
      const std::string prescale =
          zscale_prescaled == geometry
              ? fmt::format("scale=w={}:h={}:flags=bicubic,", c->width, c->height)
              : "";
      VG_ASSIGN_OR_RETURN(
          converter, FilterChain::Create(frame, prescale + SdrChain(colour, c->width, c->height),
                                         path, /*threads=*/0));
    }
    VG_RETURN_IF_ERROR(KeepFrame(to_convert, frame, "rendition"));
    to_convert->pts = pts;
    Status pushed = converter->Push(to_convert.get());
    av_frame_unref(to_convert.get());
    VG_RETURN_IF_ERROR(pushed);
    if (!converted_picture) {
      converted_picture.reset(av_frame_alloc());
      if (!converted_picture) return ResourceExhausted("out of memory");
    }
    return converter->Pull(converted_picture.get());
  }

  // Encodes what the deinterlacer has ready; with `flush`, all it holds.
  Status DrainDeinterlacer(bool flush) {
    if (flush) VG_RETURN_IF_ERROR(deinterlacer->Push(nullptr));
    if (!deinterlaced) {
      deinterlaced.reset(av_frame_alloc());
      if (!deinterlaced) return ResourceExhausted("out of memory");
    }
    for (;;) {
      VG_ASSIGN_OR_RETURN(bool got, deinterlacer->Pull(deinterlaced.get()));
      if (!got) return Status();
      Status st = EncodePicture(*deinterlaced, deinterlaced->pts);
      av_frame_unref(deinterlaced.get());
      VG_RETURN_IF_ERROR(st);
    }
  }

  Status OpenVideo(const RenditionSpec& spec, const StreamInfo& video, const HlsOutput& hls,
                   bool global_header) {
    const VideoCodecInfo* info = FindVideoCodec(spec.codec);
    const AVCodec* codec = avcodec_find_encoder_by_name(info->encoder);
    if (!codec)
      return Internal(std::string("the FFmpeg build has no ") + info->encoder + " encoder");
    venc.reset(avcodec_alloc_context3(codec));
    if (!venc) return ResourceExhausted("out of memory");
    AVCodecContext* c = venc.get();
    // Never upscale; keep the displayed aspect ratio, in square pixels (a
    // source of non-square ones is widened or narrowed); even sizes for 4:2:0.
    const int out_h = Even(std::min(*video.height, spec.max_height));
    const int out_w =
        Even(static_cast<double>(*video.width) * video.sample_aspect_ratio * out_h / *video.height);
    c->width = out_w;
    c->height = out_h;
    c->sample_aspect_ratio = AVRational{1, 1};
    stream_colour = video.colour;
    // RGB HDR (a graded master in gbrp10) has no YUV samples to keep: it is
    // tone-mapped like the rest.
    const bool rgb = video.pix_fmt && IsRgbPixelFormat(*video.pix_fmt);
    keep_hdr = spec.dynamic_range == "keep" && video.colour && video.colour->IsHdr() && !rgb;
    if (keep_hdr) {
      // HDR as the source has it: 10 bits, its tags (BT.2020 and PQ or HLG).
      const ColourInfo& hdr = *video.colour;
      c->pix_fmt = AV_PIX_FMT_YUV420P10LE;
      c->color_primaries =
          hdr.av_primaries != AVCOL_PRI_UNSPECIFIED ? hdr.av_primaries : AVCOL_PRI_BT2020;
      c->color_trc = hdr.av_transfer;
      c->colorspace = hdr.av_matrix != AVCOL_SPC_UNSPECIFIED && hdr.av_matrix != AVCOL_SPC_RGB
                          ? hdr.av_matrix
                          : AVCOL_SPC_BT2020_NCL;
      // The samples are kept, so is their range.
      c->color_range = hdr.av_range == AVCOL_RANGE_JPEG ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    } else {
      // What an SDR rendition holds, said in the bitstream and the container.
      c->pix_fmt = AV_PIX_FMT_YUV420P;
      c->color_primaries = AVCOL_PRI_BT709;
      c->color_trc = AVCOL_TRC_BT709;
      c->colorspace = AVCOL_SPC_BT709;
      c->color_range = AVCOL_RANGE_MPEG;
    }
    c->time_base = AVRational{1, 1000};
    if (video.frame_rate && *video.frame_rate > 0 && *video.frame_rate < 1000) {
      frame_rate = *video.frame_rate;
      c->framerate = av_d2q(frame_rate, 100000);
      video_frame_ticks = std::max<int64_t>(1, std::llround(1000 / frame_rate));
    }
    if (frame_rate <= 0) c->framerate = AVRational{25, 1};  // rate control needs one
    // HLS cuts segments at key frames: one at least every segment, each
    // closing its GOP so that segments decode on their own.
    if (!hls.dir.empty()) {
      c->gop_size = std::max(1, static_cast<int>(std::lround((frame_rate > 0 ? frame_rate : 25) *
                                                             hls.segment_seconds)));
      c->flags |= AV_CODEC_FLAG_CLOSED_GOP;
    }
    c->thread_count = 0;
    const std::string preset = spec.preset.empty() ? DefaultPreset(spec.codec) : spec.preset;
    const std::string crf = std::to_string(spec.crf);
    if (spec.bitrate > 0) c->bit_rate = spec.bitrate;
    if (spec.codec == "h264" || spec.codec == "hevc") {
      av_opt_set(c->priv_data, "preset", preset.c_str(), 0);
      if (spec.bitrate == 0) av_opt_set(c->priv_data, "crf", crf.c_str(), 0);
      if (spec.codec == "hevc") {
        std::string params = hls.dir.empty() ? "log-level=error" : "log-level=error:open-gop=0";
        if (keep_hdr) params += X265HdrParams(*video.colour);
        av_opt_set(c->priv_data, "x265-params", params.c_str(), 0);
      }
    } else if (spec.codec == "av1") {
      av_opt_set(c->priv_data, "preset", preset.c_str(), 0);
      if (spec.bitrate == 0) av_opt_set(c->priv_data, "crf", crf.c_str(), 0);
      if (keep_hdr) {
        const std::string params = SvtAv1HdrParams(*video.colour);
        if (!params.empty()) av_opt_set(c->priv_data, "svtav1-params", params.c_str(), 0);
      }
    } else {  // vp9
      av_opt_set(c->priv_data, "deadline", "good", 0);
      av_opt_set(c->priv_data, "cpu-used", preset.c_str(), 0);
      av_opt_set(c->priv_data, "row-mt", "1", 0);
      if (spec.bitrate == 0) av_opt_set(c->priv_data, "crf", crf.c_str(), 0);
    }
    if (global_header) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int rc = avcodec_open2(c, codec, nullptr); rc < 0) {
      return AvError(rc, std::string("open ") + info->encoder + " for", path);
    }
    scaled.reset(av_frame_alloc());
    if (!scaled) return ResourceExhausted("out of memory");
    scaled->format = c->pix_fmt;
    scaled->width = out_w;
    scaled->height = out_h;
    if (int rc = av_frame_get_buffer(scaled.get(), 0); rc < 0) return AvError(rc, "allocate", path);
    return Status();
  }

  // Writes the video read back from the spool to every muxer, up to
  // `seconds` (all of it for infinity).
  Status ReplayVideoUntil(double seconds) {
    const AVRational from = venc->time_base;
    for (;;) {
      if (!replay_pending) {
        VG_ASSIGN_OR_RETURN(bool got, spool->Next(replay_pkt.get()));
        if (!got) {
          replay = false;
          return Status();
        }
        replay_pending = true;
      }
      const int64_t ts = replay_pkt->dts == AV_NOPTS_VALUE ? replay_pkt->pts : replay_pkt->dts;
      if (ts != AV_NOPTS_VALUE && static_cast<double>(ts) * av_q2d(from) > seconds) {
        return Status();
      }
      replay_pending = false;
      VG_RETURN_IF_ERROR(Fanout(*replay_pkt, from, /*is_video=*/true));
    }
  }

  // Opens the rendition's outputs: the MP4 at `path` and the HLS playlist
  // if asked, each with the encoders' streams.
  Status OpenOutputs() {
    muxers.clear();
    muxers.emplace_back();
    muxers[0].path = path;
    if (!hls_out.dir.empty()) {
      muxers.emplace_back();
      muxers[1].path = hls_out.dir + "/index.m3u8";
    }
    for (size_t i = 0; i < muxers.size(); ++i) {
      Muxer& m = muxers[i];
      const bool is_hls = i == 1;
      AVFormatContext* raw = nullptr;
      int rc =
          avformat_alloc_output_context2(&raw, nullptr, is_hls ? "hls" : "mp4", m.path.c_str());
      if (rc < 0) return AvError(rc, "create rendition", m.path);
      m.ctx.reset(raw);
      VG_RETURN_IF_ERROR(AddStreams(m, tag_hvc1));
      AVDictionary* opts = nullptr;
      if (is_hls) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", hls_out.segment_seconds);
        av_dict_set(&opts, "hls_time", seconds, 0);
        av_dict_set(&opts, "hls_playlist_type", "vod", 0);
        av_dict_set(&opts, "hls_segment_type", "fmp4", 0);
        av_dict_set(&opts, "hls_fmp4_init_filename", "init.mp4", 0);
        hls_dir = hls_out.dir;
        av_dict_set(&opts, "hls_segment_filename", (hls_out.dir + "/%05d.m4s").c_str(), 0);
      } else {
        if ((rc = avio_open(&m.ctx->pb, m.path.c_str(), AVIO_FLAG_WRITE)) < 0) {
          return AvError(rc, "create", m.path);
        }
        av_dict_set(&opts, "movflags", "+faststart", 0);
      }
      rc = avformat_write_header(m.ctx.get(), &opts);
      av_dict_free(&opts);
      if (rc < 0) return AvError(rc, "write header of", m.path);
    }
    return Status();
  }

  // After the measuring pass: the video is in the spool; decodes the
  // source's sound again, normalises it (when it could be measured) and
  // muxes it with the video read back into the outputs.
  Status NormaliseAndMux() {
    figures_before = before->Figures();
    measuring = false;
    audio->MeasureInsteadOfEncoding(nullptr);
    const AVCodecContext& c = audio->codec();
    if (figures_before->integrated_lufs) {
      double correction = 0;
      VG_RETURN_IF_ERROR(MakeNormaliser(correction));
      if (!linear) {
        // A limiter takes loudness with the peaks it holds down: a trial
        // run measures how much, and the gain makes it up (a third decode
        // of the sound, only for such sounds).
        VG_ASSIGN_OR_RETURN(trial, LoudnessMeasure::Create(c.ch_layout.nb_channels, c.sample_rate));
        audio->MeasureNormalisedInsteadOfEncoding(trial.get());
        VG_RETURN_IF_ERROR(DecodeSoundAgain());
        audio->MeasureNormalisedInsteadOfEncoding(nullptr);
        const LoudnessFigures tried = trial->Figures();
        trial.reset();
        if (tried.integrated_lufs) {
          correction =
              std::clamp(loudness_target->integrated_lufs - *tried.integrated_lufs, -10.0, 10.0);
        }
        VG_RETURN_IF_ERROR(MakeNormaliser(correction));
      }
    }
    VG_ASSIGN_OR_RETURN(after, LoudnessMeasure::Create(c.ch_layout.nb_channels, c.sample_rate));
    audio->MeasureWhatIsEncoded(after.get());
    VG_RETURN_IF_ERROR(OpenOutputs());
    if (spool) {
      spooling = false;
      VG_RETURN_IF_ERROR(spool->Rewind());
      replay_pkt.reset(av_packet_alloc());
      if (!replay_pkt) return ResourceExhausted("out of memory");
      replay = true;
    }
    VG_RETURN_IF_ERROR(DecodeSoundAgain());
    VG_RETURN_IF_ERROR(audio->Flush(/*drain_encoder=*/true));
    if (replay) VG_RETURN_IF_ERROR(ReplayVideoUntil(std::numeric_limits<double>::infinity()));
    audio->MeasureWhatIsEncoded(nullptr);
    figures_after = after->Figures();
    return Status();
  }

  Status MakeNormaliser(double correction_db) {
    const AVCodecContext& c = audio->codec();
    VG_ASSIGN_OR_RETURN(
        std::unique_ptr<LoudnessNormaliser> n,
        LoudnessNormaliser::Create(c.sample_fmt, c.sample_rate, c.ch_layout, *figures_before,
                                   *loudness_target, correction_db, path));
    normalised = true;
    linear = n->linear();
    return audio->NormaliseWith(std::move(n));
  }

  // Decodes the source's sound alone (not the video) through the sound's
  // path from the top, up to the encoder (the caller drains it).
  Status DecodeSoundAgain() {
    audio->Restart();
    struct SoundSink final : FrameSink {
      RenditionAudio* audio;
      explicit SoundSink(RenditionAudio* a) : audio(a) {}
      Status OnAudioFrame(const AVFrame& frame, double time_seconds) override {
        return audio->Take(frame, time_seconds);
      }
    } sound(audio.get());
    DecodeOptions options = source.options;
    options.video = false;
    options.extra_audio_streams.clear();
    options.should_stop = [this, asked = source.options.should_stop] {
      return abandoned.load() || (asked && asked());
    };
    VG_RETURN_IF_ERROR(DecodePass(source.path, {&sound}, options).status());
    return audio->Flush(/*drain_encoder=*/false);
  }

  // The source's HDR10 static metadata on an output stream (MP4 writes it
  // as mdcv and clli boxes).
  Status AddHdrSideData(AVStream& st) const {
    if (const auto& m = stream_colour->mastering_display) {
      auto* d = reinterpret_cast<AVMasteringDisplayMetadata*>(av_stream_new_side_data(
          &st, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, sizeof(AVMasteringDisplayMetadata)));
      if (!d) return ResourceExhausted("out of memory");
      *d = AVMasteringDisplayMetadata{};
      const double xy[3][2] = {
          {m->red_x, m->red_y}, {m->green_x, m->green_y}, {m->blue_x, m->blue_y}};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 2; ++j) d->display_primaries[i][j] = av_d2q(xy[i][j], 50000);
      }
      d->white_point[0] = av_d2q(m->white_x, 50000);
      d->white_point[1] = av_d2q(m->white_y, 50000);
      d->min_luminance = av_d2q(m->min_luminance, 10000);
      d->max_luminance = av_d2q(m->max_luminance, 10000);
      d->has_primaries = d->has_luminance = 1;
    }
    if (const auto& l = stream_colour->content_light_level) {
      auto* d = reinterpret_cast<AVContentLightMetadata*>(av_stream_new_side_data(
          &st, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, sizeof(AVContentLightMetadata)));
      if (!d) return ResourceExhausted("out of memory");
      d->MaxCLL = static_cast<unsigned>(l->max_content);
      d->MaxFALL = static_cast<unsigned>(l->max_average);
    }
    return Status();
  }

  // Adds the encoders' streams to `m`.
  Status AddStreams(Muxer& m, bool hevc, bool with_audio = true) {
    const AVCodecContext* sound = audio && with_audio ? &audio->codec() : nullptr;
    for (const AVCodecContext* c : {static_cast<const AVCodecContext*>(venc.get()), sound}) {
      if (!c) continue;
      AVStream* st = avformat_new_stream(m.ctx.get(), nullptr);
      if (!st) return ResourceExhausted("out of memory");
      if (int rc = avcodec_parameters_from_context(st->codecpar, c); rc < 0) {
        return AvError(rc, "set up", m.path);
      }
      st->time_base = c->time_base;
      // Apple players want HEVC tagged hvc1 (parameter sets in the sample entry).
      if (c == venc.get() && hevc) st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
      if (c == venc.get() && keep_hdr) VG_RETURN_IF_ERROR(AddHdrSideData(*st));
      // Pictures stay as recorded; players turn them as the source said.
      if (c == venc.get() && rotation != 0) {
        auto* matrix = reinterpret_cast<int32_t*>(
            av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t)));
        if (!matrix) return ResourceExhausted("out of memory");
        av_display_rotation_set(matrix, rotation);
      }
      (c == venc.get() ? m.video : m.audio) = st;
    }
    return Status();
  }
};

RenditionEncoder::RenditionEncoder(std::unique_ptr<State> state) : s_(std::move(state)) {}
RenditionEncoder::~RenditionEncoder() = default;

int RenditionEncoder::width() const { return s_->venc ? s_->venc->width : 0; }
int RenditionEncoder::height() const { return s_->venc ? s_->venc->height : 0; }
double RenditionEncoder::frame_rate() const { return s_->venc ? s_->frame_rate : 0; }

std::optional<QualityFigures> RenditionEncoder::quality() const {
  if (!s_->quality) return std::nullopt;
  return s_->quality->Figures();
}

std::string RenditionEncoder::dynamic_range() const {
  if (!s_->venc) return "";
  if (!s_->keep_hdr) return "sdr";
  return s_->venc->color_trc == AVCOL_TRC_ARIB_STD_B67 ? "hlg" : "hdr10";
}

nlohmann::json RenditionEncoder::LoudnessJson() const {
  if (!s_->loudness_target || !s_->figures_before) return nullptr;
  const char* mode = !s_->normalised ? "untouched" : s_->linear ? "linear" : "limited";
  return {{"target", s_->loudness_target->integrated_lufs},
          {"true_peak_limit", s_->loudness_target->true_peak_dbtp},
          {"mode", mode},
          {"before", s_->figures_before->ToJson()},
          {"after", s_->figures_after ? s_->figures_after->ToJson() : nlohmann::json(nullptr)}};
}

std::string RenditionEncoder::video_codec() const {
  return s_->venc ? avcodec_get_name(s_->venc->codec_id) : "";
}
std::string RenditionEncoder::audio_codec() const {
  return s_->audio && s_->audio->frames_in() > 0 ? avcodec_get_name(s_->audio->codec().codec_id)
                                                 : "";
}

std::string RenditionEncoder::hls_codecs() const {
  std::string out;
  if (const AVCodecContext* v = s_->venc.get()) {
    out = VideoCodecString(*v, s_->frame_rate);
    if (out.empty()) return "";  // a partial list would hide the video from players
  }
  if (const AVCodecContext* a = s_->audio ? &s_->audio->codec() : nullptr;
      a && s_->audio->frames_in() > 0) {
    const std::string audio = AudioCodecString(*a);
    if (audio.empty()) return "";
    out += (out.empty() ? "" : ",") + audio;
  }
  return out;
}

Result<std::unique_ptr<RenditionEncoder>> RenditionEncoder::Create(const std::string& path,
                                                                   const RenditionSpec& spec,
                                                                   const ProbeResult& probe,
                                                                   const HlsOutput& hls,
                                                                   const RenditionSource& source) {
  VG_RETURN_IF_ERROR(CheckRenditionSpec(spec));
  auto s = std::make_unique<State>();
  s->path = path;
  s->pkt.reset(av_packet_alloc());
  s->copy.reset(av_packet_alloc());
  if (!s->pkt || !s->copy) return ResourceExhausted("out of memory");

  // The streams the decode pass takes.
  const StreamInfo* video = probe.VideoStream();
  const StreamInfo* audio = probe.AudioStream();
  if (video && !(video->width && video->height && *video->width > 0 && *video->height > 0)) {
    video = nullptr;
  }
  if (audio &&
      !(audio->sample_rate && audio->channels && *audio->sample_rate > 0 && *audio->channels > 0)) {
    audio = nullptr;
  }
  if (spec.sound_only && !audio) return InvalidArgument("no sound to encode into " + path);
  if (!video && !audio) return InvalidArgument("no stream to encode into " + path);
  // The timeline starts with the pictures, or with the sound when that
  // starts well before them; a further sound track's, where the rendition
  // it goes with starts.
  double audio_shift = 0;
  if (spec.timeline_origin && audio) {
    audio_shift = audio->start_time - *spec.timeline_origin;
  } else if (video && audio) {
    const double origin = TimelineOrigin(probe);
    s->video_shift = video->start_time - origin;
    audio_shift = audio->start_time - origin;
  }
  const double length = probe.PlayingSeconds();

  // Both MP4 and fMP4 HLS want the parameter sets out of band.
  if (spec.sound_only) video = nullptr;  // placed on the pictures' timeline, without them
  if (video) {
    s->rotation = video->rotation;
    VG_RETURN_IF_ERROR(s->OpenVideo(spec, *video, hls, /*global_header=*/true));
    if (spec.quality_figures) {
      VG_ASSIGN_OR_RETURN(s->quality, QualityMeter::Create(*s->venc, path));
    }
  }
  if (audio) {
    State* state = s.get();
    VG_ASSIGN_OR_RETURN(
        s->audio,
        RenditionAudio::Open(spec, *audio, audio_shift, length > 0 ? length + 1 : 48 * 3600.0, path,
                             [state](AVPacket& p) { return state->WriteAudio(p); }));
  }

  s->hls_out = hls;
  s->tag_hvc1 = spec.codec == "hevc";
  if (spec.loudness_target && s->audio) {
    if (source.path.empty()) {
      return InvalidArgument("rendition '" + spec.name +
                             "': loudness normalisation needs the source's path");
    }
    s->loudness_target = LoudnessTarget{*spec.loudness_target, spec.true_peak_limit};
    s->source = source;
    s->measuring = true;
    const AVCodecContext& c = s->audio->codec();
    VG_ASSIGN_OR_RETURN(s->before, LoudnessMeasure::Create(c.ch_layout.nb_channels, c.sample_rate));
    s->audio->MeasureInsteadOfEncoding(s->before.get());
    if (s->venc) {
      VG_ASSIGN_OR_RETURN(s->spool, PacketSpool::Create(path + ".video.spool"));
      s->spooling = true;
    }
  } else {
    VG_RETURN_IF_ERROR(s->OpenOutputs());
  }
  return std::unique_ptr<RenditionEncoder>(new RenditionEncoder(std::move(s)));
}

Status RenditionEncoder::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  if (!s_->venc || s_->finished) return Status();
  // Milliseconds, strictly increasing whatever the source's timestamps do.
  int64_t pts = std::llround((time_seconds + s_->video_shift) * 1000);
  if (pts <= s_->last_video_pts) pts = s_->last_video_pts + 1;
  s_->last_video_pts = pts;
  // From the first picture flagged interlaced on, every picture goes through
  // the deinterlacer (which lets progressive ones through as they are); a
  // change of size or format starts it anew.
  if (s_->deinterlacer && !s_->deinterlacer->Fits(frame)) {
    VG_RETURN_IF_ERROR(s_->DrainDeinterlacer(/*flush=*/true));
    s_->deinterlacer.reset();
  }
  if (!s_->deinterlacer && frame.interlaced_frame != 0) {
    VG_ASSIGN_OR_RETURN(s_->deinterlacer, FilterChain::Create(frame, kDeinterlace, s_->path));
  }
  if (!s_->deinterlacer) return s_->EncodePicture(frame, pts);
  // A reference of our own to stamp with the rendition's time; the
  // deinterlacer takes it over.
  VG_RETURN_IF_ERROR(KeepFrame(s_->to_deinterlace, frame, "rendition"));
  s_->to_deinterlace->pts = pts;
  Status pushed = s_->deinterlacer->Push(s_->to_deinterlace.get());
  av_frame_unref(s_->to_deinterlace.get());  // blank already, unless Push failed
  VG_RETURN_IF_ERROR(pushed);
  return s_->DrainDeinterlacer(/*flush=*/false);
}

Status RenditionEncoder::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  if (!s_->audio || s_->finished) return Status();
  return s_->audio->Take(frame, time_seconds);
}

void RenditionEncoder::Abandon() { s_->abandoned = true; }

bool RenditionEncoder::TakesVideo() const { return s_->venc != nullptr; }

bool RenditionEncoder::TakesAudio() const { return s_->audio != nullptr; }

Status RenditionEncoder::Finish() {
  if (s_->finished) return Status();
  s_->finished = true;
  if (s_->audio) VG_RETURN_IF_ERROR(s_->audio->Flush(/*drain_encoder=*/!s_->measuring));
  if (s_->deinterlacer) VG_RETURN_IF_ERROR(s_->DrainDeinterlacer(/*flush=*/true));
  if (s_->venc) VG_RETURN_IF_ERROR(s_->WriteVideo(nullptr));
  if (s_->measuring) {
    Status done = s_->NormaliseAndMux();
    s_->spool.reset();  // removes its file
    VG_RETURN_IF_ERROR(done);
  }
  for (Muxer& m : s_->muxers) {
    if (int rc = av_write_trailer(m.ctx.get()); rc < 0) return AvError(rc, "finish", m.path);
  }
  if (s_->venc && s_->rotation != 0 && !s_->hls_dir.empty()) {
    VG_RETURN_IF_ERROR(SetFirstTrackRotation(s_->hls_dir + "/init.mp4", s_->rotation));
  }
  return Status();
}

}  // namespace vidgate::media
