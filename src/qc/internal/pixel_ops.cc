#include "qc/internal/pixel_ops.h"

#include <algorithm>
#include <cstdlib>

// The SSE2 paths use 64-bit lane moves, so they are for x86-64 only.
#if defined(__SSE2__) && defined(__x86_64__)
#define VIDGATE_QC_SSE2 1
#include <immintrin.h>
#endif

namespace vidgate::qc::internal {
namespace {

template <typename T>
const T* Row(const Plane& plane, int y) {
  return reinterpret_cast<const T*>(plane.data + static_cast<ptrdiff_t>(y) * plane.linesize);
}

template <typename T>
uint64_t CountAtMostT(const Plane& plane, uint32_t threshold) {
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    const T* row = Row<T>(plane, y);
    uint32_t n = 0;
    for (int x = 0; x < plane.width; ++x) n += row[x] <= threshold ? 1 : 0;
    total += n;
  }
  return total;
}

template <typename T>
LumaCounts CountLumaT(const Plane& plane, uint32_t at_most, uint32_t low, uint32_t high) {
  LumaCounts out;
  for (int y = 0; y < plane.height; ++y) {
    const T* row = Row<T>(plane, y);
    for (int x = 0; x < plane.width; ++x) {
      out.at_most += row[x] <= at_most ? 1 : 0;
      out.outside += (row[x] < low || row[x] > high) ? 1 : 0;
      out.sum += row[x];
    }
  }
  return out;
}

template <typename T>
uint64_t SumSamplesT(const Plane& plane) {
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    const T* row = Row<T>(plane, y);
    uint64_t sum = 0;
    for (int x = 0; x < plane.width; ++x) sum += row[x];
    total += sum;
  }
  return total;
}

template <typename T>
uint64_t SumAbsDiffT(const Plane& a, const Plane& b) {
  uint64_t total = 0;
  for (int y = 0; y < a.height; ++y) {
    const T* ra = Row<T>(a, y);
    const T* rb = Row<T>(b, y);
    uint64_t sum = 0;
    for (int x = 0; x < a.width; ++x) sum += static_cast<uint32_t>(std::abs(ra[x] - rb[x]));
    total += sum;
  }
  return total;
}

template <typename T>
uint64_t CountOutsideT(const Plane& plane, uint32_t low, uint32_t high) {
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    const T* row = Row<T>(plane, y);
    uint32_t n = 0;
    for (int x = 0; x < plane.width; ++x) n += (row[x] < low || row[x] > high) ? 1 : 0;
    total += n;
  }
  return total;
}

// 1 when `mid` combs against `up`/`down` but not against `up2`/`down2`.
inline uint32_t Combs(int up2, int up, int mid, int down, int down2, int threshold) {
  const int cross = std::abs(up + down - 2 * mid);
  const int same = std::abs(up2 + down2 - 2 * mid);
  return (cross > threshold && cross > 2 * same) ? 1u : 0u;
}

// The rows around odd row y of a plane.
template <typename T>
struct FiveRows {
  FiveRows(const Plane& plane, int y)
      : up2(Row<T>(plane, y - 2)),
        up(Row<T>(plane, y - 1)),
        mid(Row<T>(plane, y)),
        down(Row<T>(plane, y + 1)),
        down2(Row<T>(plane, y + 2)) {}
  const T* up2;
  const T* up;
  const T* mid;
  const T* down;
  const T* down2;
};

// Counts combing on row `y` from column `x0` on.
template <typename T>
void CombRowTail(const FiveRows<T>& c, const FiveRows<T>& p, int x0, int width, int threshold,
                 CombCounts* counts) {
  for (int x = x0; x < width; ++x) {
    counts->cur += Combs(c.up2[x], c.up[x], c.mid[x], c.down[x], c.down2[x], threshold);
    counts->tff += Combs(p.up2[x], c.up[x], p.mid[x], c.down[x], p.down2[x], threshold);
    counts->bff += Combs(c.up2[x], p.up[x], c.mid[x], p.down[x], c.down2[x], threshold);
  }
}

