// retry.h: which failures are retried, and when.
#pragma once

#include <random>

#include "common/status.h"

namespace vidgate::pipeline {

struct BackoffPolicy {
  double base_seconds = 30;
  double max_seconds = 3600;
};

// Delay before attempt `failed_attempts + 1`: base * 2^(failed_attempts - 1),
// capped, then "equal jitter": uniformly within [delay/2, delay], so workers
// that failed together do not retry together. `unit` is a draw in [0, 1).
double BackoffDelay(const BackoffPolicy& policy, int failed_attempts, double unit);

// The contract: bad media (kInvalidArgument) is final; every other error of
// the store, the catalog, the network or the clock is worth another attempt.
bool IsRetryable(const Status& status);

}  // namespace vidgate::pipeline
