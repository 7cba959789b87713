// document.h: a video as JSON, built once for every reader: `vidgate list
// --json` and GET /api/videos use VideoSummary, `vidgate show --json` and
// GET /api/videos/{id} use VideoDocument (ARCHITECTURE.md's contract).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"

namespace vidgate::catalog {

// Where the video's original is: its folder once filed, its key before.
std::string Location(const Video& video);

// id, name, state, attempts, created_at, updated_at, location, last_error
// and next_attempt_at (null unless waiting for a retry).
nlohmann::json VideoSummary(const Video& video);

// The whole story: the summary's fields plus metadata, probe, QC report,
// attempts, outputs, notifications, source and sidecar keys, the original's
// SHA-256 and the filed folder's files with theirs. Reads the attempts,
// outputs, notifications and checksums from `catalog`.
Result<nlohmann::json> VideoDocument(Catalog& catalog, const Video& video);

}  // namespace vidgate::catalog
