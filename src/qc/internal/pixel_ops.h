// pixel_ops.h (internal): whole-plane sample statistics used by the video
// analysers. 8-bit planes take an SSE2 path on x86-64 (the analysers run on
// every decoded frame and must stay cheap next to the decoder); every other
// case is plain C++. Both paths give identical results.
#pragma once

#include <cstdint>

#include "qc/internal/video_planes.h"

namespace vidgate::qc::internal {

// Rows first .. first + count - 1 of `plane`, as a plane of their own.
inline Plane RowsOf(const Plane& plane, int first, int count) {
  Plane out = plane;
  out.data = plane.data + first * plane.linesize;
  out.height = count;
  return out;
}

// Samples of `plane` whose value is <= threshold.
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold);

// Sum of the samples of `plane`.
uint64_t SumSamples(const Plane& plane, int bytes_per_sample);

// Sum of |a - b| over the samples of two planes of the same size.
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample);

// Samples of `plane` below `low` or above `high`.
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high);

// One pass over a (luma) plane for what several analysers need of it.
struct LumaCounts {
  uint64_t at_most = 0;  // samples <= at_most (black)
  uint64_t outside = 0;  // samples < low or > high (broadcast range)
  uint64_t sum = 0;      // sum of the samples (average luma)
};
LumaCounts CountLuma(const Plane& plane, int bytes_per_sample, uint32_t at_most, uint32_t low,
                     uint32_t high);

// Combed pixels of three weaves of two frames' luma planes (see
// interlace_detector.h), counted on odd rows y = 3, 3 + 2 * row_step, ...
// while y + 2 < height. A pixel of row `mid` combs when, with `up`/`down` the
// rows above and below (the other field) and `up2`/`down2` two rows away (its
// own field), |up + down - 2 mid| > threshold and > 2 |up2 + down2 - 2 mid|.
//   cur: every row from `cur`;
//   tff: even rows from `cur`, odd rows from `prev`;
//   bff: even rows from `prev`, odd rows from `cur`.
struct CombCounts {
  uint64_t cur = 0;
  uint64_t tff = 0;
  uint64_t bff = 0;
  uint64_t pixels = 0;  // pixels examined per weave
};
CombCounts CountCombing(const Plane& cur, const Plane& prev, int bytes_per_sample, int threshold,
                        int row_step);

// What the analysers take of a frame's luma, in one sweep over bands of rows
// so that each row comes from memory once instead of once per statistic:
// CountLuma(cur), and when `prev` (the previous frame's luma, the same size)
// is given, SumAbsDiff(cur, prev) and CountCombing(cur, prev). The results
// are exactly those of the separate calls.
struct LumaScan {
  LumaCounts counts;
  uint64_t abs_diff = 0;
  CombCounts combing;
};
LumaScan ScanLuma(const Plane& cur, const Plane* prev, int bytes_per_sample, uint32_t at_most,
                  uint32_t low, uint32_t high, int comb_threshold, int comb_row_step);

// The portable implementations, exposed so tests can check the fast path
// against them.
namespace scalar {
LumaCounts CountLuma(const Plane& plane, int bytes_per_sample, uint32_t at_most, uint32_t low,
                     uint32_t high);
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold);
uint64_t SumSamples(const Plane& plane, int bytes_per_sample);
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample);
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high);
CombCounts CountCombing(const Plane& cur, const Plane& prev, int bytes_per_sample, int threshold,
                        int row_step);
}  // namespace scalar

}  // namespace vidgate::qc::internal
