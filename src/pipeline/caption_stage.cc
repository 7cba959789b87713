#include "pipeline/caption_stage.h"

#include <fmt/format.h>

#include <algorithm>
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
    c.language = in.label.substr(0, in.label.find('.'));
    if (!in.unread.empty()) {
      c.track.problems.push_back(in.unread);
    } else if (auto format = media::CaptionFormatOf(in.file_name)) {
      c.track = media::ReadCaptions(in.bytes, *format, video_seconds);
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
                       folder + "/" + label + ".vtt"};
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
