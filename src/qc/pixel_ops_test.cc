#include "qc/internal/pixel_ops.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

namespace vidgate::qc::internal {
namespace {

// A plane over `storage` with a stride wider than the row.
Plane MakePlane(std::vector<uint8_t>* storage, int width, int height, int bytes, uint32_t seed) {
  const int stride = width * bytes + 24;
  storage->assign(static_cast<size_t>(stride) * height, 0);
  std::mt19937 rng(seed);
  for (auto& b : *storage) b = static_cast<uint8_t>(rng());
  if (bytes == 2) {  // keep 16-bit samples within 10 bits
    for (size_t i = 1; i < storage->size(); i += 2) (*storage)[i] &= 0x03;
  }
  Plane plane;
  plane.data = storage->data();
  plane.linesize = stride;
  plane.width = width;
  plane.height = height;
  return plane;
}

TEST(QcPixelOpsTest, FastPathsMatchScalarOnOddSizes) {
  for (int bytes : {1, 2}) {
    for (int width : {1, 7, 15, 16, 17, 31, 32, 33, 64, 257, 4111, 9000}) {
      std::vector<uint8_t> sa, sb;
      const Plane a = MakePlane(&sa, width, 3, bytes, static_cast<uint32_t>(width));
      const Plane b = MakePlane(&sb, width, 3, bytes, static_cast<uint32_t>(width) + 99);
      SCOPED_TRACE(::testing::Message() << "bytes=" << bytes << " width=" << width);
      for (uint32_t t : {0u, 16u, 37u, 128u, 254u, 255u, 700u}) {
        EXPECT_EQ(CountAtMost(a, bytes, t), scalar::CountAtMost(a, bytes, t)) << t;
      }
      EXPECT_EQ(SumSamples(a, bytes), scalar::SumSamples(a, bytes));
      EXPECT_EQ(SumAbsDiff(a, b, bytes), scalar::SumAbsDiff(a, b, bytes));
      EXPECT_EQ(CountOutside(a, bytes, 16, 235), scalar::CountOutside(a, bytes, 16, 235));
      EXPECT_EQ(CountOutside(a, bytes, 64, 940), scalar::CountOutside(a, bytes, 64, 940));
      EXPECT_EQ(CountOutside(a, bytes, 0, 255), scalar::CountOutside(a, bytes, 0, 255));
      for (auto [at_most, low, high] :
           {std::tuple{37u, 16u, 235u}, std::tuple{0u, 0u, 254u}, std::tuple{254u, 255u, 254u},
            std::tuple{150u, 64u, 940u}, std::tuple{255u, 16u, 235u}}) {
        const LumaCounts fast = CountLuma(a, bytes, at_most, low, high);
        const LumaCounts slow = scalar::CountLuma(a, bytes, at_most, low, high);
        EXPECT_EQ(fast.at_most, slow.at_most) << at_most;
        EXPECT_EQ(fast.outside, slow.outside) << low << ".." << high;
        EXPECT_EQ(fast.sum, slow.sum);
        EXPECT_EQ(slow.at_most, scalar::CountAtMost(a, bytes, at_most));
        EXPECT_EQ(slow.outside, scalar::CountOutside(a, bytes, low, high));
        EXPECT_EQ(slow.sum, scalar::SumSamples(a, bytes));
      }
    }
  }
}

TEST(QcPixelOpsTest, CombingFastPathMatchesScalar) {
  for (int bytes : {1, 2}) {
    for (int width : {5, 8, 13, 64, 333}) {
      for (int row_step : {1, 2}) {
        std::vector<uint8_t> sa, sb;
        const Plane a = MakePlane(&sa, width, 23, bytes, static_cast<uint32_t>(width) * 7);
        const Plane b = MakePlane(&sb, width, 23, bytes, static_cast<uint32_t>(width) * 7 + 1);
        const CombCounts fast = CountCombing(a, b, bytes, 16, row_step);
        const CombCounts slow = scalar::CountCombing(a, b, bytes, 16, row_step);
        SCOPED_TRACE(::testing::Message() << "bytes=" << bytes << " width=" << width);
        EXPECT_GT(slow.cur, 0u);
        EXPECT_EQ(fast.cur, slow.cur);
        EXPECT_EQ(fast.tff, slow.tff);
        EXPECT_EQ(fast.bff, slow.bff);
        EXPECT_EQ(fast.pixels, slow.pixels);
        EXPECT_EQ(slow.pixels,
                  static_cast<uint64_t>(width) * (row_step == 1 ? 9 : 5));  // rows 3..19
      }
    }
  }
}

// The one-sweep scan gives exactly what the separate whole-plane calls give,
// at heights that do and do not fill its bands, with and without a previous
// frame.
TEST(QcPixelOpsTest, ScanLumaMatchesTheSeparateCalls) {
  for (int bytes : {1, 2}) {
    for (auto [width, height] : {std::pair{7, 1}, std::pair{33, 5}, std::pair{64, 6},
                                 std::pair{333, 16}, std::pair{100, 17}, std::pair{96, 70}}) {
      for (int row_step : {1, 2, 3}) {
        std::vector<uint8_t> sa, sb;
        const uint32_t seed = static_cast<uint32_t>(width * 31 + height);
        const Plane a = MakePlane(&sa, width, height, bytes, seed);
        const Plane b = MakePlane(&sb, width, height, bytes, seed + 1);
        SCOPED_TRACE(::testing::Message() << "bytes=" << bytes << " size=" << width << "x" << height
                                          << " row_step=" << row_step);
        const LumaScan alone = ScanLuma(a, nullptr, bytes, 37, 16, 235, 16, row_step);
        const LumaScan paired = ScanLuma(a, &b, bytes, 37, 16, 235, 16, row_step);
        const LumaCounts counts = CountLuma(a, bytes, 37, 16, 235);
        for (const LumaScan* scan : {&alone, &paired}) {
          EXPECT_EQ(scan->counts.at_most, counts.at_most);
          EXPECT_EQ(scan->counts.outside, counts.outside);
          EXPECT_EQ(scan->counts.sum, counts.sum);
        }
        EXPECT_EQ(alone.abs_diff, 0u);
        EXPECT_EQ(alone.combing.pixels, 0u);
        EXPECT_EQ(paired.abs_diff, SumAbsDiff(a, b, bytes));
        const CombCounts comb = CountCombing(a, b, bytes, 16, row_step);
        EXPECT_EQ(paired.combing.cur, comb.cur);
        EXPECT_EQ(paired.combing.tff, comb.tff);
        EXPECT_EQ(paired.combing.bff, comb.bff);
        EXPECT_EQ(paired.combing.pixels, comb.pixels);
        if (height >= 70) {
          EXPECT_GT(comb.cur, 0u);
        }
      }
    }
  }
}

TEST(QcPixelOpsTest, CombingOfAWovenPicture) {
  // Even rows 0, odd rows 200: every odd row combs in `cur`; `prev` is flat,
  // so the tff weave (odd rows from prev) and the bff weave (even rows from
  // prev, odd rows 200 against 0) differ.
  std::vector<uint8_t> comb(16 * 12), flat(16 * 12, 0);
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) comb[static_cast<size_t>(y * 16 + x)] = y % 2 == 1 ? 200 : 0;
  }
  const Plane cur{comb.data(), 16, 16, 12, PlaneKind::kLuma};
  const Plane prev{flat.data(), 16, 16, 12, PlaneKind::kLuma};
  const CombCounts n = CountCombing(cur, prev, 1, 16, 1);
  EXPECT_EQ(n.pixels, 16u * 4);  // rows 3, 5, 7, 9
  EXPECT_EQ(n.cur, 16u * 4);
  EXPECT_EQ(n.tff, 0u);
  EXPECT_EQ(n.bff, 16u * 4);
}

TEST(QcPixelOpsTest, KnownValues) {
  // One row 0, 1, ..., 255.
  std::vector<uint8_t> row(256);
  for (int i = 0; i < 256; ++i) row[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  Plane plane{row.data(), 256, 256, 1, PlaneKind::kLuma};
  EXPECT_EQ(CountAtMost(plane, 1, 37), 38u);
  EXPECT_EQ(SumSamples(plane, 1), 255u * 256u / 2u);
  EXPECT_EQ(CountOutside(plane, 1, 16, 235), 16u + 20u);
  std::vector<uint8_t> zeros(256, 0);
  Plane zero{zeros.data(), 256, 256, 1, PlaneKind::kLuma};
  EXPECT_EQ(SumAbsDiff(plane, zero, 1), 255u * 256u / 2u);
}

}  // namespace
}  // namespace vidgate::qc::internal
