#include "qc/interlace_detector.h"

#include <algorithm>
#include <cstdlib>  // std::abs
#include <nlohmann/json.hpp>

namespace vidgate::qc {

namespace {

struct CombCounts {
  uint64_t cur = 0;
  uint64_t tff = 0;
  uint64_t bff = 0;
  uint64_t pixels = 0;
};

template <typename T>
const T* Row(const internal::Plane& plane, int y) {
  return reinterpret_cast<const T*>(plane.data + static_cast<ptrdiff_t>(y) * plane.linesize);
}

// 1 when `mid` (a row of one field) combs against `up`/`down` (rows of the
// other field) but not against `up2`/`down2` (its own field).
inline uint32_t Combs(int up2, int up, int mid, int down, int down2, int threshold) {
  const int cross = std::abs(up + down - 2 * mid);
  const int same = std::abs(up2 + down2 - 2 * mid);
  return (cross > threshold && cross > 2 * same) ? 1u : 0u;
}

template <typename T>
CombCounts CountCombing(const internal::Plane& cur, const internal::Plane& prev, int threshold,
                        int row_step) {
  CombCounts counts;
  const int width = cur.width;
  // Odd rows y with y-2 >= 0 and y+2 < height.
  for (int y = 3; y + 2 < cur.height; y += 2 * row_step) {
    const T* c_up2 = Row<T>(cur, y - 2);
    const T* c_up = Row<T>(cur, y - 1);
    const T* c_mid = Row<T>(cur, y);
    const T* c_down = Row<T>(cur, y + 1);
    const T* c_down2 = Row<T>(cur, y + 2);
    const T* p_up2 = Row<T>(prev, y - 2);
    const T* p_up = Row<T>(prev, y - 1);
    const T* p_mid = Row<T>(prev, y);
    const T* p_down = Row<T>(prev, y + 1);
    const T* p_down2 = Row<T>(prev, y + 2);
    uint32_t n_cur = 0, n_tff = 0, n_bff = 0;
    for (int x = 0; x < width; ++x) {
      // cur: all rows from the current frame.
      n_cur += Combs(c_up2[x], c_up[x], c_mid[x], c_down[x], c_down2[x], threshold);
      // tff: top rows (even) from the current frame, bottom rows (odd) from the previous.
      n_tff += Combs(p_up2[x], c_up[x], p_mid[x], c_down[x], p_down2[x], threshold);
      // bff: top rows from the previous frame, bottom rows from the current.
      n_bff += Combs(c_up2[x], p_up[x], c_mid[x], p_down[x], c_down2[x], threshold);
    }
    counts.cur += n_cur;
    counts.tff += n_tff;
    counts.bff += n_bff;
    counts.pixels += static_cast<uint64_t>(width);
  }
  return counts;
}

}  // namespace

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

InterlaceDetector::InterlaceDetector(InterlaceOptions options) : options_(options) {
  options_.row_step = std::max(1, options_.row_step);
}

FieldOrder InterlaceDetector::Classify(const internal::VideoPlanes& current,
                                       const internal::VideoPlanes& previous) const {
  const int threshold = options_.threshold << (current.depth - 8);
  const CombCounts n =
      current.bytes_per_sample == 1
          ? CountCombing<uint8_t>(current.luma(), previous.luma(), threshold, options_.row_step)
          : CountCombing<uint16_t>(current.luma(), previous.luma(), threshold, options_.row_step);
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
  if (previous_ != nullptr && internal::SameGeometry(planes, previous_planes_)) {
    order = Classify(planes, previous_planes_);
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

  if (previous_ == nullptr) {
    previous_.reset(av_frame_alloc());
    if (previous_ == nullptr) return ResourceExhausted("out of memory for a video frame");
  } else {
    av_frame_unref(previous_.get());
  }
  if (int err = av_frame_ref(previous_.get(), &frame); err < 0) {
    previous_.reset();
    return ResourceExhausted("interlace detector could not keep a frame: " +
                             media::AvErrorText(err));
  }
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
