#include "pipeline/retry.h"

#include <gtest/gtest.h>

namespace vidgate::pipeline {
namespace {

TEST(RetryTest, DelayDoublesWithJitterAndIsCapped) {
  BackoffPolicy p{30, 3600};
  // Without jitter (unit = 1) the delay is base * 2^(n-1).
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 1.0), 30);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 2, 1.0), 60);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 4, 1.0), 240);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 20, 1.0), 3600);
  // Jitter keeps it within [delay/2, delay].
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 2, 0.0), 30);
  for (double u : {0.1, 0.5, 0.9}) {
    double d = BackoffDelay(p, 3, u);
    EXPECT_GE(d, 60);
    EXPECT_LE(d, 120);
  }
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1000, 1.0), 3600);
}

TEST(RetryTest, OnlyBadMediaIsFinal) {
  EXPECT_FALSE(IsRetryable(InvalidArgument("not a video")));
  for (Code c : {Code::kUnavailable, Code::kDeadlineExceeded, Code::kResourceExhausted,
                 Code::kPermissionDenied, Code::kNotFound, Code::kInternal}) {
    EXPECT_TRUE(IsRetryable(Status(c, "x")));
  }
  EXPECT_FALSE(IsRetryable(Status()));
}

}  // namespace
}  // namespace vidgate::pipeline
