// pixel_ops.h (internal): whole-plane sample statistics used by the video
// analysers. 8-bit planes take an SSE2 path on x86-64 (the analysers run on
// every decoded frame and must stay cheap next to the decoder); every other
// case is plain C++. Both paths give identical results.
#pragma once

#include <cstdint>

#include "qc/internal/video_planes.h"

namespace vidgate::qc::internal {

// Samples of `plane` whose value is <= threshold.
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold);

// Sum of the samples of `plane`.
uint64_t SumSamples(const Plane& plane, int bytes_per_sample);

// Sum of |a - b| over the samples of two planes of the same size.
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample);

// Samples of `plane` below `low` or above `high`.
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high);

// The portable implementations, exposed so tests can check the fast path
// against them.
namespace scalar {
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold);
uint64_t SumSamples(const Plane& plane, int bytes_per_sample);
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample);
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high);
}  // namespace scalar

}  // namespace vidgate::qc::internal
