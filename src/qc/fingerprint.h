// fingerprint.h: a compact perceptual fingerprint of a video's pictures, to
// find the same footage again when it comes back re-encoded, resized, at
// another bit rate or codec, or trimmed at the ends.
//
// Every half second of the stream (a window's hop) gets a 64-bit hash of the
// average picture of the second that starts there: each frame's luma is
// averaged on a 32x32 grid (every frame, a few rows per cell: the decode
// pass's planes are bigger than the cache), the frames of the second are
// averaged, the grid is turned as the video is shown, and the 64 lowest
// frequencies of its DCT are compared with their median (a pHash). Averaging
// a second makes it indifferent to frame rate and codec noise; hashing every
// half second keeps a trimmed copy's windows within a quarter second of the
// original's. A window with too little to see (black, one flat colour) gets
// no hash (0): it would match every other flat picture.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/decode_pass.h"

namespace vidgate::qc {

struct Fingerprint {
  static constexpr double kHopSeconds = 0.5;
  static constexpr double kWindowSeconds = 1.0;
  // One per hop from the start of the stream; 0: no hash (nothing to see,
  // or no frame in that window).
  std::vector<uint64_t> hashes;

  int Informative() const;
  // 16 lower-case hex digits per window, as the catalog keeps it.
  std::string ToHex() const;
  // kInvalidArgument unless `text` is what ToHex writes.
  static Result<Fingerprint> FromHex(std::string_view text);
};

// Computes the fingerprint of the frames of a decode pass. Frames in an
// unsupported pixel format are skipped; windows past 48 hours are not kept;
// a timestamp leaping more than 10 s forward, or back, is a discontinuity:
// the windows go on from the last one.
class Fingerprinter final : public media::FrameSink {
 public:
  static constexpr int kGrid = 32;
  // `rotation_degrees`: how the video is turned to be shown (0, 90, 180,
  // 270; the probe's), so a copy whose pixels were turned matches.
  explicit Fingerprinter(int rotation_degrees = 0) : rotation_(rotation_degrees) {}

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  // Complete after Finish().
  const Fingerprint& result() const { return result_; }

 private:
  using Grid = std::array<double, kGrid * kGrid>;
  struct Half {
    Grid sum{};
    int frames = 0;
  };
  // Hashes the windows that end before half `upto`.
  void CloseHalvesBefore(int64_t upto);
  void EmitWindow(const Half& a, const Half& b);

  int rotation_;
  // The half second frames are being added to (`now_`) and the one before
  // (`previous_`); the stream's first half is 0 whenever its first frame
  // comes, so window k always starts at k half seconds.
  int64_t current_ = 0;
  bool any_frame_ = false;
  // Half seconds taken off the timestamps after a discontinuity.
  int64_t shift_ = 0;
  Half previous_, now_;
  Fingerprint result_;
};

// The hash of one averaged luma grid (row-major, 32x32, any scale); 0 when
// the picture is too flat to say anything.
uint64_t HashGrid(const std::array<double, Fingerprinter::kGrid * Fingerprinter::kGrid>& grid);

int HammingDistance(uint64_t a, uint64_t b);

// Two windows show the same picture when their hashes differ in at most
// this many of 64 bits (unrelated pictures differ in about 32).
inline constexpr int kSameWindowBits = 12;

// How two fingerprints' footage matches at one alignment.
struct FootageMatch {
  int offset = 0;   // other's window = mine + offset
  int matched = 0;  // windows whose hashes match
  // matched / the informative windows of the shorter of the two: 1 when
  // one is all in the other.
  double similarity = 0;
  struct Range {
    double start = 0, end = 0;              // seconds in mine
    double other_start = 0, other_end = 0;  // seconds in the other
  };
  std::vector<Range> ranges;  // runs of matching windows (a gap of one allowed)
};

FootageMatch CompareAt(const Fingerprint& mine, const Fingerprint& other, int offset);
// The best of CompareAt over `offsets` and their neighbours (+-1).
FootageMatch BestMatch(const Fingerprint& mine, const Fingerprint& other,
                       const std::vector<int>& offsets);

// The catalog's index of a hash: its four 16-bit bands, each tagged with
// its place ((band << 16) | value). Two hashes within 3 bits share a band.
std::array<int64_t, 4> BandKeys(uint64_t hash);
// Of a filed video, every this-many-th window is indexed (a copy's
// windows still meet a quarter of the original's, at the right offset).
inline constexpr int kIndexStride = 4;

}  // namespace vidgate::qc
