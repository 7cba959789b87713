#include "pipeline/caption_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "common/util.h"
#include "qc/analysis.h"

namespace vidgate::pipeline {

std::vector<CaptionSource> ReadSidecarCaptions(const std::vector<CaptionInput>& inputs,
                                               double video_seconds) {
  std::vector<CaptionSource> out;
  for (const auto& in : inputs) {
    CaptionSource c;
    c.source = in.file_name;
    c.label = in.label;
    c.language = ShortLanguageTag(in.label.substr(0, in.label.find('.')));
    if (!in.unread.empty()) {
      c.track.problems.push_back(in.unread);
    } else if (auto format = media::CaptionFormatOf(in.file_name)) {
      c.track = media::ReadCaptions(in.bytes, *format, video_seconds);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string ShortLanguageTag(const std::string& tag) {
  static const std::map<std::string, std::string> kTwoLetter = {
      {"ara", "ar"}, {"chi", "zh"}, {"zho", "zh"}, {"cze", "cs"}, {"ces", "cs"}, {"dan", "da"},
      {"dut", "nl"}, {"nld", "nl"}, {"eng", "en"}, {"fin", "fi"}, {"fre", "fr"}, {"fra", "fr"},
      {"ger", "de"}, {"deu", "de"}, {"gre", "el"}, {"ell", "el"}, {"heb", "he"}, {"hin", "hi"},
      {"hun", "hu"}, {"ind", "id"}, {"ita", "it"}, {"jpn", "ja"}, {"kor", "ko"}, {"nor", "no"},
      {"per", "fa"}, {"fas", "fa"}, {"pol", "pl"}, {"por", "pt"}, {"rum", "ro"}, {"ron", "ro"},
      {"rus", "ru"}, {"spa", "es"}, {"swe", "sv"}, {"tha", "th"}, {"tur", "tr"}, {"ukr", "uk"},
      {"vie", "vi"}, {"cat", "ca"}, {"wel", "cy"}, {"cym", "cy"}, {"gle", "ga"}, {"ice", "is"},
      {"isl", "is"}, {"slo", "sk"}, {"slk", "sk"}, {"bul", "bg"}, {"hrv", "hr"}, {"srp", "sr"},
      {"msa", "ms"}, {"may", "ms"}, {"tam", "ta"}, {"urd", "ur"}, {"ben", "bn"}};
  std::string lower;
  for (char c : tag) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kTwoLetter.find(lower);
  return it == kTwoLetter.end() ? tag : it->second;
}

std::vector<CaptionSource> EmbeddedCaptions(const media::ProbeResult& probe,
                                            const std::map<int, std::vector<media::Cue>>& collected,
                                            double video_seconds) {
  std::vector<CaptionSource> out;
  for (const auto& st : probe.streams) {
    auto it = collected.find(st.index);
    if (st.type != "subtitle" || it == collected.end()) continue;
    CaptionSource c;
    c.source = fmt::format("stream #{} ({})", st.index, st.codec);
    c.stream_index = st.index;
    c.language = st.language ? ShortLanguageTag(*st.language) : "und";
    c.label = c.language;
    c.track.encoding = "UTF-8";
    size_t past_end = 0;
    for (media::Cue cue : it->second) {
      if (media::FitToVideo(cue, video_seconds) == media::CueFit::kAfterEnd) {
        ++past_end;
        continue;
      }
      if (cue.start < 0) cue.start = 0;
      if (cue.end > cue.start) c.track.cues.push_back(std::move(cue));
    }
    if (past_end > 0) {
      c.track.problems.push_back(fmt::format("{} cue{} after the video's end left out", past_end,
                                             past_end == 1 ? "" : "s"));
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<WrittenCaption>> WriteCaptions(const std::vector<CaptionSource>& sources,
                                                  const std::vector<media::Span>& speech,
                                                  const std::string& work_dir,
                                                  const qc::Policy& policy,
                                                  nlohmann::json& report) {
  std::vector<WrittenCaption> written;
  if (sources.empty()) return written;
  const std::string folder = work_dir + "/captions";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return ErrnoStatus(ec.value(), "create work folder", folder);
  std::set<std::string> taken;
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::string> complaints;
  for (const auto& c : sources) {
    nlohmann::json entry = {
        {"source", c.source},
        {"label", c.label},
        {"language", c.language},
        {"key", nullptr},
        {"cues", c.track.cues.size()},
        {"coverage", nullptr},
        {"encoding",
         c.track.encoding.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.track.encoding)},
        {"problems", c.track.problems}};
    if (!c.track.problems.empty()) {
      complaints.push_back(c.source + " " + c.track.problems.front() +
                           (c.track.problems.size() > 1
                                ? fmt::format(" (and {} more)", c.track.problems.size() - 1)
                                : ""));
    }
    if (!c.track.cues.empty()) {
      std::string label = c.label;
      for (int n = 2; taken.contains(label); ++n) label = c.label + "-" + std::to_string(n);
      taken.insert(label);
      WrittenCaption w{label, c.language, "captions/" + label + ".vtt",
                       folder + "/" + label + ".vtt", c.stream_index};
      VG_RETURN_IF_ERROR(WriteLocalFile(w.local, media::ToWebVtt(c.track.cues)));
      entry["label"] = label;
      entry["key"] = w.key;
      if (auto coverage = media::CaptionCoverage(c.track.cues, speech)) {
        entry["coverage"] = std::round(*coverage * 1000) / 1000;
      }
      written.push_back(std::move(w));
    }
    list.push_back(std::move(entry));
  }
  report["captions"] = std::move(list);
  std::string message;
  if (complaints.empty()) {
    std::vector<std::string> labels;
    for (const auto& w : written) labels.push_back(w.label);
    message = fmt::format("{} caption track{} read: {}", written.size(),
                          written.size() == 1 ? "" : "s", fmt::join(labels, ", "));
  } else {
    message = fmt::format("{}", fmt::join(complaints, "; "));
  }
  qc::AddCheck(report, policy, "captions", complaints.empty(), message);
  return written;
}

std::vector<media::Span> SpeechSpans(const nlohmann::json& report, double audio_seconds) {
  std::vector<media::Span> silent;
  const nlohmann::json none = nlohmann::json::array();
  const nlohmann::json& audio = report.contains("audio") ? report["audio"] : none;
  if (audio.is_object() && audio.contains("silence_segments")) {
    for (const auto& s : audio["silence_segments"]) {
      if (s.is_object() && s.contains("start") && s.contains("end")) {
        silent.push_back({s["start"].get<double>(), s["end"].get<double>()});
      }
    }
  }
  std::sort(silent.begin(), silent.end(),
            [](const media::Span& a, const media::Span& b) { return a.start < b.start; });
  std::vector<media::Span> speech;
  double from = 0;
  for (const auto& s : silent) {
    if (s.start > from) speech.push_back({from, std::min(s.start, audio_seconds)});
    from = std::max(from, s.end);
  }
  if (from < audio_seconds) speech.push_back({from, audio_seconds});
  std::erase_if(speech, [](const media::Span& s) { return s.end <= s.start; });
  return speech;
}

}  // namespace vidgate::pipeline