template <typename T>
CombCounts CountCombingT(const Plane& cur, const Plane& prev, int threshold, int row_step) {
  CombCounts counts;
  for (int y = 3; y + 2 < cur.height; y += 2 * row_step) {
    CombRowTail(FiveRows<T>(cur, y), FiveRows<T>(prev, y), 0, cur.width, threshold, &counts);
    counts.pixels += static_cast<uint64_t>(cur.width);
  }
  return counts;
}

#if defined(VIDGATE_QC_SSE2)
// The sum of the two 64-bit lanes of `sums`.
inline uint64_t HorizontalSum(__m128i sums) {
  return static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) +
         static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
}

// Counts the samples of a row for which `mask` sets the byte lane to 0xFF
// (16 at a time) or `pred` is true (the tail). Lane counts are added as bytes
// for at most 255 blocks, then widened by a SAD against zero.
template <typename MaskFn, typename PredFn>
uint64_t CountRow8(const uint8_t* row, int width, MaskFn mask, PredFn pred) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i one = _mm_set1_epi8(1);
  __m128i wide = zero;
  int x = 0;
  while (x + 16 <= width) {
    __m128i narrow = zero;
    for (int block = 0; block < 255 && x + 16 <= width; ++block, x += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
      narrow = _mm_add_epi8(narrow, _mm_and_si128(mask(v), one));
    }
    wide = _mm_add_epi64(wide, _mm_sad_epu8(narrow, zero));
  }
  uint64_t n = HorizontalSum(wide);
  for (; x < width; ++x) n += pred(row[x]) ? 1 : 0;
  return n;
}

uint64_t CountAtMost8(const Plane& plane, uint32_t threshold) {
  if (threshold >= 255) return static_cast<uint64_t>(plane.width) * plane.height;
  const __m128i t = _mm_set1_epi8(static_cast<char>(threshold));
  auto mask = [t](__m128i v) { return _mm_cmpeq_epi8(_mm_min_epu8(v, t), v); };
  auto pred = [threshold](uint8_t v) { return v <= threshold; };
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    total += CountRow8(Row<uint8_t>(plane, y), plane.width, mask, pred);
  }
  return total;
}

uint64_t CountOutside8(const Plane& plane, uint32_t low, uint32_t high) {
  if (low > 255) return static_cast<uint64_t>(plane.width) * plane.height;
  if (high > 255) high = 255;
  // v >= low  <=>  max(v, low) == v;  v <= high  <=>  min(v, high) == v.
  const __m128i lo = _mm_set1_epi8(static_cast<char>(low));
  const __m128i hi = _mm_set1_epi8(static_cast<char>(high));
  const __m128i ones = _mm_set1_epi8(-1);
  auto mask = [lo, hi, ones](__m128i v) {
    const __m128i inside = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, lo), v),
                                         _mm_cmpeq_epi8(_mm_min_epu8(v, hi), v));
    return _mm_xor_si128(inside, ones);
  };
  auto pred = [low, high](uint8_t v) { return v < low || v > high; };
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    total += CountRow8(Row<uint8_t>(plane, y), plane.width, mask, pred);
  }
  return total;
}

uint64_t SumSamples8(const Plane& plane) {
  const __m128i zero = _mm_setzero_si128();
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    const uint8_t* row = Row<uint8_t>(plane, y);
    __m128i acc = zero;
    int x = 0;
    for (; x + 16 <= plane.width; x += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
      acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
    }
    uint64_t sum = HorizontalSum(acc);
    for (; x < plane.width; ++x) sum += row[x];
    total += sum;
  }
  return total;
}

