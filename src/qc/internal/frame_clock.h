// frame_clock.h (internal): where the last video frame ends.
//
// A sink sees each frame's start time only. FrameClock takes the end of the
// last frame as its start plus the interval between the last two frames
// (libav's frame durations are in a stream time base the sink is not given);
// with a single frame the end is its start.
#pragma once

#include <cstdint>

namespace vidgate::qc::internal {

class FrameClock {
 public:
  void Tick(double time_seconds) {
    if (frames_ > 0 && time_seconds > last_) interval_ = time_seconds - last_;
    last_ = time_seconds;
    ++frames_;
  }

  double end() const { return last_ + interval_; }

 private:
  int64_t frames_ = 0;
  double last_ = 0;
  double interval_ = 0;
};

}  // namespace vidgate::qc::internal
