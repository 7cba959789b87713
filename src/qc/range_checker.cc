#include "qc/range_checker.h"

#include <nlohmann/json.hpp>

#include "qc/internal/luma_facts.h"
#include "qc/internal/pixel_ops.h"
#include "qc/internal/series_json.h"
#include "qc/internal/video_planes.h"

namespace vidgate::qc {

namespace {
double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}
}  // namespace

double RangeResult::luma_outside_share() const { return Share(luma_outside, luma_samples); }
double RangeResult::chroma_outside_share() const { return Share(chroma_outside, chroma_samples); }

Status RangeChecker::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    return Status();
  }
  if (planes.full_range) {
    ++result_.full_range_frames;
    return Status();
  }
  const uint32_t scale = 1u << (planes.depth - 8);
  uint64_t luma = 0, luma_outside = 0, chroma = 0, chroma_outside = 0;
  for (int p = 0; p < planes.count; ++p) {
    const internal::Plane& plane = planes.planes[static_cast<size_t>(p)];
    const uint64_t samples =
        static_cast<uint64_t>(plane.width) * static_cast<uint64_t>(plane.height);
    if (plane.kind == internal::PlaneKind::kLuma) {
      luma += samples;
      const internal::FrameFacts* facts = facts_ ? facts_->For(frame) : nullptr;
      luma_outside += facts ? facts->luma.outside
                            : internal::CountOutside(plane, planes.bytes_per_sample,
                                                     internal::LegalLumaLow(planes),
                                                     internal::LegalLumaHigh(planes));
    } else if (plane.kind == internal::PlaneKind::kChroma) {
      chroma += samples;
      chroma_outside +=
          internal::CountOutside(plane, planes.bytes_per_sample, 16 * scale, 240 * scale);
    }
  }
  ++result_.frames;
  if (luma_outside + chroma_outside > 0) ++result_.frames_outside;
  result_.luma_samples += luma;
  result_.luma_outside += luma_outside;
  result_.chroma_samples += chroma;
  result_.chroma_outside += chroma_outside;
  const double share = Share(luma_outside + chroma_outside, luma + chroma);
  if (share > worst_share_) {
    worst_share_ = share;
    result_.worst_frame =
        RangeFrame{time_seconds, Share(luma_outside, luma), Share(chroma_outside, chroma)};
  }
  per_second_.Add(time_seconds, share);
  return Status();
}

std::vector<std::optional<double>> RangeChecker::PerSecondMaxOutside() const {
  return per_second_.Maxima();
}

nlohmann::json RangeChecker::ToJson() const {
  nlohmann::json worst = nullptr;
  if (result_.worst_frame.has_value()) {
    worst = {{"time", result_.worst_frame->time},
             {"luma_outside_share", result_.worst_frame->luma_outside},
             {"chroma_outside_share", result_.worst_frame->chroma_outside}};
  }
  nlohmann::json j = {
      {"frames", result_.frames},
      {"frames_outside", result_.frames_outside},
      {"full_range_frames", result_.full_range_frames},
      {"skipped_frames", result_.skipped_frames},
      {"luma_outside_share", result_.luma_outside_share()},
      {"chroma_outside_share", result_.chroma_outside_share()},
      {"worst_frame", worst},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

nlohmann::json RangeChecker::SeriesJson() const {
  return internal::SeriesToJson(PerSecondMaxOutside());
}

}  // namespace vidgate::qc
