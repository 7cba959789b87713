#include "pipeline/track_report.h"

#include <fmt/format.h>

#include <cctype>

#include "media/text_subtitles.h"
#include "qc/analysis.h"

namespace vidgate::pipeline {

int ChooseAudioStream(const media::ProbeResult& probe, const std::vector<std::string>& languages) {
  auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  for (const auto& wanted : languages) {
    const std::string want = lower(ShortLanguageTag(wanted));
    for (const auto& st : probe.streams) {
      // A track without a rate or channels is not one the pass can take.
      if (st.type == "audio" && st.language && st.sample_rate && st.channels &&
          *st.sample_rate > 0 && *st.channels > 0 &&
          lower(ShortLanguageTag(*st.language)) == want) {
        return st.index;
      }
    }
  }
  return -1;
}

void ReportTracks(const media::ProbeResult& probe, int video_stream, int audio_stream,
                  const std::map<int, std::vector<std::string>>& sound_tracks,
                  const std::vector<WrittenCaption>& captions, const qc::Policy& policy,
                  nlohmann::json& report) {
  nlohmann::json tracks = nlohmann::json::array();
  std::vector<std::string> not_kept;
  size_t text_subtitles = 0;
  for (const auto& st : probe.streams) {
    std::string use, dropped;
    bool counts = true;  // a drop people should hear of
    if (st.type == "video" && st.attached_picture) {
      dropped = "cover art (a still picture), not video";
      counts = false;
    } else if (st.type == "video") {
      if (st.index == video_stream) {
        use = "pictures: quality control, renditions, thumbnails";
      } else {
        dropped = fmt::format("one video stream is used (stream #{})", video_stream);
      }
    } else if (st.type == "audio") {
      if (st.index == audio_stream) {
        use = "sound: quality control, renditions";
      } else if (auto it = sound_tracks.find(st.index); it != sound_tracks.end()) {
        use = fmt::format("a further sound track: {}", fmt::join(it->second, ", "));
      } else {
        dropped = fmt::format(
            "a rendition carries one sound track (stream #{}; output.audio_languages chooses "
            "it; audio_tracks = \"all\" keeps the others)",
            audio_stream);
      }
    } else if (st.type == "subtitle") {
      for (const auto& c : captions) {
        if (c.stream_index == st.index) use = c.key;
      }
      if (use.empty()) {
        if (!media::IsTextSubtitleCodec(st.codec)) {
          dropped = "bitmap subtitles have no text to carry as captions";
        } else if (++text_subtitles > media::kMaxSubtitleStreams) {
          dropped = fmt::format("more than {} subtitle streams", media::kMaxSubtitleStreams);
        } else {
          dropped = "no cue could be read";
        }
      } else {
        ++text_subtitles;
      }
    } else {
      dropped = st.type + " streams are not carried";
      counts = false;
    }
    nlohmann::json entry = {
        {"index", st.index},
        {"type", st.type},
        {"codec", st.codec},
        {"language", st.language ? nlohmann::json(*st.language) : nlohmann::json(nullptr)},
        {"channels", st.channels ? nlohmann::json(*st.channels) : nlohmann::json(nullptr)},
        {"use", use.empty() ? nlohmann::json(nullptr) : nlohmann::json(use)},
        {"dropped", dropped.empty() ? nlohmann::json(nullptr) : nlohmann::json(dropped)}};
    tracks.push_back(std::move(entry));
    if (!dropped.empty() && counts) {
      std::string what = st.type + " " + st.codec;
      if (st.language) what += " " + *st.language;
      if (st.channels) what += fmt::format(" {} ch", *st.channels);
      not_kept.push_back(fmt::format("stream #{} ({}): {}", st.index, what, dropped));
    }
  }
  report["tracks"] = std::move(tracks);
  qc::AddCheck(report, policy, "tracks", not_kept.empty(),
               not_kept.empty() ? "every stream kept"
                                : fmt::format("not kept: {}", fmt::join(not_kept, "; ")));
}

}  // namespace vidgate::pipeline
