#include "media/colour.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixdesc.h>
}

namespace vidgate::media {
namespace {

std::optional<std::string> Name(const char* name, bool specified) {
  if (!specified || name == nullptr) return std::nullopt;
  return std::string(name);
}

void SetPrimaries(ColourInfo& c, AVColorPrimaries v) {
  c.av_primaries = v;
  c.primaries = Name(av_color_primaries_name(v), v != AVCOL_PRI_UNSPECIFIED);
}
void SetTransfer(ColourInfo& c, AVColorTransferCharacteristic v) {
  c.av_transfer = v;
  c.transfer = Name(av_color_transfer_name(v), v != AVCOL_TRC_UNSPECIFIED);
}
void SetMatrix(ColourInfo& c, AVColorSpace v) {
  c.av_matrix = v;
  c.matrix = Name(av_color_space_name(v), v != AVCOL_SPC_UNSPECIFIED);
}
void SetRange(ColourInfo& c, AVColorRange v) {
  c.av_range = v;
  c.range = Name(av_color_range_name(v), v != AVCOL_RANGE_UNSPECIFIED);
}

void SetBitDepth(ColourInfo& c, int format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(format));
  if (d != nullptr && d->nb_components > 0) c.bit_depth = d->comp[0].depth;
}

double Q(AVRational r) { return r.den != 0 ? av_q2d(r) : 0; }

std::optional<MasteringDisplay> FromMastering(const AVMasteringDisplayMetadata& m) {
  if (!m.has_primaries && !m.has_luminance) return std::nullopt;
  MasteringDisplay d;
  if (m.has_primaries) {
    d.red_x = Q(m.display_primaries[0][0]);
    d.red_y = Q(m.display_primaries[0][1]);
    d.green_x = Q(m.display_primaries[1][0]);
    d.green_y = Q(m.display_primaries[1][1]);
    d.blue_x = Q(m.display_primaries[2][0]);
    d.blue_y = Q(m.display_primaries[2][1]);
    d.white_x = Q(m.white_point[0]);
    d.white_y = Q(m.white_point[1]);
  }
  if (m.has_luminance) {
    d.min_luminance = Q(m.min_luminance);
    d.max_luminance = Q(m.max_luminance);
  }
  return d;
}

void Settle(ColourInfo& c) {
  if (c.dolby_vision) {
    c.hdr_format = "dolby_vision";
  } else if (c.hdr10plus) {
    c.hdr_format = "hdr10plus";
  } else if (c.av_transfer == AVCOL_TRC_SMPTE2084) {
    c.hdr_format = "hdr10";
  } else if (c.av_transfer == AVCOL_TRC_ARIB_STD_B67) {
    c.hdr_format = "hlg";
  } else {
    c.hdr_format.reset();
  }
}

nlohmann::json OrNull(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

bool ColourInfo::IsHdr() const {
  return av_transfer == AVCOL_TRC_SMPTE2084 || av_transfer == AVCOL_TRC_ARIB_STD_B67;
}

nlohmann::json ColourInfo::ToJson() const {
  nlohmann::json md = nullptr;
  if (mastering_display) {
    const MasteringDisplay& m = *mastering_display;
    md = {{"red", {m.red_x, m.red_y}},        {"green", {m.green_x, m.green_y}},
          {"blue", {m.blue_x, m.blue_y}},     {"white_point", {m.white_x, m.white_y}},
          {"min_luminance", m.min_luminance}, {"max_luminance", m.max_luminance}};
  }
  nlohmann::json cll = nullptr;
  if (content_light_level) {
    cll = {{"max_content", content_light_level->max_content},
           {"max_average", content_light_level->max_average}};
  }
  return {{"primaries", OrNull(primaries)},
          {"transfer", OrNull(transfer)},
          {"matrix", OrNull(matrix)},
          {"range", OrNull(range)},
          {"bit_depth", bit_depth ? nlohmann::json(*bit_depth) : nlohmann::json(nullptr)},
          {"hdr_format", OrNull(hdr_format)},
          {"mastering_display", std::move(md)},
          {"content_light_level", std::move(cll)}};
}

bool IsRgbPixelFormat(const std::string& pix_fmt) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(av_get_pix_fmt(pix_fmt.c_str()));
  return d != nullptr && (d->flags & AV_PIX_FMT_FLAG_RGB) != 0;
}

ColourInfo DescribeColour(const AVStream& stream) {
  const AVCodecParameters& par = *stream.codecpar;
  ColourInfo c;
  SetPrimaries(c, par.color_primaries);
  SetTransfer(c, par.color_trc);
  SetMatrix(c, par.color_space);
  SetRange(c, par.color_range);
  if (par.format >= 0) SetBitDepth(c, par.format);
  if (!c.bit_depth && par.bits_per_raw_sample > 0) c.bit_depth = par.bits_per_raw_sample;
  size_t size = 0;
  if (const uint8_t* d =
          av_stream_get_side_data(&stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size);
      d != nullptr && size >= sizeof(AVMasteringDisplayMetadata)) {
    c.mastering_display = FromMastering(*reinterpret_cast<const AVMasteringDisplayMetadata*>(d));
  }
  if (const uint8_t* d = av_stream_get_side_data(&stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size);
      d != nullptr && size >= sizeof(AVContentLightMetadata)) {
    const auto* l = reinterpret_cast<const AVContentLightMetadata*>(d);
    c.content_light_level =
        ContentLightLevel{static_cast<int>(l->MaxCLL), static_cast<int>(l->MaxFALL)};
  }
  if (av_stream_get_side_data(&stream, AV_PKT_DATA_DOVI_CONF, &size) != nullptr) {
    c.dolby_vision = true;
  }
  Settle(c);
  return c;
}

void AddFrameColour(ColourInfo& c, const AVFrame& frame) {
  if (c.av_primaries == AVCOL_PRI_UNSPECIFIED) SetPrimaries(c, frame.color_primaries);
  if (c.av_transfer == AVCOL_TRC_UNSPECIFIED) SetTransfer(c, frame.color_trc);
  if (c.av_matrix == AVCOL_SPC_UNSPECIFIED) SetMatrix(c, frame.colorspace);
  if (c.av_range == AVCOL_RANGE_UNSPECIFIED) SetRange(c, frame.color_range);
  if (!c.bit_depth) SetBitDepth(c, frame.format);
  if (const AVFrameSideData* d =
          av_frame_get_side_data(&frame, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
      d != nullptr && !c.mastering_display && d->size >= sizeof(AVMasteringDisplayMetadata)) {
    c.mastering_display =
        FromMastering(*reinterpret_cast<const AVMasteringDisplayMetadata*>(d->data));
  }
  if (const AVFrameSideData* d = av_frame_get_side_data(&frame, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
      d != nullptr && !c.content_light_level && d->size >= sizeof(AVContentLightMetadata)) {
    const auto* l = reinterpret_cast<const AVContentLightMetadata*>(d->data);
    c.content_light_level =
        ContentLightLevel{static_cast<int>(l->MaxCLL), static_cast<int>(l->MaxFALL)};
  }
  if (av_frame_get_side_data(&frame, AV_FRAME_DATA_DOVI_RPU_BUFFER) != nullptr ||
      av_frame_get_side_data(&frame, AV_FRAME_DATA_DOVI_METADATA) != nullptr) {
    c.dolby_vision = true;
  }
  if (av_frame_get_side_data(&frame, AV_FRAME_DATA_DYNAMIC_HDR_PLUS) != nullptr) {
    c.hdr10plus = true;
  }
  Settle(c);
}

}  // namespace vidgate::media
