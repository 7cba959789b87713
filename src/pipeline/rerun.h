// rerun.h: a video that was set aside (rejected, or unable_to_process) runs
// again from its kept original: its original and sidecar go back into
// uploads/ under their own names, its folder's report goes, and intake takes
// them in as a new video with a story of its own. The old record stays in
// the catalog, with its attempts, as what happened before.
// `vidgate retry` and the API's retry calls share it.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct Rerun {
  std::string video_key;    // uploads/... where the original now is
  std::string sidecar_key;  // "" when it had none
};

// kFailedPrecondition for a video in another state (a waiting one is
// retried with Catalog::RetryNow; a processed one is done); kNotFound when
// its kept original is gone; kAlreadyExists when uploads/ already holds a
// file of that name (nothing moved then). Doing it twice is harmless: what
// was moved already is not moved again.
Result<Rerun> RerunFromKeptOriginal(storage::Store& store, catalog::Catalog& catalog,
                                    const Clock& clock, const catalog::Video& video);

}  // namespace vidgate::pipeline
