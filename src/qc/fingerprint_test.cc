#include "qc/fingerprint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "qc/testing/qc_test_util.h"

namespace vidgate::qc {
namespace {

using ::vidgate::qc::testing::Decode;
using ::vidgate::qc::testing::MakeFixture;

Fingerprint Of(const std::string& path, int rotation = 0) {
  Fingerprinter f(rotation);
  Decode(path, {&f});
  return f.result();
}

// Every alignment: the best a matcher could find.
FootageMatch Best(const Fingerprint& a, const Fingerprint& b) {
  std::vector<int> offsets(a.hashes.size() + b.hashes.size());
  std::iota(offsets.begin(), offsets.end(), -static_cast<int>(a.hashes.size()));
  return BestMatch(a, b, offsets);
}

// The footage the matching tests share: 12 s of a Mandelbrot zoom (it
// changes all the time, as footage does), made once per process.
const std::string& Footage() {
  static const std::string path =
      MakeFixture("fp-footage.mp4",
                  "-f lavfi -i mandelbrot=s=640x360:r=25 -t 12 -c:v libx264 -preset veryfast "
                  "-crf 20 -pix_fmt yuv420p");
  return path;
}

TEST(FingerprintTest, AReEncodeAtAnotherSizeRateAndCodecMatches) {
  const std::string copy = MakeFixture(
      "fp-reencode.mkv", "-i " + Footage() + " -vf scale=320:180 -r 30 -c:v mpeg4 -q:v 12 -an");
  const Fingerprint a = Of(Footage()), b = Of(copy);
  ASSERT_EQ(a.hashes.size(), 23u);  // 12 s in windows of 1 s every 0.5 s
  EXPECT_EQ(a.Informative(), 23);
  const FootageMatch m = CompareAt(a, b, 0);
  std::vector<int> distances;
  for (size_t i = 0; i < a.hashes.size() && i < b.hashes.size(); ++i) {
    distances.push_back(HammingDistance(a.hashes[i], b.hashes[i]));
  }
  EXPECT_GE(m.similarity, 0.95) << ::testing::PrintToString(distances);
  ASSERT_EQ(m.ranges.size(), 1u);
  EXPECT_DOUBLE_EQ(m.ranges[0].start, 0);
  EXPECT_NEAR(m.ranges[0].end, 12, 0.6);
  EXPECT_EQ(Best(a, b).offset, 0);
}

TEST(FingerprintTest, ATrimmedCopyMatchesOverTheSharedSpan) {
  // 3.3 s cut from the start and 2.7 s from the end: not on a window's edge.
  const std::string trimmed = MakeFixture(
      "fp-trimmed.mp4", "-ss 3.3 -i " + Footage() + " -t 6 -c:v libx264 -preset veryfast -crf 28");
  const Fingerprint full = Of(Footage()), part = Of(trimmed);
  const FootageMatch m = Best(part, full);
  std::vector<int> distances;
  for (size_t i = 0; i < part.hashes.size(); ++i) {
    const size_t j = i + static_cast<size_t>(m.offset);
    if (j < full.hashes.size())
      distances.push_back(HammingDistance(part.hashes[i], full.hashes[j]));
  }
  EXPECT_GE(m.similarity, 0.9) << ::testing::PrintToString(distances);
  EXPECT_TRUE(m.offset == 6 || m.offset == 7) << m.offset;  // 3.3 s in half seconds
  ASSERT_FALSE(m.ranges.empty());
  EXPECT_NEAR(m.ranges.front().start, 0, 0.6);
  EXPECT_NEAR(m.ranges.back().end, 6, 0.6);
  EXPECT_NEAR(m.ranges.front().other_start, 3.3, 0.6);
  EXPECT_NEAR(m.ranges.back().other_end, 9.3, 0.6);
}

TEST(FingerprintTest, UnrelatedFootageDoesNotMatch) {
  const std::vector<std::string> others = {
      MakeFixture("fp-testsrc.mp4",
                  "-f lavfi -i testsrc2=s=640x360:r=25:d=12 -c:v libx264 -preset veryfast"),
      MakeFixture("fp-life.mp4",
                  "-f lavfi -i life=s=320x240:r=25:seed=7:mold=10:ratio=0.2 -t 12 -pix_fmt yuv420p "
                  "-c:v libx264 -preset veryfast"),
      MakeFixture("fp-bars.mp4",
                  "-f lavfi -i smptehdbars=s=640x360:r=25:d=12 -vf noise=alls=30:allf=t "
                  "-c:v libx264 -preset veryfast"),
      MakeFixture("fp-cellauto.mp4",
                  "-f lavfi -i cellauto=s=320x240:r=25:rule=30 -t 12 -pix_fmt yuv420p "
                  "-c:v libx264 -preset veryfast"),
  };
  std::vector<Fingerprint> prints = {Of(Footage())};
  for (const auto& o : others) prints.push_back(Of(o));
  for (size_t i = 0; i < prints.size(); ++i) {
    for (size_t j = i + 1; j < prints.size(); ++j) {
      const FootageMatch m = Best(prints[i], prints[j]);
      EXPECT_LT(m.similarity, 0.3) << i << " vs " << j << " at offset " << m.offset;
    }
  }
}

TEST(FingerprintTest, FlatPicturesHaveNoHash) {
  std::array<double, Fingerprinter::kGrid * Fingerprinter::kGrid> grid{};
  grid.fill(16);
  EXPECT_EQ(HashGrid(grid), 0u);
  std::mt19937 rng(3);
  for (auto& v : grid) v = 16 + (rng() % 2);  // less than a code value of noise
  EXPECT_EQ(HashGrid(grid), 0u);
  for (int i = 0; i < Fingerprinter::kGrid * Fingerprinter::kGrid; ++i) grid[i] = i % 32 * 7;
  EXPECT_NE(HashGrid(grid), 0u);
  const std::string black = MakeFixture(
      "fp-black.mp4", "-f lavfi -i color=black:s=320x240:r=25:d=3 -c:v libx264 -preset veryfast");
  const Fingerprint f = Of(black);
  EXPECT_EQ(f.hashes.size(), 5u);
  EXPECT_EQ(f.Informative(), 0);
  EXPECT_EQ(CompareAt(f, f, 0).similarity, 0) << "flat pictures match nothing";
}

TEST(FingerprintTest, HexRoundTripsAndBandsShareWithinThreeBits) {
  Fingerprint f;
  f.hashes = {0, 1, 0xFEDCBA9876543210ull, ~uint64_t{0}};
  auto back = Fingerprint::FromHex(f.ToHex());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->hashes, f.hashes);
  EXPECT_FALSE(Fingerprint::FromHex("123").ok());
  EXPECT_FALSE(Fingerprint::FromHex("000000000000000G").ok());
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 1000; ++trial) {
    const uint64_t a = rng();
    uint64_t b = a;
    for (int flip = 0; flip < 3; ++flip) b ^= uint64_t{1} << (rng() % 64);
    const auto ka = BandKeys(a), kb = BandKeys(b);
    bool shared = false;
    for (int i = 0; i < 4; ++i) shared |= ka[i] == kb[i];
    EXPECT_TRUE(shared);
  }
}

