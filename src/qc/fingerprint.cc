#include "qc/fingerprint.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <numbers>

#include "qc/internal/video_planes.h"

namespace vidgate::qc {
namespace {

constexpr int kGrid = Fingerprinter::kGrid;
constexpr int kRowsPerCell = 4;  // luma rows sampled in each cell row
// Windows past 48 hours of stream time are not kept (a broken timestamp
// must not grow the fingerprint without end).
constexpr int64_t kMaxWindows = static_cast<int64_t>(48 * 3600 / Fingerprint::kHopSeconds);
// A jump of the timestamps over this many half seconds is a discontinuity.
constexpr int64_t kMaxGapHalves = 20;
// A grid whose cells spread less than this (8-bit code values) is flat.
constexpr double kFlatSpread = 1.5;
constexpr int kFrequencies = 11;  // DCT rows and columns looked at

using Grid = std::array<double, kGrid * kGrid>;

// Each cell's mean luma in 8-bit code values, added to `sum`.
template <typename Sample>
void AddCells(const internal::Plane& luma, int shift, Grid& sum) {
  const int w = luma.width, h = luma.height;
  for (int r = 0; r < kGrid; ++r) {
    const int y0 = r * h / kGrid;
    const int y1 = std::max(y0 + 1, (r + 1) * h / kGrid);
    std::array<double, kGrid> row_sums{};
    int rows = 0;
    for (int k = 0; k < kRowsPerCell; ++k) {
      const int y = y0 + k * (y1 - y0) / kRowsPerCell;
      if (y >= h || (k > 0 && y == y0 + (k - 1) * (y1 - y0) / kRowsPerCell)) continue;
      const auto* line = reinterpret_cast<const Sample*>(luma.data + y * luma.linesize);
      for (int c = 0; c < kGrid; ++c) {
        const int x0 = c * w / kGrid;
        const int x1 = std::min(w, std::max(x0 + 1, (c + 1) * w / kGrid));
        uint64_t total = 0;
        for (int x = x0; x < x1; ++x) total += line[x];
        row_sums[c] += static_cast<double>(total >> shift) / (x1 - x0);
      }
      ++rows;
    }
    for (int c = 0; c < kGrid; ++c) sum[r * kGrid + c] += row_sums[c] / std::max(rows, 1);
  }
}

// The grid as it is shown: turned like the thumbnails are.
Grid Turned(const Grid& in, int rotation) {
  if (rotation != 90 && rotation != 180 && rotation != 270) return in;
  Grid out{};
  for (int y = 0; y < kGrid; ++y) {
    for (int x = 0; x < kGrid; ++x) {
      const int to_x = rotation == 90 ? kGrid - 1 - y : rotation == 180 ? kGrid - 1 - x : y;
      const int to_y = rotation == 90 ? x : rotation == 180 ? kGrid - 1 - y : kGrid - 1 - x;
      out[to_y * kGrid + to_x] = in[y * kGrid + x];
    }
  }
  return out;
}

const std::array<std::array<double, kGrid>, kFrequencies>& Cosines() {
  static const auto table = [] {
    std::array<std::array<double, kGrid>, kFrequencies> t{};
    for (int u = 0; u < kFrequencies; ++u) {
      for (int x = 0; x < kGrid; ++x) {
        t[u][x] = std::cos((2 * x + 1) * u * std::numbers::pi / (2 * kGrid));
      }
    }
    return t;
  }();
  return table;
}

}  // namespace

uint64_t HashGrid(const Grid& grid) {
  double mean = 0;
  for (double v : grid) mean += v;
  mean /= static_cast<double>(grid.size());
  double spread = 0;
  for (double v : grid) spread += (v - mean) * (v - mean);
  if (std::sqrt(spread / static_cast<double>(grid.size())) < kFlatSpread) return 0;
  // The lowest frequencies of the DCT-II, separably: columns, then rows.
  const auto& cos = Cosines();
  std::array<std::array<double, kGrid>, kFrequencies> by_rows{};  // [v][x]
  for (int v = 0; v < kFrequencies; ++v) {
    for (int y = 0; y < kGrid; ++y) {
      const double c = cos[v][y];
      for (int x = 0; x < kGrid; ++x) by_rows[v][x] += c * grid[y * kGrid + x];
    }
  }
  // The 64 first after the constant one, diagonal by diagonal.
  std::array<double, 64> coefficients{};
  int n = 0;
  for (int diagonal = 1; diagonal < kFrequencies && n < 64; ++diagonal) {
    for (int u = 0; u <= diagonal && n < 64; ++u) {
      const int v = diagonal - u;
      double sum = 0;
      for (int x = 0; x < kGrid; ++x) sum += cos[u][x] * by_rows[v][x];
      coefficients[n++] = sum;
    }
  }
  std::array<double, 64> sorted = coefficients;
  std::nth_element(sorted.begin(), sorted.begin() + 32, sorted.end());
  const double median = sorted[32];
  uint64_t hash = 0;
  for (int i = 0; i < 64; ++i) {
    if (coefficients[i] > median) hash |= uint64_t{1} << i;
  }
  return hash == 0 ? 1 : hash;  // 0 means "no hash"
}

Status Fingerprinter::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) return Status();
  if (!std::isfinite(time_seconds)) return Status();
  const double clamped = std::clamp(time_seconds, 0.0, 48.0 * 3600);
  int64_t half = static_cast<int64_t>(clamped / Fingerprint::kHopSeconds) - shift_;
  // A timestamp that leaps forward or back (a damaged stream, joined
  // recordings) is a discontinuity: the windows go on from the last one, so
  // one bad frame neither adds hours of empty windows nor folds the rest of
  // the video into one window.
  if (any_frame_ && half > current_ + kMaxGapHalves) {
    shift_ += half - (current_ + 1);
    half = current_ + 1;
  } else if (any_frame_ && half < current_ - 2) {
    shift_ += half - current_;
    half = current_;
  }
  if (half >= kMaxWindows) return Status();
  if (half > current_) CloseHalvesBefore(half);
  any_frame_ = true;
  // A frame a little out of order counts in the half being filled.
  Grid cells{};
  if (planes.bytes_per_sample == 1) {
    AddCells<uint8_t>(planes.luma(), 0, cells);
  } else {
    AddCells<uint16_t>(planes.luma(), planes.depth - 8, cells);
  }
  for (size_t i = 0; i < cells.size(); ++i) now_.sum[i] += cells[i];
  ++now_.frames;
  return Status();
}