uint64_t SumAbsDiff8(const Plane& a, const Plane& b) {
  uint64_t total = 0;
  for (int y = 0; y < a.height; ++y) {
    const uint8_t* ra = Row<uint8_t>(a, y);
    const uint8_t* rb = Row<uint8_t>(b, y);
    __m128i acc = _mm_setzero_si128();
    int x = 0;
    for (; x + 16 <= a.width; x += 16) {
      const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ra + x));
      const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rb + x));
      acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
    }
    uint64_t sum = HorizontalSum(acc);
    for (; x < a.width; ++x) sum += static_cast<uint32_t>(std::abs(ra[x] - rb[x]));
    total += sum;
  }
  return total;
}
// Lanes (16-bit) where the middle row combs: see Combs().
inline __m128i CombMask(__m128i up2, __m128i up, __m128i mid, __m128i down, __m128i down2,
                        __m128i threshold) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i mid2 = _mm_add_epi16(mid, mid);
  __m128i cross = _mm_sub_epi16(_mm_add_epi16(up, down), mid2);
  cross = _mm_max_epi16(cross, _mm_sub_epi16(zero, cross));
  __m128i same = _mm_sub_epi16(_mm_add_epi16(up2, down2), mid2);
  same = _mm_max_epi16(same, _mm_sub_epi16(zero, same));
  return _mm_and_si128(_mm_cmpgt_epi16(cross, threshold),
                       _mm_cmpgt_epi16(cross, _mm_add_epi16(same, same)));
}

CombCounts CountCombing8(const Plane& cur, const Plane& prev, int threshold, int row_step) {
  CombCounts counts;
  const __m128i zero = _mm_setzero_si128();
  const __m128i t = _mm_set1_epi16(static_cast<int16_t>(threshold));
  for (int y = 3; y + 2 < cur.height; y += 2 * row_step) {
    const FiveRows<uint8_t> c(cur, y);
    const FiveRows<uint8_t> p(prev, y);
    // Per-lane counts, one row at a time: a 16-bit lane counts at most
    // width / 8 pixels, which fits for any width below 262144.
    __m128i n_cur = zero, n_tff = zero, n_bff = zero;
    int x = 0;
    auto load = [](const uint8_t* row, int at) {
      return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + at));
    };
    for (; x + 8 <= cur.width; x += 8) {
      const __m128i cu2 = _mm_unpacklo_epi8(load(c.up2, x), zero);
      const __m128i cu = _mm_unpacklo_epi8(load(c.up, x), zero);
      const __m128i cm = _mm_unpacklo_epi8(load(c.mid, x), zero);
      const __m128i cd = _mm_unpacklo_epi8(load(c.down, x), zero);
      const __m128i cd2 = _mm_unpacklo_epi8(load(c.down2, x), zero);
      const __m128i pu2 = _mm_unpacklo_epi8(load(p.up2, x), zero);
      const __m128i pu = _mm_unpacklo_epi8(load(p.up, x), zero);
      const __m128i pm = _mm_unpacklo_epi8(load(p.mid, x), zero);
      const __m128i pd = _mm_unpacklo_epi8(load(p.down, x), zero);
      const __m128i pd2 = _mm_unpacklo_epi8(load(p.down2, x), zero);
      n_cur = _mm_sub_epi16(n_cur, CombMask(cu2, cu, cm, cd, cd2, t));
      n_tff = _mm_sub_epi16(n_tff, CombMask(pu2, cu, pm, cd, pd2, t));
      n_bff = _mm_sub_epi16(n_bff, CombMask(cu2, pu, cm, pd, cd2, t));
    }
    // Widen the 16-bit lane counts: madd with ones sums pairs into 32 bits.
    const __m128i ones = _mm_set1_epi16(1);
    alignas(16) uint32_t lanes[3][4];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes[0]), _mm_madd_epi16(n_cur, ones));
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes[1]), _mm_madd_epi16(n_tff, ones));
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes[2]), _mm_madd_epi16(n_bff, ones));
    for (int k = 0; k < 4; ++k) {
      counts.cur += lanes[0][k];
      counts.tff += lanes[1][k];
      counts.bff += lanes[2][k];
    }
    CombRowTail(c, p, x, cur.width, threshold, &counts);
    counts.pixels += static_cast<uint64_t>(cur.width);
  }
  return counts;
}

// AVX2 versions of the 8-bit paths, 32 samples at a time, chosen at run time
// on CPUs that have it (the build targets plain x86-64). Each gives the same
// results as the scalar code; the tests compare them on this machine.
#define VIDGATE_AVX2 __attribute__((target("avx2")))

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

VIDGATE_AVX2 inline uint64_t HorizontalSum256(__m256i sums) {
  return HorizontalSum(
      _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1)));
}

