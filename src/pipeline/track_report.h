// track_report.h: what became of each stream of a video, for the report:
// the pictures and the sound the pass decoded (and the renditions carry),
// the subtitle streams filed as captions, and what was not kept and why.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media/probe.h"
#include "pipeline/caption_stage.h"
#include "qc/policy.h"

namespace vidgate::pipeline {

// The audio stream of the first language of `languages` (BCP 47 or ISO
// 639-2: "fr" finds "fre" and "fra") that some audio stream is tagged with;
// -1 when none is.
int ChooseAudioStream(const media::ProbeResult& probe, const std::vector<std::string>& languages);

// Records in `report` the list "tracks" (one entry per stream: {"index",
// "type", "codec", "language", "channels", "use", "dropped"}: `use` what
// the stream became, `dropped` why it was not kept, one of them null) and
// the check "tracks", which fails when a video, audio or subtitle stream
// was not kept (data streams and cover art are listed, not counted).
// `video_stream` and `audio_stream` are the streams the pass decoded (-1:
// none).
// `sound_tracks` maps a further sound track to the sound-only renditions
// made of it.
void ReportTracks(const media::ProbeResult& probe, int video_stream, int audio_stream,
                  const std::map<int, std::vector<std::string>>& sound_tracks,
                  const std::vector<WrittenCaption>& captions, const qc::Policy& policy,
                  nlohmann::json& report);

}  // namespace vidgate::pipeline
