// media_stage.h: the worker's processing stage, behind an interface so the
// pipeline's tests can plug in a stage that fails on demand, and so the
// media engine (QC, renditions, thumbnails) grows without touching the worker.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "media/rendition_encoder.h"
#include "qc/fingerprint.h"
#include "qc/policy.h"

namespace vidgate::pipeline {

// A file the stage produced, to publish under the video's folder.
struct ProducedFile {
  std::string local_path;
  std::string relative_key;  // e.g. "renditions/main.mp4"
  catalog::Output output;    // key is filled in at publish time
  bool record = true;        // false: published, not listed as an output (HLS segments)
};

// A local folder for an attempt's outputs, removed when the last holder of
// it lets go (after the outputs are published, or on failure).
struct WorkDir {
  std::string path;
  explicit WorkDir(std::string p) : path(std::move(p)) {}
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir();
};

struct StageResult {
  nlohmann::json probe;  // contract probe shape
  nlohmann::json qc;     // contract QC report (verdict, checks, video, audio)
  std::string verdict;   // pass, warn or reject
  std::string summary;   // one sentence: why rejected, or what was warned
  std::vector<ProducedFile> files;
  std::shared_ptr<WorkDir> work_dir;  // holds `files`
  double probe_seconds = 0;           // of the time Process took
  // A rejection no further attempt can change (the bytes differ from their
  // declared checksum, or repeat a filed video's): never retried.
  bool final_rejection = false;
  nlohmann::json duplicate_of;     // {"id","name",...} when the bytes were filed before
  qc::Fingerprint fingerprint;     // of the pictures; empty when nothing was decoded
  nlohmann::json near_duplicates;  // [{"id","name",...,"similarity","ranges"}] when found
};

// A caption sidecar as uploaded, for the stage to check and convert.
struct CaptionInput {
  std::string file_name;  // "clip.en.srt"
  std::string label;      // "en" (naming.h CaptionLabel)
  std::string bytes;
  std::string unread;  // why it was not read ("" when it was)
};

class MediaStage {
 public:
  virtual ~MediaStage() = default;
  // Processes the local file `path` of the video `name`, polling
  // `should_stop` (shutdown, lost lease, attempt deadline). Errors follow
  // status.h: kInvalidArgument for media that cannot be decoded (final).
  // `captions` are the video's caption sidecars.
  virtual Result<StageResult> Process(const std::string& path, const std::string& name,
                                      const std::vector<CaptionInput>& captions,
                                      const std::function<Status()>& should_stop) = 0;
};

// What a processed video gets besides its report ([output] in the config).
struct OutputOptions {
  // renditions/NAME.mp4 each; none = quality control only.
  std::vector<media::RenditionSpec> renditions = {media::RenditionSpec{}};
  bool thumbnails = true;  // thumbnails/poster.jpg and NNNN.jpg
  int thumbnail_count = 4;
  bool sprite = true;  // thumbnails/sprite.jpg + sprite.vtt (seek previews)
  // hls/master.m3u8 and hls/NAME/{index.m3u8,init.mp4,NNNNN.m4s}.
  bool hls = false;
  double hls_segment_seconds = 6;
  // The sound track to keep, by language ("fr", "eng"), in order of
  // preference; none or no match: libav's best.
  std::vector<std::string> audio_languages;
};

// Probe, then one decode pass feeding quality control (qc::Analyse, judged
// by `policy`), the renditions and the thumbnails of `outputs`; each output
// is probed after writing and fails the attempt when it does not probe as
// encoded. Outputs are written under `work_root` (a temp folder when empty).
std::unique_ptr<MediaStage> NewQcStage(qc::Policy policy, OutputOptions outputs = {},
                                       std::string work_root = "");

}  // namespace vidgate::pipeline
