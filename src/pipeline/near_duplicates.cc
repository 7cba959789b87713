#include "pipeline/near_duplicates.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace vidgate::pipeline {
namespace {

constexpr int kMinMatchedWindows = 4;  // two seconds of shared footage
constexpr int kCandidates = 20;        // videos confirmed on their whole fingerprint
constexpr int kMaxHits = 20000;        // index entries read per video looked up
constexpr size_t kMaxFound = 5;
// A band value that many of my windows share (a still picture, a long
// static shot) says little and would multiply the votes: not looked up.
constexpr size_t kMaxWindowsPerKey = 32;

double Rounded(double seconds) { return std::round(seconds * 1000) / 1000; }

}  // namespace

catalog::FingerprintRecord RecordOf(const qc::Fingerprint& fingerprint) {
  catalog::FingerprintRecord out;
  out.hashes = fingerprint.ToHex();
  for (size_t w = 0; w < fingerprint.hashes.size(); w += qc::kIndexStride) {
    const uint64_t hash = fingerprint.hashes[w];
    if (hash == 0) continue;
    for (int64_t key : qc::BandKeys(hash)) out.index.emplace_back(key, static_cast<int>(w));
  }
  return out;
}

Result<std::vector<NearDuplicate>> FindNearDuplicates(catalog::Catalog& catalog, int64_t video_id,
                                                      const qc::Fingerprint& fingerprint,
                                                      double similarity, int64_t skip_id) {
  std::vector<NearDuplicate> out;
  if (similarity <= 0 || fingerprint.Informative() < kMinMatchedWindows) return out;
  // Every window's bands: which of my windows each key stands for.
  std::map<int64_t, std::vector<int>> windows_of;
  for (size_t w = 0; w < fingerprint.hashes.size(); ++w) {
    if (fingerprint.hashes[w] == 0) continue;
    for (int64_t key : qc::BandKeys(fingerprint.hashes[w])) {
      windows_of[key].push_back(static_cast<int>(w));
    }
  }
  std::vector<int64_t> keys;
  keys.reserve(windows_of.size());
  for (const auto& [key, windows] : windows_of) {
    if (windows.size() <= kMaxWindowsPerKey) keys.push_back(key);
  }
  VG_ASSIGN_OR_RETURN(std::vector<catalog::FingerprintHit> hits,
                      catalog.FingerprintHits(keys, video_id, kMaxHits));
  // Votes for an alignment: (video, other's window - mine).
  std::map<std::pair<int64_t, int>, int> votes;
  for (const auto& hit : hits) {
    if (hit.video_id == skip_id) continue;
    for (int mine : windows_of[hit.key]) ++votes[{hit.video_id, hit.window - mine}];
  }
  std::map<int64_t, std::vector<std::pair<int, int>>> by_video;  // video -> (votes, offset)
  for (const auto& [at, n] : votes) by_video[at.first].emplace_back(n, at.second);
  std::vector<std::pair<int, int64_t>> ranked;  // (best votes, video)
  for (auto& [video, offsets] : by_video) {
    std::sort(offsets.rbegin(), offsets.rend());
    ranked.emplace_back(offsets.front().first, video);
  }
  std::sort(ranked.rbegin(), ranked.rend());
  if (ranked.size() > static_cast<size_t>(kCandidates)) ranked.resize(kCandidates);
  for (const auto& [best_votes, video] : ranked) {
    VG_ASSIGN_OR_RETURN(std::string hex, catalog.FingerprintOf(video));
    auto other = qc::Fingerprint::FromHex(hex);
    if (!other.ok()) continue;  // not one this version wrote
    std::vector<int> offsets;
    for (const auto& [n, offset] : by_video[video]) {
      if (offsets.size() < 3) offsets.push_back(offset);
    }
    qc::FootageMatch match = qc::BestMatch(fingerprint, *other, offsets);
    if (match.matched < kMinMatchedWindows || match.similarity < similarity) continue;
    VG_ASSIGN_OR_RETURN(catalog::Video record, catalog.GetVideo(video));
    out.push_back(NearDuplicate{std::move(record), std::move(match)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.match.similarity != b.match.similarity ? a.match.similarity > b.match.similarity
                                                    : a.other.id < b.other.id;
  });
  if (out.size() > kMaxFound) out.resize(kMaxFound);
  return out;
}

nlohmann::json NearDuplicatesJson(const std::vector<NearDuplicate>& found) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : found) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& r : d.match.ranges) {
      ranges.push_back({{"start", Rounded(r.start)},
                        {"end", Rounded(r.end)},
                        {"other_start", Rounded(r.other_start)},
                        {"other_end", Rounded(r.other_end)}});
    }
    out.push_back({{"id", d.other.id},
                   {"name", d.other.name},
                   {"location", d.other.location},
                   {"state", std::string(catalog::StateName(d.other.state))},
                   {"similarity", std::round(d.match.similarity * 1000) / 1000},
                   {"ranges", std::move(ranges)}});
  }
  return out;
}

}  // namespace vidgate::pipeline
