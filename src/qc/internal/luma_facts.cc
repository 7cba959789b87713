#include "qc/internal/luma_facts.h"

#include <algorithm>
#include <string>

namespace vidgate::qc::internal {

int64_t BlackCode(const VideoPlanes& planes, double pixel_threshold) {
  const double max = planes.max_value();
  const double scale = static_cast<double>(1u << (planes.depth - 8));
  const double threshold =
      planes.full_range ? pixel_threshold * max : 16 * scale + pixel_threshold * (235 - 16) * scale;
  if (threshold < 0) return -1;
  return static_cast<int64_t>(std::min(threshold, max));  // truncates
}

Status LumaFacts::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  (void)time_seconds;
  valid_ = false;
  VideoPlanes planes;
  std::string why;
  if (!DescribeVideoFrame(frame, &planes, &why)) {
    previous_.reset();
    return Status();
  }
  const int64_t black = BlackCode(planes, black_threshold_);
  const bool has_previous = previous_ != nullptr && SameGeometry(planes, previous_planes_);
  // No code is black: count <= 0 and then drop that count.
  const LumaScan scan = ScanLuma(
      planes.luma(), has_previous ? &previous_planes_.luma() : nullptr, planes.bytes_per_sample,
      black < 0 ? 0 : static_cast<uint32_t>(black), LegalLumaLow(planes), LegalLumaHigh(planes),
      comb_.threshold << (planes.depth - 8), CombRowStep(comb_.row_step, planes.luma().height));
  facts_.luma = scan.counts;
  if (black < 0) facts_.luma.at_most = 0;
  facts_.has_previous = has_previous;
  facts_.abs_diff = scan.abs_diff;
  facts_.combing = scan.combing;
  frame_ = &frame;
  data_ = frame.data[0];
  valid_ = true;
  VG_RETURN_IF_ERROR(media::KeepFrame(previous_, frame, "luma facts"));
  if (!DescribeVideoFrame(*previous_, &previous_planes_, &why)) previous_.reset();
  return Status();
}

Status LumaFacts::Finish() {
  previous_.reset();
  valid_ = false;
  return Status();
}

}  // namespace vidgate::qc::internal
