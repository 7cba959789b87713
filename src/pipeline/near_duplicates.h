// near_duplicates.h: the filed videos whose footage a new video shares
// (re-encoded, resized, trimmed), found through the catalog's index of
// fingerprint bands and confirmed on the whole fingerprints.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "qc/fingerprint.h"

namespace vidgate::pipeline {

// [dedupe] similarity by default: half of the shorter video's windows.
// Measured: a re-encode at another size, rate and codec and a trimmed copy
// score 1; unrelated clips (testsrc2, Mandelbrot, Life, cellular automata,
// noisy bars) 0 at any alignment (qc/fingerprint_test.cc).
inline constexpr double kDefaultSimilarity = 0.5;

struct NearDuplicate {
  catalog::Video other;
  qc::FootageMatch match;
};

// The catalog's record of a fingerprint: its hashes and index entries
// (every qc::kIndexStride-th informative window, its four band keys).
catalog::FingerprintRecord RecordOf(const qc::Fingerprint& fingerprint);

// Filed videos other than `video_id` (and `skip_id`, an exact duplicate
// already reported) whose footage matches `fingerprint` with at least
// `similarity` (and over two seconds at least), best first, at most five.
Result<std::vector<NearDuplicate>> FindNearDuplicates(catalog::Catalog& catalog, int64_t video_id,
                                                      const qc::Fingerprint& fingerprint,
                                                      double similarity, int64_t skip_id = 0);

// [{"id","name","location","state","similarity","ranges":[{"start","end",
// "other_start","other_end"}]}] for reports and events.
nlohmann::json NearDuplicatesJson(const std::vector<NearDuplicate>& found);

}  // namespace vidgate::pipeline
