// caption_stage.h: what the media stage makes of a video's captions (its
// sidecars and the text subtitle streams it carries): WebVTT files filed as
// captions/LABEL.vtt, and their account in the QC report.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/captions.h"
#include "media/probe.h"
#include "pipeline/media_stage.h"
#include "qc/policy.h"

namespace vidgate::pipeline {

struct CaptionSource {
  std::string source;    // what the report calls it: "clip.en.srt", "stream #2 (subrip)"
  std::string label;     // "en", "en.sdh": the file name under captions/
  std::string language;  // the label's first part, or the stream's tag; "und" for none
  media::CaptionTrack track;
  int stream_index = -1;  // of an embedded one
};

// The sidecars read and checked against the video's length (seconds).
std::vector<CaptionSource> ReadSidecarCaptions(const std::vector<CaptionInput>& inputs,
                                               double video_seconds);

// The text subtitle streams the pass read (`collected`: stream index ->
// cues), named after their stream and language; cues past the video's end
// are cut or left out.
std::vector<CaptionSource> EmbeddedCaptions(const media::ProbeResult& probe,
                                            const std::map<int, std::vector<media::Cue>>& collected,
                                            double video_seconds);

// A language tag as BCP 47 wants it: ISO 639-2 codes of common languages
// ("eng", "fre", "fra") become their two-letter code ("en", "fr").
std::string ShortLanguageTag(const std::string& tag);

struct WrittenCaption {
  std::string label;      // unique among the video's captions
  std::string language;   // "und" for none
  std::string key;        // "captions/en.vtt", relative to the video's own folder
  std::string local;      // the file in the work folder
  int stream_index = -1;  // of an embedded one
};

// Writes each source that has cues as `work_dir`/captions/LABEL.vtt (a label
// taken already gets "-2", "-3"...), and records in `report` the list
// "captions" ({source, label, language, key, cues, coverage, encoding,
// problems}) and the check "captions" (passed when no caption had a
// problem). Coverage is the share of `speech` the cues cover. Nothing is
// recorded without sources.
Result<std::vector<WrittenCaption>> WriteCaptions(const std::vector<CaptionSource>& sources,
                                                  const std::vector<media::Span>& speech,
                                                  const std::string& work_dir,
                                                  const qc::Policy& policy, nlohmann::json& report);

// Where the sound is not silent, from a QC report's audio silence segments,
// over the first `audio_seconds`.
std::vector<media::Span> SpeechSpans(const nlohmann::json& report, double audio_seconds);

}  // namespace vidgate::pipeline
