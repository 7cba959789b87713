#include "qc/policy.h"

#include <algorithm>

namespace vidgate::qc {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kOff:
      return "off";
  }
  return "off";
}

Result<Severity> ParseSeverity(std::string_view name) {
  if (name == "error") return Severity::kError;
  if (name == "warning") return Severity::kWarning;
  if (name == "off") return Severity::kOff;
  return InvalidArgument("severity '" + std::string(name) + "' is not error, warning or off");
}

const std::vector<std::string>& CheckIds() {
  static const std::vector<std::string> kIds = {
      "video_present", "decode_errors",     "black",        "freeze",        "broadcast_range",
      "interlace",     "colour_tags",       "hdr_metadata", "audio_present", "silence",
      "loudness",      "true_peak",         "clipping",     "av_duration",   "av_sync",
      "truncated",     "rendition_quality", "captions",     "tracks"};
  return kIds;
}

Severity Policy::SeverityOf(const std::string& check) const {
  auto it = severity.find(check);
  return it == severity.end() ? Severity::kOff : it->second;
}

Result<Policy> PresetPolicy(std::string_view name) {
  Policy p;
  p.name = std::string(name);
  for (const auto& id : CheckIds()) p.severity[id] = Severity::kWarning;
  p.severity["video_present"] = Severity::kError;
  p.severity["decode_errors"] = Severity::kError;
  if (name == "web") return p;
  // Broadcast delivery: loudness, peaks, levels and audio are hard limits.
  for (const char* id : {"broadcast_range", "colour_tags", "hdr_metadata", "audio_present",
                         "loudness", "true_peak", "clipping", "truncated"}) {
    p.severity[id] = Severity::kError;
  }
  p.max_range_outside_share = 0.001;
  if (name == "broadcast-ebu-r128") {
    p.loudness_target_lufs = -23;  // EBU R128
    p.loudness_tolerance_lu = 0.5;
    p.max_true_peak_dbtp = -1;
    return p;
  }
  if (name == "broadcast-atsc-a85") {
    p.loudness_target_lufs = -24;  // ATSC A/85
    p.loudness_tolerance_lu = 2;
    p.max_true_peak_dbtp = -2;
    return p;
  }
  return InvalidArgument("unknown QC preset '" + std::string(name) +
                         "' (expected web, broadcast-ebu-r128 or broadcast-atsc-a85)");
}

Result<Policy> MakePolicy(std::string_view preset,
                          const std::map<std::string, std::string>& severities) {
  VG_ASSIGN_OR_RETURN(Policy p, PresetPolicy(preset));
  for (const auto& [id, value] : severities) {
    const auto& ids = CheckIds();
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      return InvalidArgument("unknown QC check '" + id + "'");
    }
    VG_ASSIGN_OR_RETURN(Severity s, ParseSeverity(value));
    p.severity[id] = s;
  }
  return p;
}

}  // namespace vidgate::qc
