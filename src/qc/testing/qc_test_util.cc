#include "qc/testing/qc_test_util.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
}

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <sstream>

#include "media/media_test_util.h"

namespace vidgate::qc::testing {

using media::testing::RunCommand;
using media::testing::RunFfmpeg;
using media::testing::ScratchPath;

std::string MakeFixture(const std::string& name, const std::string& args) {
  const std::string path = ScratchPath(name);
  const std::string err = RunFfmpeg(args, path);
  if (!err.empty()) ADD_FAILURE() << err;
  return path;
}

std::string MainFixture() {
  static const std::string path = MakeFixture(
      "main.mp4",
      "-filter_complex \"testsrc2=s=320x240:r=24:d=12,split[a][b];"
      "[a][b]freezeframes=first=168:last=239:replace=168,"
      "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,3)*lt(t,5.5)'[v];"
      "aevalsrc='0.1*sin(2*PI*440*t)*(1-between(t,6,9))|"
      "0.1*sin(2*PI*660*t)*(1-between(t,6,9))':s=48000:d=12[a]\" "
      "-map [v] -map [a] -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k");
  return path;
}

media::DecodeStats Decode(const std::string& path, const std::vector<media::FrameSink*>& sinks) {
  Result<media::DecodeStats> stats = media::DecodePass(path, sinks, media::DecodeOptions{});
  if (!stats.ok()) {
    ADD_FAILURE() << "decode pass over " << path << ": " << stats.status().ToString();
    return {};
  }
  return *stats;
}

std::string FfmpegLog(const std::string& path, const std::string& args) {
  const std::string command =
      "ffmpeg -nostdin -hide_banner -nostats -i '" + path + "' " + args + " -f null - 2>&1";
  int code = 0;
  std::string out = RunCommand(command, &code);
  if (code != 0) ADD_FAILURE() << "`" << command << "` failed (" << code << "): " << out;
  return out;
}

std::vector<LogValue> FindValues(const std::string& log, const std::vector<std::string>& keys) {
  std::vector<std::pair<size_t, LogValue>> found;  // (position, value)
  for (size_t k = 0; k < keys.size(); ++k) {
    for (size_t at = log.find(keys[k]); at != std::string::npos; at = log.find(keys[k], at + 1)) {
      const char* begin = log.c_str() + at + keys[k].size();
      char* end = nullptr;
      const double v = std::strtod(begin, &end);
      if (end != begin) found.push_back({at, LogValue{k, v}});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<LogValue> out;
  for (const auto& [at, v] : found) out.push_back(v);
  return out;
}

namespace {
// Pairs start (key 0) and end (key 1) values into segments; a start without
// an end ends at `open_end` when given.
std::vector<Segment> PairSegments(const std::vector<LogValue>& values,
                                  std::optional<double> open_end) {
  std::vector<Segment> out;
  double start = 0;
  bool open = false;  // (std::optional trips g++ 12's -Wmaybe-uninitialized here)
  for (const LogValue& v : values) {
    if (v.key == 0) {
      start = v.value;
      open = true;
    } else if (open) {
      out.push_back(Segment{start, v.value});
      open = false;
    }
  }
  if (open && open_end.has_value()) out.push_back(Segment{start, *open_end});
  return out;
}
}  // namespace

std::vector<Segment> ParseBlackdetect(const std::string& log) {
  return PairSegments(FindValues(log, {"black_start:", "black_end:"}), std::nullopt);
}

std::vector<Segment> ParseFreezedetect(const std::string& log, double stream_end) {
  return PairSegments(FindValues(log, {"freezedetect.freeze_start:", "freezedetect.freeze_end:"}),
                      stream_end);
}

std::vector<Segment> ParseSilencedetect(const std::string& log) {
  return PairSegments(FindValues(log, {"silence_start:", "silence_end:"}), std::nullopt);
}

std::optional<Ebur128Summary> ParseEbur128Summary(const std::string& log) {
  const size_t summary = log.rfind("Summary:");
  if (summary == std::string::npos) return std::nullopt;
  const std::vector<LogValue> values = FindValues(log.substr(summary), {"I:", "LRA:", "Peak:"});
  std::optional<double> found[3];
  for (const LogValue& v : values) {
    if (!found[v.key].has_value()) found[v.key] = v.value;
  }
  if (!found[0] || !found[1] || !found[2]) return std::nullopt;
  return Ebur128Summary{*found[0], *found[1], *found[2]};
}

double MaxSegmentError(const std::vector<Segment>& a, const std::vector<Segment>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double err = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    err = std::max({err, std::fabs(a[k].start - b[k].start), std::fabs(a[k].end - b[k].end)});
  }
  return err;
}

std::string ToString(const std::vector<Segment>& segments) {
  std::ostringstream out;
  out << "[";
  for (size_t k = 0; k < segments.size(); ++k) {
    out << (k > 0 ? ", " : "") << segments[k].start << "-" << segments[k].end;
  }
  out << "]";
  return out.str();
}

void ReportAgreement(const std::string& what, const std::string& text) {
  std::cout << "[agreement] " << what << ": " << text << std::endl;
}

media::FramePtr MakeVideoFrame(AVPixelFormat format, int width, int height,
                               const std::function<int(int, int, int)>& value) {
  media::FramePtr frame(av_frame_alloc());
  frame->format = format;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame.get(), 0) < 0) {
    ADD_FAILURE() << "av_frame_get_buffer failed";
    return frame;
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  const int bytes = desc->comp[0].depth > 8 ? 2 : 1;
  const int planes = av_pix_fmt_count_planes(format);
  for (int p = 0; p < planes; ++p) {
    const bool chroma = p == 1 || p == 2;
    const int w = chroma ? AV_CEIL_RSHIFT(width, desc->log2_chroma_w) : width;
    const int h = chroma ? AV_CEIL_RSHIFT(height, desc->log2_chroma_h) : height;
    for (int y = 0; y < h; ++y) {
      uint8_t* row = frame->data[p] + static_cast<ptrdiff_t>(y) * frame->linesize[p];
      for (int x = 0; x < w; ++x) {
        const int v = value(p, x, y);
        if (bytes == 1) {
          row[x] = static_cast<uint8_t>(v);
        } else {
          reinterpret_cast<uint16_t*>(row)[x] = static_cast<uint16_t>(v);
        }
      }
    }
  }
  return frame;
}

namespace {
template <typename T>
T FromFullScale(double v, double scale) {
  const double x = std::round(v * scale);
  const double lo = static_cast<double>(std::numeric_limits<T>::min());
  const double hi = static_cast<double>(std::numeric_limits<T>::max());
  return static_cast<T>(std::clamp(x, lo, hi));
}

void Store(AVSampleFormat packed, uint8_t* base, size_t index, double v) {
  switch (packed) {
    case AV_SAMPLE_FMT_U8:
      base[index] = static_cast<uint8_t>(std::clamp(std::lround(v * 128) + 128, 0L, 255L));
      break;
    case AV_SAMPLE_FMT_S16:
      reinterpret_cast<int16_t*>(base)[index] = FromFullScale<int16_t>(v, 32768.0);
      break;
    case AV_SAMPLE_FMT_S32:
      reinterpret_cast<int32_t*>(base)[index] = FromFullScale<int32_t>(v, 2147483648.0);
      break;
    case AV_SAMPLE_FMT_S64:
      reinterpret_cast<int64_t*>(base)[index] =
          static_cast<int64_t>(std::clamp(v, -1.0, 0.999999) * 9223372036854775808.0);
      break;
    case AV_SAMPLE_FMT_FLT:
      reinterpret_cast<float*>(base)[index] = static_cast<float>(v);
      break;
    case AV_SAMPLE_FMT_DBL:
      reinterpret_cast<double*>(base)[index] = v;
      break;
    default:
      ADD_FAILURE() << "unexpected sample format";
  }
}
}  // namespace

media::FramePtr MakeAudioFrame(AVSampleFormat format, int channels, int sample_rate,
                               const std::vector<double>& interleaved) {
  media::FramePtr frame(av_frame_alloc());
  frame->format = format;
  frame->sample_rate = sample_rate;
  frame->nb_samples = static_cast<int>(interleaved.size() / static_cast<size_t>(channels));
  av_channel_layout_default(&frame->ch_layout, channels);
  if (av_frame_get_buffer(frame.get(), 0) < 0) {
    ADD_FAILURE() << "av_frame_get_buffer failed";
    return frame;
  }
  const bool planar = av_sample_fmt_is_planar(format) != 0;
  const AVSampleFormat packed = av_get_packed_sample_fmt(format);
  for (int i = 0; i < frame->nb_samples; ++i) {
    for (int c = 0; c < channels; ++c) {
      const double v = interleaved[static_cast<size_t>(i) * channels + c];
      if (planar) {
        Store(packed, frame->extended_data[c], static_cast<size_t>(i), v);
      } else {
        Store(packed, frame->extended_data[0], static_cast<size_t>(i) * channels + c, v);
      }
    }
  }
  return frame;
}

}  // namespace vidgate::qc::testing
