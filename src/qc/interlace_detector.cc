#include "qc/interlace_detector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qc/internal/luma_facts.h"
#include "qc/internal/pixel_ops.h"

namespace vidgate::qc {

const char* FieldOrderName(FieldOrder order) {
  switch (order) {
    case FieldOrder::kProgressive:
      return "progressive";
    case FieldOrder::kTopFieldFirst:
      return "tff";
    case FieldOrder::kBottomFieldFirst:
      return "bff";
    case FieldOrder::kUndetermined:
      break;
  }
  return "undetermined";
}

InterlaceDetector::InterlaceDetector(InterlaceOptions options, const internal::LumaFacts* facts)
    : options_(options), facts_(facts) {
  options_.row_step = std::max(1, options_.row_step);
  if (facts_ != nullptr && (facts_->comb().threshold != options_.threshold ||
                            facts_->comb().row_step != options_.row_step)) {
    facts_ = nullptr;  // counted with other parameters: count for ourselves
  }
}

FieldOrder InterlaceDetector::Classify(const internal::CombCounts& n) const {
  const double most = static_cast<double>(std::max({n.cur, n.tff, n.bff}));
  if (n.pixels == 0 || most <= options_.min_combed * static_cast<double>(n.pixels)) {
    return FieldOrder::kUndetermined;
  }
  const double cur = static_cast<double>(n.cur);
  const double tff = static_cast<double>(n.tff);
  const double bff = static_cast<double>(n.bff);
  const double low = std::min(tff, bff);
  const double high = std::max(tff, bff);
  if (cur * options_.strong_ratio < low && high < options_.symmetry * low) {
    return FieldOrder::kProgressive;
  }
  if (tff * options_.order_ratio < bff) return FieldOrder::kTopFieldFirst;
  if (bff * options_.order_ratio < tff) return FieldOrder::kBottomFieldFirst;
  if (cur * options_.progressive_ratio < low) return FieldOrder::kProgressive;
  return FieldOrder::kUndetermined;
}

Status InterlaceDetector::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  (void)time_seconds;
  internal::VideoPlanes planes;
  std::string why;
  if (!internal::DescribeVideoFrame(frame, &planes, &why)) {
    if (result_.skipped_frames++ == 0) result_.skipped_reason = why;
    previous_.reset();
    return Status();
  }
  ++result_.frames;
  if (frame.interlaced_frame != 0) ++result_.flagged_interlaced;
  FieldOrder order = FieldOrder::kUndetermined;
  if (facts_ != nullptr) {
    // The facts keep the previous frame and counted the combing already.
    const internal::FrameFacts* facts = facts_->For(frame);
    if (facts != nullptr && facts->has_previous) order = Classify(facts->combing);
  } else if (previous_ != nullptr && internal::SameGeometry(planes, previous_planes_)) {
    // 135 odd rows examined: every 4th at 1080 lines, every 8th at 2160.
    order = Classify(
        internal::CountCombing(planes.luma(), previous_planes_.luma(), planes.bytes_per_sample,
                               options_.threshold << (planes.depth - 8),
                               internal::CombRowStep(options_.row_step, planes.luma().height)));
  }
  switch (order) {
    case FieldOrder::kProgressive:
      ++result_.progressive;
      break;
    case FieldOrder::kTopFieldFirst:
      ++result_.tff;
      break;
    case FieldOrder::kBottomFieldFirst:
      ++result_.bff;
      break;
    case FieldOrder::kUndetermined:
      ++result_.undetermined;
      break;
  }

  if (facts_ != nullptr) return Status();
  VG_RETURN_IF_ERROR(media::KeepFrame(previous_, frame, "interlace detector"));
  if (!internal::DescribeVideoFrame(*previous_, &previous_planes_, &why)) previous_.reset();
  return Status();
}

Status InterlaceDetector::Finish() {
  previous_.reset();
  const int64_t interlaced = result_.tff + result_.bff;
  if (result_.progressive + interlaced == 0) {
    result_.verdict = FieldOrder::kUndetermined;
  } else if (result_.progressive >= interlaced) {
    result_.verdict = FieldOrder::kProgressive;
  } else {
    result_.verdict =
        result_.tff >= result_.bff ? FieldOrder::kTopFieldFirst : FieldOrder::kBottomFieldFirst;
  }
  return Status();
}

nlohmann::json InterlaceDetector::ToJson() const {
  nlohmann::json j = {
      {"verdict", FieldOrderName(result_.verdict)},
      {"frames", result_.frames},
      {"progressive", result_.progressive},
      {"tff", result_.tff},
      {"bff", result_.bff},
      {"undetermined", result_.undetermined},
      {"flagged_interlaced", result_.flagged_interlaced},
      {"skipped_frames", result_.skipped_frames},
  };
  if (!result_.skipped_reason.empty()) j["skipped_reason"] = result_.skipped_reason;
  return j;
}

}  // namespace vidgate::qc