TEST(FingerprintTest, RangesFollowRunsOfMatchingWindows) {
  Fingerprint a, b;
  const uint64_t x = 0x0F0F0F0F0F0F0F0Full, y = ~x;
  a.hashes = {x, x, x, y, y, y, y, x, x};
  b.hashes = {0, 0, x, x, x, x, x, x, x, x, x};  // a at offset 2
  const FootageMatch m = CompareAt(a, b, 2);
  EXPECT_EQ(m.matched, 5);
  ASSERT_EQ(m.ranges.size(), 2u);
  EXPECT_DOUBLE_EQ(m.ranges[0].start, 0);
  EXPECT_DOUBLE_EQ(m.ranges[0].end, 2);  // windows 0..2: 0 to 1.0 + 1 s
  EXPECT_DOUBLE_EQ(m.ranges[0].other_start, 1);
  EXPECT_DOUBLE_EQ(m.ranges[1].start, 3.5);
  EXPECT_DOUBLE_EQ(m.ranges[1].end, 5);
  EXPECT_NEAR(m.similarity, 5.0 / 9, 1e-9);
}

// Found by review: one frame whose timestamp leapt hours ahead added
// thousands of empty windows and folded the rest of the video into one.
TEST(FingerprintTest, ATimestampLeapIsADiscontinuity) {
  // A picture that changes each second (its bright column moves).
  auto frame_at = [](int second) {
    return testing::MakeVideoFrame(AV_PIX_FMT_YUV420P, 64, 64, [second](int plane, int x, int) {
      return plane == 0 ? (x / 8 == second % 8 ? 235 : 16 + 8 * (x % 8)) : 128;
    });
  };
  Fingerprinter steady, leaping;
  for (int i = 0; i < 100; ++i) {  // 10 s at 10 fps
    const double t = i / 10.0;
    auto f = frame_at(i / 10);
    ASSERT_TRUE(steady.OnVideoFrame(*f, t).ok());
    // Frame 30 claims to be 5 hours in; the others are where they belong.
    ASSERT_TRUE(leaping.OnVideoFrame(*f, i == 30 ? 18000 + t : t).ok());
  }
  ASSERT_TRUE(steady.Finish().ok());
  ASSERT_TRUE(leaping.Finish().ok());
  EXPECT_EQ(steady.result().hashes.size(), 19u);
  EXPECT_LE(leaping.result().hashes.size(), 22u) << "no hours of empty windows";
  EXPECT_GE(Best(steady.result(), leaping.result()).similarity, 0.8);
  Fingerprinter broken;
  auto f = frame_at(0);
  ASSERT_TRUE(broken.OnVideoFrame(*f, std::numeric_limits<double>::infinity()).ok());
  ASSERT_TRUE(broken.OnVideoFrame(*f, std::nan("")).ok());
  ASSERT_TRUE(broken.Finish().ok());
  EXPECT_TRUE(broken.result().hashes.empty());
}

}  // namespace
}  // namespace vidgate::qc
