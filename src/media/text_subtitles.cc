#include "media/text_subtitles.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <algorithm>
#include <memory>

namespace vidgate::media {
namespace {

// A subtitle without a stated end stays this long.
constexpr double kDefaultCueSeconds = 4;

struct SubtitleFree {
  void operator()(AVSubtitle* s) const {
    avsubtitle_free(s);
    delete s;
  }
};

}  // namespace

std::string AssDialogueText(std::string_view event) {
  size_t at = 0;
  for (int field = 0; field < 8; ++field) {
    const size_t comma = event.find(',', at);
    if (comma == std::string_view::npos) return std::string(event);  // not an event: all text
    at = comma + 1;
  }
  return std::string(event.substr(at));
}

bool IsTextSubtitleCodec(const std::string& name) {
  const AVCodecDescriptor* desc = avcodec_descriptor_get_by_name(name.c_str());
  return desc != nullptr && desc->type == AVMEDIA_TYPE_SUBTITLE &&
         (desc->props & AV_CODEC_PROP_TEXT_SUB) != 0;
}

void TextSubtitles::Open(const AVFormatContext& input, double origin) {
  origin_ = origin;
  for (unsigned i = 0; i < input.nb_streams && decoders_.size() < kMaxSubtitleStreams; ++i) {
    const AVStream* st = input.streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE) continue;
    const AVCodecDescriptor* desc = avcodec_descriptor_get(st->codecpar->codec_id);
    if (desc == nullptr || (desc->props & AV_CODEC_PROP_TEXT_SUB) == 0) continue;
    const AVCodec* decoder = avcodec_find_decoder(st->codecpar->codec_id);
    if (decoder == nullptr) continue;
    CodecContextPtr codec(avcodec_alloc_context3(decoder));
    if (!codec || avcodec_parameters_to_context(codec.get(), st->codecpar) < 0) continue;
    codec->pkt_timebase = st->time_base;
    if (avcodec_open2(codec.get(), decoder, nullptr) < 0) continue;
    decoders_[st->index] = Stream{st, std::move(codec)};
  }
}

Status TextSubtitles::Decode(const AVPacket& packet, const std::vector<FrameSink*>& sinks) {
  auto it = decoders_.find(packet.stream_index);
  if (it == decoders_.end() || packet.pts == AV_NOPTS_VALUE) return Status();
  Stream& s = it->second;
  std::unique_ptr<AVSubtitle, SubtitleFree> sub(new AVSubtitle{});
  int got = 0;
  // The decoder only reads the packet (the API takes it non-const).
  if (avcodec_decode_subtitle2(s.codec.get(), sub.get(), &got, const_cast<AVPacket*>(&packet)) <
          0 ||
      got == 0) {
    return Status();
  }
  const double base = static_cast<double>(packet.pts) * av_q2d(s.stream->time_base);
  SubtitleCue cue;
  cue.stream_index = packet.stream_index;
  cue.start = base + sub->start_display_time / 1000.0 - origin_;
  if (sub->end_display_time > sub->start_display_time && sub->end_display_time != UINT32_MAX) {
    cue.end = base + sub->end_display_time / 1000.0 - origin_;
  } else if (packet.duration > 0) {
    cue.end = base + static_cast<double>(packet.duration) * av_q2d(s.stream->time_base) - origin_;
  } else {
    cue.end = cue.start + kDefaultCueSeconds;
  }
  for (unsigned r = 0; r < sub->num_rects; ++r) {
    const AVSubtitleRect* rect = sub->rects[r];
    std::string text;
    if (rect->type == SUBTITLE_ASS && rect->ass != nullptr) text = AssDialogueText(rect->ass);
    if (rect->type == SUBTITLE_TEXT && rect->text != nullptr) text = rect->text;
    if (text.empty()) continue;
    if (!cue.text.empty()) cue.text += "\\N";
    cue.text += text;
  }
  if (cue.text.empty()) return Status();
  for (FrameSink* sink : sinks) {
    if (sink->TakesSubtitles()) VG_RETURN_IF_ERROR(sink->OnSubtitle(cue));
  }
  return Status();
}

Status SubtitleCollector::OnSubtitle(const SubtitleCue& cue) {
  std::vector<Cue>& list = cues_[cue.stream_index];
  size_t& bytes = bytes_[cue.stream_index];
  if (list.size() >= kMaxCues || bytes >= kMaxSubtitleBytes || !(cue.end > cue.start)) {
    return Status();
  }
  Cue out;
  out.start = cue.start;
  out.end = cue.end;
  // Cut before the conversion, which escapes and so may grow the text.
  std::string_view text(cue.text);
  text = text.substr(0, kMaxCueBytes);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
    text.remove_suffix(1);  // not inside a character
  }
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.remove_suffix(1);
  out.text = CueTextFromMarkup(text);
  if (out.text.empty()) return Status();
  bytes += out.text.size();
  list.push_back(std::move(out));
  return Status();
}

Status SubtitleCollector::Finish() {
  for (auto& [index, list] : cues_) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Cue& a, const Cue& b) { return a.start < b.start; });
  }
  return Status();
}

}  // namespace vidgate::media
