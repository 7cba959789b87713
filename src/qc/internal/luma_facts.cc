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
  if (!DescribeVideoFrame(frame, &planes, &why)) return Status();
  const int64_t black = BlackCode(planes, black_threshold_);
  // No code is black: count nothing (<= 0 and then subtract the zeros).
  counts_ = CountLuma(planes.luma(), planes.bytes_per_sample,
                      black < 0 ? 0 : static_cast<uint32_t>(black), LegalLumaLow(planes),
                      LegalLumaHigh(planes));
  if (black < 0) counts_.at_most = 0;
  frame_ = &frame;
  data_ = frame.data[0];
  valid_ = true;
  return Status();
}

}  // namespace vidgate::qc::internal
