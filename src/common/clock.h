// clock.h: time as a dependency, so back-off and settle logic run on a fake
// clock in tests. Times are seconds since the Unix epoch, as doubles.
#pragma once

#include <chrono>
#include <mutex>

namespace vidgate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock seconds since the Unix epoch. Thread-safe.
  virtual double Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  double Now() const override {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(double start = 1'700'000'000.0) : now_(start) {}
  double Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(double seconds) {
    std::lock_guard lock(mu_);
    now_ += seconds;
  }

 private:
  mutable std::mutex mu_;
  double now_;
};

}  // namespace vidgate
