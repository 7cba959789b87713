#include "qc/video_series.h"

#include <nlohmann/json.hpp>
#include <string>

#include "qc/internal/luma_facts.h"
#include "qc/internal/pixel_ops.h"
#include "qc/internal/series_json.h"

namespace vidgate::qc {

namespace {
// Converts an N-bit value to 8-bit code values.
double To8Bit(double value, int depth) { return value / static_cast<double>(1u << (depth - 8)); }

double LumaSamples(const internal::VideoPlanes& planes) {
  return static_cast<double>(planes.luma().width) * static_cast<double>(planes.luma().height);
}
}  // namespace

Status LuminanceSeries::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) return Status();
  const internal::FrameFacts* facts = facts_ ? facts_->For(frame) : nullptr;
  const double sum = static_cast<double>(
      facts ? facts->luma.sum : internal::SumSamples(planes.luma(), planes.bytes_per_sample));
  series_.Add(time_seconds, To8Bit(sum / LumaSamples(planes), planes.depth));
  return Status();
}

nlohmann::json LuminanceSeries::ToJson() const { return internal::SeriesToJson(PerSecond()); }

Status MotionSeries::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) {
    previous_.reset();
    return Status();
  }
  if (facts_ != nullptr) {
    // The facts keep the previous frame and took the difference already.
    const internal::FrameFacts* facts = facts_->For(frame);
    if (facts != nullptr && facts->has_previous) {
      series_.Add(time_seconds,
                  To8Bit(static_cast<double>(facts->abs_diff) / LumaSamples(planes), planes.depth));
    }
    return Status();
  }
  if (previous_ != nullptr && internal::SameGeometry(planes, previous_planes_)) {
    const double sad = static_cast<double>(
        internal::SumAbsDiff(planes.luma(), previous_planes_.luma(), planes.bytes_per_sample));
    series_.Add(time_seconds, To8Bit(sad / LumaSamples(planes), planes.depth));
  }
  VG_RETURN_IF_ERROR(media::KeepFrame(previous_, frame, "motion series"));
  if (!internal::DescribeVideoFrame(*previous_, &previous_planes_, &why)) previous_.reset();
  return Status();
}

Status MotionSeries::Finish() {
  previous_.reset();
  return Status();
}

nlohmann::json MotionSeries::ToJson() const { return internal::SeriesToJson(PerSecond()); }

}  // namespace vidgate::qc