// Counts the 0xFF byte lanes of masks over a row, as CountRow8 does: byte
// counters for at most 255 blocks, widened by a SAD against zero. `kind`
// picks the mask: 0 = v <= hi, 1 = v < lo or v > hi.
VIDGATE_AVX2 uint64_t CountRow8Avx2(const uint8_t* row, int width, int kind, uint8_t lo,
                                    uint8_t hi) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i vlo = _mm256_set1_epi8(static_cast<char>(lo));
  const __m256i vhi = _mm256_set1_epi8(static_cast<char>(hi));
  const __m256i ones = _mm256_set1_epi8(-1);
  __m256i wide = zero;
  int x = 0;
  while (x + 32 <= width) {
    __m256i narrow = zero;
    for (int block = 0; block < 255 && x + 32 <= width; ++block, x += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x));
      const __m256i at_most_hi = _mm256_cmpeq_epi8(_mm256_min_epu8(v, vhi), v);
      __m256i mask = at_most_hi;
      if (kind == 1) {
        const __m256i at_least_lo = _mm256_cmpeq_epi8(_mm256_max_epu8(v, vlo), v);
        mask = _mm256_xor_si256(_mm256_and_si256(at_least_lo, at_most_hi), ones);
      }
      narrow = _mm256_add_epi8(narrow, _mm256_and_si256(mask, one));
    }
    wide = _mm256_add_epi64(wide, _mm256_sad_epu8(narrow, zero));
  }
  uint64_t n = HorizontalSum256(wide);
  for (; x < width; ++x) {
    n += (kind == 0 ? row[x] <= hi : (row[x] < lo || row[x] > hi)) ? 1 : 0;
  }
  return n;
}

VIDGATE_AVX2 uint64_t CountAtMost8Avx2(const Plane& plane, uint32_t threshold) {
  if (threshold >= 255) return static_cast<uint64_t>(plane.width) * plane.height;
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    total +=
        CountRow8Avx2(Row<uint8_t>(plane, y), plane.width, 0, 0, static_cast<uint8_t>(threshold));
  }
  return total;
}

VIDGATE_AVX2 uint64_t CountOutside8Avx2(const Plane& plane, uint32_t low, uint32_t high) {
  if (low > 255) return static_cast<uint64_t>(plane.width) * plane.height;
  if (high > 255) high = 255;
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    total += CountRow8Avx2(Row<uint8_t>(plane, y), plane.width, 1, static_cast<uint8_t>(low),
                           static_cast<uint8_t>(high));
  }
  return total;
}

VIDGATE_AVX2 uint64_t SumSamples8Avx2(const Plane& plane) {
  const __m256i zero = _mm256_setzero_si256();
  uint64_t total = 0;
  for (int y = 0; y < plane.height; ++y) {
    const uint8_t* row = Row<uint8_t>(plane, y);
    __m256i acc = zero;
    int x = 0;
    for (; x + 32 <= plane.width; x += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x));
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
    }
    uint64_t sum = HorizontalSum256(acc);
    for (; x < plane.width; ++x) sum += row[x];
    total += sum;
  }
  return total;
}

VIDGATE_AVX2 uint64_t SumAbsDiff8Avx2(const Plane& a, const Plane& b) {
  uint64_t total = 0;
  for (int y = 0; y < a.height; ++y) {
    const uint8_t* ra = Row<uint8_t>(a, y);
    const uint8_t* rb = Row<uint8_t>(b, y);
    __m256i acc = _mm256_setzero_si256();
    int x = 0;
    for (; x + 32 <= a.width; x += 32) {
      const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + x));
      const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rb + x));
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(va, vb));
    }
    uint64_t sum = HorizontalSum256(acc);
    for (; x < a.width; ++x) sum += static_cast<uint32_t>(std::abs(ra[x] - rb[x]));
    total += sum;
  }
  return total;
}

