// verify.h: `vidgate verify`: a filed video's folder read back from the
// store and checked against the checksums the catalog recorded when it was
// filed: what changed, what went missing, and what was added.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct FileProblem {
  std::string path;  // relative to the folder
  // "changed", "missing", "added" (not recorded), "unreadable" (there, but
  // reading it failed: `detail` says how)
  std::string problem;
  int64_t recorded_size = -1;
  std::string recorded_sha256;
  int64_t found_size = -1;
  std::string found_sha256;
  std::string detail;  // what else there is to say ("" when nothing)
};

struct Verification {
  int64_t video_id = 0;
  std::string name;
  std::string location;
  int files = 0;  // recorded files checked
  std::vector<FileProblem> problems;
  bool ok() const { return problems.empty(); }
  nlohmann::json ToJson() const;
};

// Reads every file of `video`'s filed folder once; a file that cannot be
// read is a problem ("unreadable"), and the others are still checked.
// kFailedPrecondition when the video is not filed (or was run again) or was
// filed before vidgate recorded checksums (nothing to check against); an
// error listing the folder or reading the catalog as is. `should_stop`
// (may be empty) ends it with its answer.
Result<Verification> VerifyVideo(storage::Store& store, catalog::Catalog& catalog,
                                 const catalog::Video& video,
                                 const std::function<Status()>& should_stop = {});

}  // namespace vidgate::pipeline
