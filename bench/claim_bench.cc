// claim_bench: how long a worker waits for the catalog to hand it a job.
// Registers JOBS queued videos, then THREADS workers (each with its own
// catalog connection, as separate processes would have) claim and close
// them as fast as they can. Prints claim latency p50/p99/max and jobs/s.
//   claim_bench URL [JOBS] [THREADS]     URL: sqlite://PATH or postgresql://...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"

using namespace vidgate;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: claim_bench URL [JOBS] [THREADS]\n");
    return 2;
  }
  const std::string url = argv[1];
  const int jobs = argc > 2 ? std::stoi(argv[2]) : 2000;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 8;
  auto setup = catalog::Open(url);
  if (!setup.ok() || !(*setup)->Migrate().ok()) {
    std::fprintf(stderr, "cannot open %s\n", url.c_str());
    return 3;
  }
  for (int i = 0; i < jobs; ++i) {
    auto r = (*setup)->Register({"b" + std::to_string(i), "uploads/b" + std::to_string(i) + ".mp4",
                                 catalog::State::kQueued, 1},
                                {});
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 3;
    }
  }
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto cat = std::move(catalog::Open(url)).value();
      const std::string owner = "bench-" + std::to_string(t);
      for (;;) {
        const auto c0 = Clock::now();
        auto claim = cat->ClaimNext(owner, 10, 60, 5);
        latencies[static_cast<size_t>(t)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - c0).count());
        if (!claim.ok() || !claim->has_value()) return;
        catalog::VideoChange done;
        done.video_id = (*claim)->video.id;
        done.now = 11;
        done.state = catalog::State::kProcessed;
        done.job = catalog::VideoChange::Job::kRemove;
        done.end_attempt = catalog::AttemptEnd{"succeeded", "", false};
        done.lease_owner = owner;
        if (!cat->Apply(done).ok()) return;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "%-10s threads=%d jobs=%d  claims/s=%.0f  claim p50=%.2f ms p99=%.2f ms max=%.2f ms\n",
      url.substr(0, url.find(':')).c_str(), threads, jobs, jobs / seconds, pct(0.50), pct(0.99),
      all.back());
  return 0;
}
