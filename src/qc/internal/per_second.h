// per_second.h (internal): values bucketed by whole second of stream time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace vidgate::qc::internal {

// Accumulates values into buckets [k, k+1) seconds; times below 0 go to
// bucket 0, times from kMaxSeconds on (a corrupt timestamp) are dropped so a
// bad file cannot make the series huge. Buckets that received nothing are
// empty (nullopt).
class PerSecond {
 public:
  static constexpr double kMaxSeconds = 7 * 24 * 3600;

  void Add(double time_seconds, double value) {
    if (time_seconds >= kMaxSeconds) return;
    const size_t k = Bucket(time_seconds);
    if (k >= sums_.size()) {
      sums_.resize(k + 1, 0.0);
      counts_.resize(k + 1, 0);
      maxima_.resize(k + 1, 0.0);
    }
    maxima_[k] = counts_[k] == 0 ? value : std::max(maxima_[k], value);
    sums_[k] += value;
    ++counts_[k];
  }

  // The mean of each bucket.
  std::vector<std::optional<double>> Means() const {
    std::vector<std::optional<double>> out(sums_.size());
    for (size_t k = 0; k < sums_.size(); ++k) {
      if (counts_[k] > 0) out[k] = sums_[k] / static_cast<double>(counts_[k]);
    }
    return out;
  }

  // The largest value of each bucket.
  std::vector<std::optional<double>> Maxima() const {
    std::vector<std::optional<double>> out(sums_.size());
    for (size_t k = 0; k < sums_.size(); ++k) {
      if (counts_[k] > 0) out[k] = maxima_[k];
    }
    return out;
  }

 private:
  static size_t Bucket(double t) {
    if (!(t > 0)) return 0;  // also NaN
    return static_cast<size_t>(std::floor(t));
  }

  std::vector<double> sums_;
  std::vector<int64_t> counts_;
  std::vector<double> maxima_;
};

}  // namespace vidgate::qc::internal
