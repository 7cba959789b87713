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
#include "media/decode_pass.h"

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
  if (st.start_time != AV_NOPTS_VALUE && IsSet(st.time_base)) {
    info.start_time = static_cast<double>(st.start_time) * av_q2d(st.time_base);
  }
  if (st.duration != AV_NOPTS_VALUE && IsSet(st.time_base)) {
    info.duration = static_cast<double>(st.duration) * av_q2d(st.time_base);
  }
  // "und" is a tag that says there is none; anything but a short tag of
  // letters, digits and '-' is not one (the bytes come from the file).
  if (const AVDictionaryEntry* lang = av_dict_get(st.metadata, "language", nullptr, 0)) {
    const std::string_view tag(lang->value);
    const bool plain =
        !tag.empty() && tag.size() <= 16 && std::all_of(tag.begin(), tag.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        });
    if (plain && tag != "und") info.language = std::string(tag);
  }
  if (const AVDictionaryEntry* title = av_dict_get(st.metadata, "title", nullptr, 0)) {
    info.title = title->value;
  }
  info.attached_picture = (st.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
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
    info.colour = DescribeColour(st);
  } else if (par.codec_type == AVMEDIA_TYPE_AUDIO) {
    if (par.sample_rate > 0) info.sample_rate = par.sample_rate;
    if (par.ch_layout.nb_channels > 0) info.channels = par.ch_layout.nb_channels;
  }
  return info;
}

// HEVC and AV1 carry HDR10's static metadata (and HDR10+'s, Dolby Vision's
// dynamic metadata) in the bitstream: the first decoded frame of `index`
// completes `colour` with it. Best effort: a stream that does not decode
// within its first packets keeps what the container said.
void AddFirstFrameColour(AVFormatContext& input, int index, ColourInfo& colour) {
  constexpr int kMaxPackets = 64;         // of the stream's own
  constexpr int kMaxOtherPackets = 4096;  // of the others: a track without pictures ends it
  const AVStream& st = *input.streams[index];
  const AVCodec* decoder = avcodec_find_decoder(st.codecpar->codec_id);
  if (decoder == nullptr) return;
  CodecContextPtr codec(avcodec_alloc_context3(decoder));
  PacketPtr pkt(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!codec || !pkt || !frame) return;
  if (avcodec_parameters_to_context(codec.get(), st.codecpar) < 0) return;
  codec->max_pixels = kMaxDecodedPixels;
  codec->thread_count = 1;
  if (avcodec_open2(codec.get(), decoder, nullptr) < 0) return;
  for (int read = 0, others = 0; read < kMaxPackets;) {
    const int rc = av_read_frame(&input, pkt.get());
    PacketUnrefGuard unref(pkt.get());
    if (rc < 0) {
      avcodec_send_packet(codec.get(), nullptr);  // drain what it holds
    } else if (pkt->stream_index != index) {
      if (++others >= kMaxOtherPackets) return;
      continue;
    } else {
      ++read;
      if (avcodec_send_packet(codec.get(), pkt.get()) < 0) continue;
    }
    if (avcodec_receive_frame(codec.get(), frame.get()) == 0) {
      AddFrameColour(colour, *frame);
      av_frame_unref(frame.get());
      return;
    }
    if (rc < 0) return;
  }
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
        {"color", s.colour ? s.colour->ToJson() : nlohmann::json(nullptr)},
        {"language", OrNull(s.language)},
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

const StreamInfo* ProbeResult::VideoStream() const {
  for (const StreamInfo& s : streams) {
    if (s.index == video_stream && s.type == "video") return &s;
  }
  return nullptr;
}

const StreamInfo* ProbeResult::AudioStream() const {
  for (const StreamInfo& s : streams) {
    if (s.index == audio_stream && s.type == "audio") return &s;
  }
  return nullptr;
}

double ProbeResult::PlayingSeconds() const {
  if (const StreamInfo* v = VideoStream(); v && v->duration && *v->duration > 0)
    return *v->duration;
  if (!format.duration || *format.duration <= 0) return 0;
  const double length = *format.duration - format.lead_in;
  return length > 0 ? length : *format.duration;
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
  const std::string demuxer = input->iformat->name;
  if (input->start_time != AV_NOPTS_VALUE && input->start_time > 0 && demuxer != "mpegts" &&
      demuxer != "mpeg") {
    result.format.lead_in = static_cast<double>(input->start_time) / AV_TIME_BASE;
  }
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
  // As media::DecodePass chooses them.
  const int video = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video >= 0 && !(input->streams[video]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
    result.video_stream = video;
  }
  const int audio =
      av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, result.video_stream, nullptr, 0);
  if (audio >= 0) result.audio_stream = audio;
  for (StreamInfo& s : result.streams) {
    if (s.colour && s.colour->IsHdr() &&
        !(input->streams[s.index]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      AddFirstFrameColour(*input, s.index, *s.colour);
      break;  // one stream's frames; the file is not read again
    }
  }
  return result;
}

}  // namespace vidgate::media
