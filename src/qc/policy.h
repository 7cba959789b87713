// policy.h: which QC findings reject a video, which only warn, and the
// thresholds they are judged by. Presets: "web" (the default: lenient),
// "broadcast-ebu-r128" and "broadcast-atsc-a85".
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace vidgate::qc {

enum class Severity { kError, kWarning, kOff };
std::string_view SeverityName(Severity s);
// kInvalidArgument naming the value for anything but error, warning, off.
Result<Severity> ParseSeverity(std::string_view name);

// The check ids, in report order.
const std::vector<std::string>& CheckIds();

struct Policy {
  std::string name;
  std::map<std::string, Severity> severity;  // one entry per check id
  double max_decode_error_ratio = 0.05;      // decode errors / frames
  double black_min_seconds = 2.0;
  double freeze_min_seconds = 2.0;
  double silence_min_seconds = 2.0;
  double max_range_outside_share = 0.01;  // luma or chroma samples outside legal range
  double loudness_target_lufs = -16;
  double loudness_tolerance_lu = 4;
  double max_true_peak_dbtp = -1;
  double max_clipped_share = 0.001;
  double max_av_duration_mismatch_seconds = 0.5;
  // Limits judged from the probe alone, before any decoding (0 or empty:
  // no limit). A file over a limit is rejected without being decoded.
  int max_height = 0;
  double max_duration_seconds = 0;
  std::vector<std::string> allowed_video_codecs;

  Severity SeverityOf(const std::string& check) const;
};

// A preset by name; kInvalidArgument naming it and the known presets.
Result<Policy> PresetPolicy(std::string_view name);

// The preset with some checks' severities replaced; kInvalidArgument for an
// unknown check id.
Result<Policy> MakePolicy(std::string_view preset,
                          const std::map<std::string, std::string>& severities);

}  // namespace vidgate::qc