// CountLuma for 8-bit samples with at_most, low and high all below 256 (the
// caller handles the rest): one load of each 32 samples for all three.
VIDGATE_AVX2 LumaCounts CountLuma8Avx2(const Plane& plane, uint8_t at_most, uint8_t low,
                                       uint8_t high) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i ones = _mm256_set1_epi8(-1);
  const __m256i va = _mm256_set1_epi8(static_cast<char>(at_most));
  const __m256i vlo = _mm256_set1_epi8(static_cast<char>(low));
  const __m256i vhi = _mm256_set1_epi8(static_cast<char>(high));
  LumaCounts out;
  __m256i wide_at_most = zero, wide_outside = zero, sums = zero;
  for (int y = 0; y < plane.height; ++y) {
    const uint8_t* row = Row<uint8_t>(plane, y);
    int x = 0;
    while (x + 32 <= plane.width) {
      __m256i n_at_most = zero, n_outside = zero;
      for (int block = 0; block < 255 && x + 32 <= plane.width; ++block, x += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x));
        const __m256i le = _mm256_cmpeq_epi8(_mm256_min_epu8(v, va), v);
        const __m256i inside = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(v, vlo), v),
                                                _mm256_cmpeq_epi8(_mm256_min_epu8(v, vhi), v));
        n_at_most = _mm256_add_epi8(n_at_most, _mm256_and_si256(le, one));
        n_outside =
            _mm256_add_epi8(n_outside, _mm256_and_si256(_mm256_xor_si256(inside, ones), one));
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(v, zero));
      }
      wide_at_most = _mm256_add_epi64(wide_at_most, _mm256_sad_epu8(n_at_most, zero));
      wide_outside = _mm256_add_epi64(wide_outside, _mm256_sad_epu8(n_outside, zero));
    }
    for (; x < plane.width; ++x) {
      out.at_most += row[x] <= at_most ? 1 : 0;
      out.outside += (row[x] < low || row[x] > high) ? 1 : 0;
      out.sum += row[x];
    }
  }
  out.at_most += HorizontalSum256(wide_at_most);
  out.outside += HorizontalSum256(wide_outside);
  out.sum += HorizontalSum256(sums);
  return out;
}

// 16-bit lanes where the middle row combs (see Combs()).
VIDGATE_AVX2 inline __m256i CombMaskAvx2(__m256i up2, __m256i up, __m256i mid, __m256i down,
                                         __m256i down2, __m256i threshold) {
  const __m256i mid2 = _mm256_add_epi16(mid, mid);
  const __m256i cross = _mm256_abs_epi16(_mm256_sub_epi16(_mm256_add_epi16(up, down), mid2));
  const __m256i same = _mm256_abs_epi16(_mm256_sub_epi16(_mm256_add_epi16(up2, down2), mid2));
  return _mm256_and_si256(_mm256_cmpgt_epi16(cross, threshold),
                          _mm256_cmpgt_epi16(cross, _mm256_add_epi16(same, same)));
}

VIDGATE_AVX2 inline __m256i Load16(const uint8_t* row, int at) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at)));
}

VIDGATE_AVX2 CombCounts CountCombing8Avx2(const Plane& cur, const Plane& prev, int threshold,
                                          int row_step) {
  CombCounts counts;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i t = _mm256_set1_epi16(static_cast<int16_t>(threshold));
  const __m256i ones = _mm256_set1_epi16(1);
  for (int y = 3; y + 2 < cur.height; y += 2 * row_step) {
    const FiveRows<uint8_t> c(cur, y);
    const FiveRows<uint8_t> p(prev, y);
    // Per-lane counts for one row: a 16-bit lane counts at most width / 16
    // pixels.
    __m256i n_cur = zero, n_tff = zero, n_bff = zero;
    int x = 0;
    for (; x + 16 <= cur.width; x += 16) {
      const __m256i cu2 = Load16(c.up2, x), cu = Load16(c.up, x), cm = Load16(c.mid, x);
      const __m256i cd = Load16(c.down, x), cd2 = Load16(c.down2, x);
      const __m256i pu2 = Load16(p.up2, x), pu = Load16(p.up, x), pm = Load16(p.mid, x);
      const __m256i pd = Load16(p.down, x), pd2 = Load16(p.down2, x);
      n_cur = _mm256_sub_epi16(n_cur, CombMaskAvx2(cu2, cu, cm, cd, cd2, t));
      n_tff = _mm256_sub_epi16(n_tff, CombMaskAvx2(pu2, cu, pm, cd, pd2, t));
      n_bff = _mm256_sub_epi16(n_bff, CombMaskAvx2(cu2, pu, cm, pd, cd2, t));
    }
    alignas(32) uint32_t lanes[3][8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), _mm256_madd_epi16(n_cur, ones));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), _mm256_madd_epi16(n_tff, ones));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), _mm256_madd_epi16(n_bff, ones));
    for (int k = 0; k < 8; ++k) {
      counts.cur += lanes[0][k];
      counts.tff += lanes[1][k];
      counts.bff += lanes[2][k];
    }
    CombRowTail(c, p, x, cur.width, threshold, &counts);
    counts.pixels += static_cast<uint64_t>(cur.width);
  }
  return counts;
}
#endif  // VIDGATE_QC_SSE2

}  // namespace

