// trust.h: what an attempt learns of the original's bytes before it decodes
// them: their digests (one read: SHA-256 always, and whatever the sidecar
// declared), whether they match the declared ones (the `fixity` check), and
// whether the same bytes were filed before (the `duplicate` check, under
// the [dedupe] policy). A mismatch, or a duplicate under `reject` or
// `skip`, ends the attempt without decoding.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"
#include "pipeline/fixity.h"
#include "pipeline/media_stage.h"
#include "pipeline/near_duplicates.h"
#include "storage/store.h"

namespace vidgate::pipeline {

// [dedupe] policy: what becomes of a video whose bytes were filed before.
enum class DedupePolicy {
  kFlag,    // processed as usual, marked (a warning)
  kReject,  // filed under unable_to_process/ as rejected, with the reason
  kSkip,    // filed under processed/ without renditions, pointing at the other
};
// kInvalidArgument naming the value unless flag, reject or skip.
Result<DedupePolicy> ParseDedupePolicy(std::string_view name);

// The original as read for its digests.
struct OriginalBytes {
  int64_t size = 0;
  Checksums digests;  // sha256 and every declared algorithm
};

// What the bytes say about the video.
struct TrustFindings {
  OriginalBytes original;
  std::optional<Fixity> fixity;                // when the sidecar declared checksums
  std::optional<catalog::Video> duplicate_of;  // the same bytes, filed before
};

// Digests `local` (the fetched original of `video`) and checks the
// declared checksums.
Result<TrustFindings> DigestOriginal(const std::string& local, const catalog::Video& video,
                                     const std::function<Status()>& should_stop);

// Sets `findings.duplicate_of`: a filed video with the same SHA-256 whose
// original `store` still holds (at its key, at the same size: the
// catalog's word alone is not taken). A catalog error as is (the caller
// retries a blink).
Status FindDuplicate(catalog::Catalog& catalog, storage::Store& store, const catalog::Video& video,
                     TrustFindings& findings);

// The attempt's result when the findings settle it before decoding (a
// fixity mismatch; a duplicate under reject, or under skip of a processed
// video); nullopt when the media must be processed.
std::optional<StageResult> SettledByTrust(const TrustFindings& findings, DedupePolicy policy);

// Adds the fixity and duplicate checks (and their details: "original",
// "fixity", "duplicate_of") to a stage's QC report, with its verdict and
// summary judged again.
void AddTrustChecks(const TrustFindings& findings, DedupePolicy policy, StageResult& result);

// Adds the near_duplicate check (a warning) and "near_duplicates" to the
// stage's report when `found` is not empty.
void AddNearDuplicateChecks(const std::vector<NearDuplicate>& found, StageResult& result);

// {"id","name","location","state"} of the video a duplicate repeats.
nlohmann::json DuplicateJson(const catalog::Video& other);

// Adds one check to a contract QC report and judges its verdict and
// summary again (errors first, then warnings).
void AddCheck(StageResult& result, const std::string& id, bool error, bool passed,
              const std::string& message);

}  // namespace vidgate::pipeline
