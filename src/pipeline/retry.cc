#include "pipeline/retry.h"

#include <algorithm>
#include <cmath>

namespace vidgate::pipeline {

double BackoffDelay(const BackoffPolicy& policy, int failed_attempts, double unit) {
  int exponent = std::clamp(failed_attempts - 1, 0, 60);
  double delay = std::min(policy.max_seconds, policy.base_seconds * std::ldexp(1.0, exponent));
  unit = std::clamp(unit, 0.0, 1.0);
  return delay / 2 + unit * delay / 2;
}

bool IsRetryable(const Status& status) {
  return !status.ok() && status.code() != Code::kInvalidArgument;
}

}  // namespace vidgate::pipeline
