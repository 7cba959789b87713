// interlace_detector.h: interlacing and field order from picture content.
//
// An interlaced frame weaves two fields (the even rows, "top", and the odd
// rows, "bottom") taken at different instants. Where the picture moves, the
// rows of one field then disagree with their neighbours from the other field
// while agreeing with their neighbours in their own field: "combing". For
// each frame and its predecessor the detector counts combed pixels in three
// weaves:
//   cur  the frame itself;
//   tff  the frame's top field with the previous frame's bottom field;
//   bff  the previous frame's top field with the frame's bottom field.
// With top field first, the previous bottom field comes right before the
// current top field, so `tff` spans one field interval, like `cur`, while
// `bff` spans three; with bottom field first it is the other way round. A
// progressive frame has both fields from one instant, so `cur` combs far less
// than the cross weaves, which both span one frame interval and so comb about
// alike. A frame is therefore, taking the first rule that holds,
//   progressive   when cur * strong_ratio < min(tff, bff) and
//                 max(tff, bff) < symmetry * min(tff, bff);
//   tff           when tff * order_ratio < bff;
//   bff           when bff * order_ratio < tff;
//   progressive   when cur * progressive_ratio < min(tff, bff);
//   undetermined  otherwise, or when no weave has more than min_combed of
//                 its pixels combed (a still picture shows nothing; nor does
//                 content of one-pixel detail that combs in every weave).
// A pixel on an odd row combs when |above + below - 2 * pixel| exceeds
// `threshold` (8-bit code values, scaled for higher depths) and twice
// |two_above + two_below - 2 * pixel|, its own field's curvature. Only luma
// is used, and only every `row_step`-th odd row, which keeps the cost low;
// tall pictures use a larger step, so that about 135 rows (over 250 000
// pixels at 1080p) are examined whatever the height.
//
// The verdict over the stream: "undetermined" without decided frames, else
// "progressive" when progressive frames are at least as many as interlaced
// ones (tff + bff), else the more frequent field order, "tff" or "bff". The
// frames' interlaced_frame flags (what the encoder declared) are counted
// alongside but do not enter the verdict.
//
// The first frame, and a frame whose geometry differs from its predecessor's,
// is undetermined. Frames in an unsupported pixel format are skipped. Holds a
// reference (av_frame_ref) to the previous frame, unless given the luma facts,
// which hold it for every analyser. Not thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "media/av.h"
#include "media/decode_pass.h"
#include "qc/internal/pixel_ops.h"
#include "qc/internal/video_planes.h"

namespace vidgate::qc {
namespace internal {
class LumaFacts;
}

enum class FieldOrder { kUndetermined, kProgressive, kTopFieldFirst, kBottomFieldFirst };

// "undetermined", "progressive", "tff", "bff".
const char* FieldOrderName(FieldOrder order);

// The defaults were tuned on lavfi sources (testsrc, testsrc2, mandelbrot,
// life) woven from 50p with ffmpeg's interlace filter (tff and bff) and
// encoded as interlaced H.264, and on their 25p encodes, flagged interlaced
// or not.
struct InterlaceOptions {
  int threshold = 16;              // minimum cross-field curvature of a combed pixel (8-bit)
  double strong_ratio = 3.0;       // `cur` combs far less than the cross weaves...
  double symmetry = 2.0;           // ...which comb about alike: progressive
  double order_ratio = 1.5;        // how much less the winning cross weave combs
  double progressive_ratio = 1.5;  // `cur` combs clearly less than both cross weaves
  double min_combed = 0.002;       // share of combed pixels below which nothing is decided
  int row_step = 2;  // analyse every row_step-th odd row at least (1 = all); see above
};

struct InterlaceResult {
  int64_t frames = 0;  // frames seen (skipped ones excluded)
  int64_t progressive = 0;
  int64_t tff = 0;
  int64_t bff = 0;
  int64_t undetermined = 0;
  int64_t flagged_interlaced = 0;  // frames with interlaced_frame set by the decoder
  int64_t skipped_frames = 0;
  std::string skipped_reason;
  FieldOrder verdict = FieldOrder::kUndetermined;
};

class InterlaceDetector : public media::FrameSink {
 public:
  // `facts`, when given, supplies each frame's combing counts (see
  // internal/luma_facts.h) if it uses the same threshold and row step.
  explicit InterlaceDetector(InterlaceOptions options = {},
                             const internal::LumaFacts* facts = nullptr);

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status Finish() override;

  // Complete after Finish() (the verdict is set there).
  const InterlaceResult& result() const { return result_; }

  // {"verdict","progressive","tff","bff","undetermined","frames",
  //  "flagged_interlaced","skipped_frames"} (+"skipped_reason").
  nlohmann::json ToJson() const;

 private:
  // Classifies one frame by its combing counts against its predecessor.
  FieldOrder Classify(const internal::CombCounts& n) const;

  InterlaceOptions options_;
  const internal::LumaFacts* facts_;
  InterlaceResult result_;
  media::FramePtr previous_;
  internal::VideoPlanes previous_planes_;
};

}  // namespace vidgate::qc
