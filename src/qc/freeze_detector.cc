#include "qc/freeze_detector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qc/internal/pixel_ops.h"

namespace vidgate::qc {

namespace {
constexpr double kTimeSlack = 1e-9;

// Whether the mean absolute difference of two frames of the same geometry
// over all planes, divided by 2^depth, is at most `noise` (freezedetect's
// test). The sum is taken in bands of rows and stops as soon as it is over
// the limit: moving pictures, the common case, are told after a few rows.
bool WithinNoise(const internal::VideoPlanes& a, const internal::VideoPlanes& b, double noise) {
  uint64_t count = 0;
  for (int p = 0; p < a.count; ++p) {
    const auto& pa = a.planes[static_cast<size_t>(p)];
    count += static_cast<uint64_t>(pa.width) * static_cast<uint64_t>(pa.height);
  }
  if (count == 0) return true;
  const double limit =
      noise * static_cast<double>(count) * static_cast<double>(uint64_t{1} << a.depth);
  constexpr int kBandRows = 32;
  uint64_t sad = 0;
  for (int p = 0; p < a.count; ++p) {
    const internal::Plane& pa = a.planes[static_cast<size_t>(p)];
    const internal::Plane& pb = b.planes[static_cast<size_t>(p)];
    for (int y = 0; y < pa.height; y += kBandRows) {
      const int rows = std::min(kBandRows, pa.height - y);
      sad += internal::SumAbsDiff(internal::RowsOf(pa, y, rows), internal::RowsOf(pb, y, rows),
                                  a.bytes_per_sample);
      if (static_cast<double>(sad) > limit) return false;
    }
  }
  return true;
}
}  // namespace

FreezeDetector::FreezeDetector(FreezeOptions options) : options_(options) {}

Status FreezeDetector::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  clock_.Tick(time_seconds);
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    CloseRun(time_seconds);
    reference_.reset();
    return Status();
  }
  ++result_.frames;
  const bool frozen = reference_ != nullptr && internal::SameGeometry(planes, reference_planes_) &&
                      WithinNoise(planes, reference_planes_, options_.noise);
  if (!frozen) {
    CloseRun(time_seconds);
    return TakeReference(frame, time_seconds);
  }
  ++result_.frozen_frames;
  if (time_seconds - reference_time_ >= options_.min_duration - kTimeSlack) {
    run_long_enough_ = true;
  }
  return Status();
}

Status FreezeDetector::TakeReference(const AVFrame& frame, double time) {
  VG_RETURN_IF_ERROR(media::KeepFrame(reference_, frame, "freeze detector"));
  std::string why;
  if (!internal::DescribeVideoFrame(*reference_, &reference_planes_, &why)) {
    reference_.reset();
    return Internal("freeze detector: " + why);
  }
  reference_time_ = time;
  return Status();
}

Status FreezeDetector::Finish() {
  CloseRun(clock_.end());
  reference_.reset();
  return Status();
}

void FreezeDetector::CloseRun(double end) {
  if (run_long_enough_) result_.segments.push_back(Segment{reference_time_, end});
  run_long_enough_ = false;
}

nlohmann::json FreezeDetector::ToJson() const {
  nlohmann::json j = {
      {"segments", SegmentsToJson(result_.segments)},
      {"frames", result_.frames},
      {"frozen_frames", result_.frozen_frames},
      {"skipped_frames", result_.skipped_frames},
      {"noise", options_.noise},
      {"min_duration", options_.min_duration},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

}  // namespace vidgate::qc
