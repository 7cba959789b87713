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
  // The local file is the store's afterwards (Import: a rename where the
  // store is on the same file system); otherwise it is copied.
  bool consume_local = false;
};

struct Submitted {
  std::string video_key;
  std::string sidecar_key;  // "" without a sidecar
};

// kInvalidArgument: a name uploads/ would ignore or refuse, one too long for
// the store, or a sidecar that fails the metadata gate (the sentence names
// the key); kAlreadyExists: the video or a sidecar of that name is there
// already (nothing is overwritten); the store's errors otherwise.
Result<Submitted> Submit(storage::Store& store, const Submission& submission);

}  // namespace vidgate::pipeline
