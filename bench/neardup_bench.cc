// neardup_bench: how fast a new video finds the footage it shares among
// many filed videos (pipeline::FindNearDuplicates, through the catalog's
// band index), against reading and comparing every fingerprint (a scan).
//   neardup_bench URL N QUERIES     URL: sqlite://PATH or postgresql://...
// Fills the catalog with N filed videos of 20 s each (40 windows; each
// window's hash a few bits from the one before, as footage drifts), unless
// it holds them already; then times QUERIES lookups of a trimmed, noisy
// copy of a random filed video (it must be found) and of unrelated footage
// (nothing must be), and a few scans. Prints medians in milliseconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "catalog/catalog.h"
#include "pipeline/near_duplicates.h"

using namespace vidgate;

namespace {

constexpr int kWindows = 40;

qc::Fingerprint Footage(std::mt19937_64& rng) {
  qc::Fingerprint f;
  uint64_t h = rng();
  for (int w = 0; w < kWindows; ++w) {
    for (int flip = 0; flip < 4; ++flip) h ^= uint64_t{1} << (rng() % 64);
    f.hashes.push_back(h == 0 ? 1 : h);
  }
  return f;
}

// A copy trimmed by `cut` windows at the start, with up to 3 bits of noise
// a window (a re-encode).
qc::Fingerprint Copy(const qc::Fingerprint& of, int cut, std::mt19937_64& rng) {
  qc::Fingerprint f;
  for (size_t w = static_cast<size_t>(cut); w < of.hashes.size(); ++w) {
    uint64_t h = of.hashes[w];
    for (int flip = 0, n = static_cast<int>(rng() % 4); flip < n; ++flip) {
      h ^= uint64_t{1} << (rng() % 64);
    }
    f.hashes.push_back(h == 0 ? 1 : h);
  }
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Ms(std::chrono::steady_clock::time_point from) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: neardup_bench URL N QUERIES\n");
    return 2;
  }
  auto opened = catalog::Open(argv[1]);
  if (!opened.ok() || !(*opened)->Migrate().ok()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 3;
  }
  catalog::Catalog& c = **opened;
  const int n = std::stoi(argv[2]);
  const int queries = std::stoi(argv[3]);
  std::mt19937_64 rng(42);
  std::vector<qc::Fingerprint> filed;
  filed.reserve(n);
  for (int i = 0; i < n; ++i) filed.push_back(Footage(rng));
  auto existing = c.FindVideoByName("fp-" + std::to_string(n - 1));
  const auto fill_from = std::chrono::steady_clock::now();
  if (!existing.ok()) {
    for (int i = 0; i < n; ++i) {
      const std::string name = "fp-" + std::to_string(i);
      auto id =
          c.Register({name, "uploads/" + name + ".mp4", catalog::State::kQueued, 1.0 + i}, {});
      if (!id.ok() || !id->has_value()) {
        std::fprintf(stderr, "register %s failed\n", name.c_str());
        return 3;
      }
      catalog::VideoChange done;
      done.video_id = **id;
      done.now = 2.0 + i;
      done.state = catalog::State::kProcessed;
      done.location = "processed/" + name;
      done.current_key = "processed/" + name + "/" + name + ".mp4";
      done.job = catalog::VideoChange::Job::kRemove;
      done.fingerprint = pipeline::RecordOf(filed[i]);
      if (Status s = c.Apply(done); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 3;
      }
    }
    std::printf("filled %d videos in %.1f s\n", n, Ms(fill_from) / 1000);
  }
  auto asking = c.Register({"query", "uploads/query.mp4", catalog::State::kQueued, 0}, {});
  const int64_t asking_id = asking.ok() && asking->has_value() ? **asking : -1;

  std::vector<double> copy_ms, other_ms;
  int found = 0, false_found = 0;
  for (int q = 0; q < queries; ++q) {
    const int target = static_cast<int>(rng() % static_cast<uint64_t>(n));
    const qc::Fingerprint copy = Copy(filed[target], 5 + static_cast<int>(rng() % 5), rng);
    auto from = std::chrono::steady_clock::now();
    auto got = pipeline::FindNearDuplicates(c, asking_id, copy, pipeline::kDefaultSimilarity);
    copy_ms.push_back(Ms(from));
    if (got.ok() && !got->empty() && (*got)[0].other.name == "fp-" + std::to_string(target)) {
      ++found;
    }
    const qc::Fingerprint other = Footage(rng);
    from = std::chrono::steady_clock::now();
    auto none = pipeline::FindNearDuplicates(c, asking_id, other, pipeline::kDefaultSimilarity);
    other_ms.push_back(Ms(from));
    if (!none.ok() || !none->empty()) ++false_found;
  }
  // The scan a matcher without the index would make: every fingerprint
  // read and compared at every alignment.
  std::vector<double> scan_ms;
  for (int s = 0; s < 3; ++s) {
    const qc::Fingerprint copy = Copy(filed[static_cast<size_t>(rng() % n)], 7, rng);
    std::vector<int> offsets(2 * kWindows);
    std::iota(offsets.begin(), offsets.end(), -kWindows);
    const auto from = std::chrono::steady_clock::now();
    double best = 0;
    for (int64_t id = 1; id <= n; ++id) {
      auto hex = c.FingerprintOf(id);
      if (!hex.ok()) continue;
      auto other = qc::Fingerprint::FromHex(*hex);
      if (!other.ok()) continue;
      best = std::max(best, qc::BestMatch(copy, *other, offsets).similarity);
    }
    scan_ms.push_back(Ms(from));
    if (best < pipeline::kDefaultSimilarity) ++false_found;
  }
  std::printf(
      "videos %d  lookups %d  copy found %d/%d  wrong answers %d\n"
      "index: copy median %.2f ms, unrelated median %.2f ms; scan median %.0f ms (%.0fx)\n",
      n, queries, found, queries, false_found, Median(copy_ms), Median(other_ms), Median(scan_ms),
      Median(scan_ms) / std::max(0.001, Median(copy_ms)));
  return found == queries && false_found == 0 ? 0 : 1;
}
