// submit.h: puts a local video (and its sidecar) into uploads/, as an
// uploader would: the checks a name must pass, the sidecar first, nothing
// ever overwritten. `vidgate submit` and the API's upload share it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct Submission {
  std::string local_path;  // the video's bytes, a regular file
  std::string file_name;   // its name in uploads/ (a name's bytes, common/text.h)
  // The sidecar's JSON text, checked with ValidateSidecar; none: the video
  // waits for one in uploads/.
  std::optional<std::string> sidecar;
  std::vector<std::string> required;  // metadata.required
  // Caption files to put beside it: each a local path whose file name is a
  // caption of the video's ("clip.en.srt" for "clip.mp4"; naming.h).
  std::vector<std::string> captions;
  // The local file is the store's afterwards (Import: a rename where the
  // store is on the same file system); otherwise it is copied.
  bool consume_local = false;
};

struct Submitted {
  std::string video_key;
  std::string sidecar_key;  // "" without a sidecar
  std::vector<std::string> caption_keys;
};

// kInvalidArgument: a name uploads/ would ignore or refuse, one too long for
// the store, a sidecar that fails the metadata gate (the sentence names
// the key), a caption not named after the video, over 8 MiB or past the
// 32 a video takes; kAlreadyExists: the video, a sidecar or a caption of
// that name is there already (nothing is overwritten); the store's errors
// otherwise. The sidecar and the captions go first, so the video never
// waits for them.
Result<Submitted> Submit(storage::Store& store, const Submission& submission);

}  // namespace vidgate::pipeline