namespace scalar {

LumaCounts CountLuma(const Plane& plane, int bytes_per_sample, uint32_t at_most, uint32_t low,
                     uint32_t high) {
  return bytes_per_sample == 1 ? CountLumaT<uint8_t>(plane, at_most, low, high)
                               : CountLumaT<uint16_t>(plane, at_most, low, high);
}

uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold) {
  return bytes_per_sample == 1 ? CountAtMostT<uint8_t>(plane, threshold)
                               : CountAtMostT<uint16_t>(plane, threshold);
}

uint64_t SumSamples(const Plane& plane, int bytes_per_sample) {
  return bytes_per_sample == 1 ? SumSamplesT<uint8_t>(plane) : SumSamplesT<uint16_t>(plane);
}

uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample) {
  return bytes_per_sample == 1 ? SumAbsDiffT<uint8_t>(a, b) : SumAbsDiffT<uint16_t>(a, b);
}

uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high) {
  return bytes_per_sample == 1 ? CountOutsideT<uint8_t>(plane, low, high)
                               : CountOutsideT<uint16_t>(plane, low, high);
}

CombCounts CountCombing(const Plane& cur, const Plane& prev, int bytes_per_sample, int threshold,
                        int row_step) {
  return bytes_per_sample == 1 ? CountCombingT<uint8_t>(cur, prev, threshold, row_step)
                               : CountCombingT<uint16_t>(cur, prev, threshold, row_step);
}

}  // namespace scalar

#if defined(VIDGATE_QC_SSE2)
LumaCounts CountLuma(const Plane& plane, int bytes_per_sample, uint32_t at_most, uint32_t low,
                     uint32_t high) {
  if (bytes_per_sample == 1 && HasAvx2() && at_most < 255 && low <= 255 && high < 255) {
    return CountLuma8Avx2(plane, static_cast<uint8_t>(at_most), static_cast<uint8_t>(low),
                          static_cast<uint8_t>(high));
  }
  // Three passes of the other fast paths: the same counts.
  return LumaCounts{CountAtMost(plane, bytes_per_sample, at_most),
                    CountOutside(plane, bytes_per_sample, low, high),
                    SumSamples(plane, bytes_per_sample)};
}
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold) {
  if (bytes_per_sample != 1) return scalar::CountAtMost(plane, bytes_per_sample, threshold);
  return HasAvx2() ? CountAtMost8Avx2(plane, threshold) : CountAtMost8(plane, threshold);
}
uint64_t SumSamples(const Plane& plane, int bytes_per_sample) {
  if (bytes_per_sample != 1) return scalar::SumSamples(plane, bytes_per_sample);
  return HasAvx2() ? SumSamples8Avx2(plane) : SumSamples8(plane);
}
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample) {
  if (bytes_per_sample != 1) return scalar::SumAbsDiff(a, b, bytes_per_sample);
  return HasAvx2() ? SumAbsDiff8Avx2(a, b) : SumAbsDiff8(a, b);
}
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high) {
  if (bytes_per_sample != 1) return scalar::CountOutside(plane, bytes_per_sample, low, high);
  return HasAvx2() ? CountOutside8Avx2(plane, low, high) : CountOutside8(plane, low, high);
}
CombCounts CountCombing(const Plane& cur, const Plane& prev, int bytes_per_sample, int threshold,
                        int row_step) {
  if (bytes_per_sample != 1) {
    return scalar::CountCombing(cur, prev, bytes_per_sample, threshold, row_step);
  }
  return HasAvx2() ? CountCombing8Avx2(cur, prev, threshold, row_step)
                   : CountCombing8(cur, prev, threshold, row_step);
}
#else
LumaCounts CountLuma(const Plane& plane, int bytes_per_sample, uint32_t at_most, uint32_t low,
                     uint32_t high) {
  return scalar::CountLuma(plane, bytes_per_sample, at_most, low, high);
}
uint64_t CountAtMost(const Plane& plane, int bytes_per_sample, uint32_t threshold) {
  return scalar::CountAtMost(plane, bytes_per_sample, threshold);
}
uint64_t SumSamples(const Plane& plane, int bytes_per_sample) {
  return scalar::SumSamples(plane, bytes_per_sample);
}
uint64_t SumAbsDiff(const Plane& a, const Plane& b, int bytes_per_sample) {
  return scalar::SumAbsDiff(a, b, bytes_per_sample);
}
uint64_t CountOutside(const Plane& plane, int bytes_per_sample, uint32_t low, uint32_t high) {
  return scalar::CountOutside(plane, bytes_per_sample, low, high);
}
CombCounts CountCombing(const Plane& cur, const Plane& prev, int bytes_per_sample, int threshold,
                        int row_step) {
  return scalar::CountCombing(cur, prev, bytes_per_sample, threshold, row_step);
}
#endif