void Fingerprinter::CloseHalvesBefore(int64_t upto) {
  // Window k is halves k and k + 1: window `current_ - 1` is complete now,
  // and so are those of the halves with no frame up to `upto`.
  if (current_ >= 1) EmitWindow(previous_, now_);
  for (int64_t h = current_ + 1; h < upto; ++h)
    EmitWindow(h == current_ + 1 ? now_ : Half{}, Half{});
  previous_ = upto == current_ + 1 ? now_ : Half{};
  now_ = Half{};
  current_ = upto;
}

void Fingerprinter::EmitWindow(const Half& a, const Half& b) {
  const int frames = a.frames + b.frames;
  if (frames == 0) {
    result_.hashes.push_back(0);
    return;
  }
  Grid mean;
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = (a.sum[i] + b.sum[i]) / frames;
  result_.hashes.push_back(HashGrid(Turned(mean, rotation_)));
}

Status Fingerprinter::Finish() {
  if (!any_frame_) return Status();
  if (current_ >= 1) EmitWindow(previous_, now_);
  // A clip shorter than a window still gets one.
  if (result_.hashes.empty()) EmitWindow(now_, Half{});
  any_frame_ = false;
  return Status();
}

int Fingerprint::Informative() const {
  return static_cast<int>(
      std::count_if(hashes.begin(), hashes.end(), [](uint64_t h) { return h != 0; }));
}

std::string Fingerprint::ToHex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(hashes.size() * 16);
  for (uint64_t h : hashes) {
    for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 15];
  }
  return out;
}

Result<Fingerprint> Fingerprint::FromHex(std::string_view text) {
  if (text.size() % 16 != 0) return InvalidArgument("a fingerprint is 16 hex digits per window");
  Fingerprint out;
  out.hashes.reserve(text.size() / 16);
  for (size_t at = 0; at < text.size(); at += 16) {
    uint64_t h = 0;
    for (size_t i = at; i < at + 16; ++i) {
      const char c = text[i];
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) return InvalidArgument("a fingerprint is lower-case hex");
      h = (h << 4) | static_cast<uint64_t>(digit);
    }
    out.hashes.push_back(h);
  }
  return out;
}

int HammingDistance(uint64_t a, uint64_t b) { return std::popcount(a ^ b); }

FootageMatch CompareAt(const Fingerprint& mine, const Fingerprint& other, int offset) {
  FootageMatch out;
  out.offset = offset;
  const int n = static_cast<int>(mine.hashes.size());
  const int m = static_cast<int>(other.hashes.size());
  const int informative = std::min(mine.Informative(), other.Informative());
  if (informative == 0) return out;
  const int from = std::max(0, -offset);
  const int to = std::min(n, m - offset);
  int run_start = -1, last_match = -2;
  auto close_run = [&]() {
    if (run_start < 0) return;
    const double hop = Fingerprint::kHopSeconds;
    const double end = last_match * hop + Fingerprint::kWindowSeconds;
    out.ranges.push_back({run_start * hop, end, (run_start + offset) * hop, end + offset * hop});
    run_start = -1;
  };
  for (int i = from; i < to; ++i) {
    const uint64_t a = mine.hashes[i], b = other.hashes[i + offset];
    if (a == 0 || b == 0 || HammingDistance(a, b) > kSameWindowBits) continue;
    ++out.matched;
    if (run_start >= 0 && i - last_match > 2) close_run();
    if (run_start < 0) run_start = i;
    last_match = i;
  }
  close_run();
  out.similarity = std::min(1.0, static_cast<double>(out.matched) / informative);
  return out;
}

FootageMatch BestMatch(const Fingerprint& mine, const Fingerprint& other,
                       const std::vector<int>& offsets) {
  FootageMatch best;
  std::map<int, bool> tried;
  for (int offset : offsets) {
    for (int o = offset - 1; o <= offset + 1; ++o) {
      if (tried[o]) continue;
      tried[o] = true;
      FootageMatch m = CompareAt(mine, other, o);
      if (m.matched > best.matched) best = std::move(m);
    }
  }
  return best;
}

std::array<int64_t, 4> BandKeys(uint64_t hash) {
  std::array<int64_t, 4> out{};
  for (int band = 0; band < 4; ++band) {
    out[band] = (int64_t{band} << 16) | static_cast<int64_t>((hash >> (16 * band)) & 0xFFFF);
  }
  return out;
}

}  // namespace vidgate::qc
