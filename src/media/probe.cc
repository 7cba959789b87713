#include "media/probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "media/av.h"

namespace vidgate::media {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string StreamType(AVMediaType type) {
  switch (type) {
    case AVMEDIA_TYPE_VIDEO:
      return "video";
    case AVMEDIA_TYPE_AUDIO:
      return "audio";
    case AVMEDIA_TYPE_SUBTITLE:
      return "subtitle";
    default:
      return "data";  // data, attachment, unknown
  }
}

bool IsSet(AVRational r) { return r.num != 0 && r.den != 0; }

StreamInfo DescribeStream(const AVStream& st) {
  const AVCodecParameters& par = *st.codecpar;
  StreamInfo info;
  info.index = st.index;
  info.type = StreamType(par.codec_type);
  const AVCodecDescriptor* desc = avcodec_descriptor_get(par.codec_id);
  info.codec = desc != nullptr ? desc->name : "unknown";
  if (st.duration != AV_NOPTS_VALUE && IsSet(st.time_base)) {
    info.duration = static_cast<double>(st.duration) * av_q2d(st.time_base);
  }
  if (par.codec_type == AVMEDIA_TYPE_VIDEO) {
    if (par.width > 0) info.width = par.width;
    if (par.height > 0) info.height = par.height;
    if (IsSet(st.avg_frame_rate)) {
      info.frame_rate = av_q2d(st.avg_frame_rate);
    } else if (IsSet(st.r_frame_rate)) {
      info.frame_rate = av_q2d(st.r_frame_rate);
    }
    const AVRational sar =
        IsSet(st.sample_aspect_ratio) ? st.sample_aspect_ratio : par.sample_aspect_ratio;
    if (IsSet(sar) && av_q2d(sar) > 0.1 && av_q2d(sar) < 10) info.sample_aspect_ratio = av_q2d(sar);
    size_t size = 0;
    const uint8_t* matrix = av_stream_get_side_data(&st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (matrix != nullptr && size >= 9 * sizeof(int32_t)) {
      // av_display_rotation_get turns counterclockwise; the nearest quarter
      // turn, clockwise, as ffmpeg's own autorotation reads it.
      const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
      if (!std::isnan(ccw))
        info.rotation = (static_cast<int>(std::lround(-ccw / 90)) % 4 + 4) % 4 * 90;
    }
    const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par.format));
    if (pix != nullptr) info.pix_fmt = pix;
  } else if (par.codec_type == AVMEDIA_TYPE_AUDIO) {
    if (par.sample_rate > 0) info.sample_rate = par.sample_rate;
    if (par.ch_layout.nb_channels > 0) info.channels = par.ch_layout.nb_channels;
  }
  return info;
}

}  // namespace

nlohmann::json ProbeResult::ToJson() const {
  nlohmann::json streams_json = nlohmann::json::array();
  for (const StreamInfo& s : streams) {
    streams_json.push_back({
        {"index", s.index},
        {"type", s.type},
        {"codec", s.codec},
        {"width", OrNull(s.width)},
        {"height", OrNull(s.height)},
        {"frame_rate", OrNull(s.frame_rate)},
        {"pix_fmt", OrNull(s.pix_fmt)},
        {"sample_rate", OrNull(s.sample_rate)},
        {"channels", OrNull(s.channels)},
        {"duration", OrNull(s.duration)},
    });
  }
  return {
      {"format",
       {
           {"name", format.name},
           {"duration", OrNull(format.duration)},
           {"bit_rate", OrNull(format.bit_rate)},
           {"size", format.size},
       }},
      {"streams", std::move(streams_json)},
  };
}

bool ProbeResult::HasVideo() const {
  return std::any_of(streams.begin(), streams.end(),
                     [](const StreamInfo& s) { return s.type == "video"; });
}

bool ProbeResult::HasAudio() const {
  return std::any_of(streams.begin(), streams.end(),
                     [](const StreamInfo& s) { return s.type == "audio"; });
}

Result<ProbeResult> Probe(const std::string& path) {
  VG_ASSIGN_OR_RETURN(InputFormatPtr input, OpenMediaInput(path));

  ProbeResult result;
  result.format.name = input->iformat->name;
  result.format.duration_estimated =
      input->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
  if (input->duration != AV_NOPTS_VALUE) {
    result.format.duration = static_cast<double>(input->duration) / AV_TIME_BASE;
  }
  if (input->bit_rate > 0) result.format.bit_rate = input->bit_rate;
  int64_t size = input->pb != nullptr ? avio_size(input->pb) : -1;
  if (size < 0) {
    struct stat st {};
    size = ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }
  result.format.size = size;

  result.streams.reserve(input->nb_streams);
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    result.streams.push_back(DescribeStream(*input->streams[i]));
  }
  return result;
}

}  // namespace vidgate::media