namespace {
// Starts loading `plane`'s rows into the cache, a line at a time.
void Prefetch(const Plane& plane, int bytes_per_sample) {
  constexpr int kCacheLine = 64;
  const int bytes = plane.width * bytes_per_sample;
  for (int y = 0; y < plane.height; ++y) {
    const uint8_t* row = plane.data + y * plane.linesize;
    for (int x = 0; x < bytes; x += kCacheLine) __builtin_prefetch(row + x);
  }
}

void Add(LumaCounts& to, const LumaCounts& from) {
  to.at_most += from.at_most;
  to.outside += from.outside;
  to.sum += from.sum;
}

void Add(CombCounts& to, const CombCounts& from) {
  to.cur += from.cur;
  to.tff += from.tff;
  to.bff += from.bff;
  to.pixels += from.pixels;
}
}  // namespace

LumaScan ScanLuma(const Plane& cur, const Plane* prev, int bytes_per_sample, uint32_t at_most,
                  uint32_t low, uint32_t high, int comb_threshold, int comb_row_step) {
  // Bands small enough that the kernels after the first find them in cache.
  constexpr int kBandRows = 16;
  const int comb_step = 2 * std::max(1, comb_row_step);
  LumaScan out;
  int comb_row = 3;  // CountCombing's rows: 3, 3 + comb_step, ... while row + 2 < height
  for (int y = 0; y < cur.height; y += kBandRows) {
    const int rows = std::min(kBandRows, cur.height - y);
    // The next band is fetched while this one is counted: the kernels wait
    // on memory otherwise (they are several times faster than it).
    Prefetch(RowsOf(cur, y + rows, std::min(kBandRows, cur.height - y - rows)), bytes_per_sample);
    if (prev != nullptr) {
      Prefetch(RowsOf(*prev, y + rows, std::min(kBandRows, cur.height - y - rows)),
               bytes_per_sample);
    }
    const Plane band = RowsOf(cur, y, rows);
    Add(out.counts, CountLuma(band, bytes_per_sample, at_most, low, high));
    if (prev == nullptr) continue;
    out.abs_diff += SumAbsDiff(band, RowsOf(*prev, y, rows), bytes_per_sample);
    for (; comb_row < y + rows && comb_row + 2 < cur.height; comb_row += comb_step) {
      // Rows comb_row - 3 .. comb_row + 2, in which comb_row is the only row
      // CountCombing examines.
      Add(out.combing, CountCombing(RowsOf(cur, comb_row - 3, 6), RowsOf(*prev, comb_row - 3, 6),
                                    bytes_per_sample, comb_threshold, 1));
    }
  }
  return out;
}

}  // namespace vidgate::qc::internal
