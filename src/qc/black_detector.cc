#include "qc/black_detector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qc/internal/luma_facts.h"
#include "qc/internal/pixel_ops.h"
#include "qc/internal/video_planes.h"

namespace vidgate::qc {

namespace {
// Durations are compared with this slack so that a run of exactly
// min_duration (in a time base that doubles cannot hold exactly) counts.
constexpr double kTimeSlack = 1e-9;
}  // namespace

BlackDetector::BlackDetector(BlackOptions options, const internal::LumaFacts* facts)
    : options_(options), facts_(facts) {
  if (facts_ != nullptr && facts_->black_threshold() != options_.pixel_threshold) {
    facts_ = nullptr;  // counted with another threshold: count for ourselves
  }
}

Status BlackDetector::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  clock_.Tick(time_seconds);
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    CloseRun(time_seconds);
    return Status();
  }
  const internal::Plane& luma = planes.luma();
  uint64_t black = 0;  // a negative threshold makes no sample black
  if (const internal::FrameFacts* facts = facts_ ? facts_->For(frame) : nullptr) {
    black = facts->luma.at_most;
  } else if (const int64_t code = internal::BlackCode(planes, options_.pixel_threshold);
             code >= 0) {
    black = internal::CountAtMost(luma, planes.bytes_per_sample, static_cast<uint32_t>(code));
  }
  const double ratio = static_cast<double>(black) / (static_cast<double>(luma.width) * luma.height);

  ++result_.frames;
  if (ratio >= options_.picture_ratio) {
    ++result_.black_frames;
    if (!run_start_.has_value()) run_start_ = time_seconds;
  } else {
    CloseRun(time_seconds);
  }
  return Status();
}

Status BlackDetector::Finish() {
  CloseRun(clock_.end());
  return Status();
}

void BlackDetector::CloseRun(double end) {
  if (!run_start_.has_value()) return;
  if (end - *run_start_ >= options_.min_duration - kTimeSlack) {
    result_.segments.push_back(Segment{*run_start_, end});
  }
  run_start_.reset();
}

nlohmann::json BlackDetector::ToJson() const {
  nlohmann::json j = {
      {"segments", SegmentsToJson(result_.segments)}, {"frames", result_.frames},
      {"black_frames", result_.black_frames},         {"skipped_frames", result_.skipped_frames},
      {"pixel_threshold", options_.pixel_threshold},  {"picture_ratio", options_.picture_ratio},
      {"min_duration", options_.min_duration},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

}  // namespace vidgate::qc
