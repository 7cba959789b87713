// change_feed.h: news of uploads sooner than the next listing would bring
// it (S3 event notifications through SQS). Intake takes the keys the news
// names (Intake::Take) and keeps listing every intake.poll_seconds as the
// safety net, so a lost or late message delays a video, never loses it, and
// a doubled or lying one can register nothing the store does not hold.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/status.h"

namespace vidgate::pipeline {

// One batch of news.
struct News {
  std::vector<std::string> keys;    // store keys (under the store's prefix)
  std::vector<std::string> tokens;  // the feed's own (SQS: receipt handles)
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Waits up to `seconds` for news (less once `stop` is set: within about a
  // second); an empty batch when none came. Called from one thread only. News that cannot be read
  // (a malformed message) is left to the feed's own redelivery (SQS: it reaches the dead-letter
  // queue after its receives), never returned and never blocking the rest.
  virtual Result<News> Wait(double seconds, const std::atomic<bool>& stop) = 0;
  // Every key of `news` has been taken: the feed may forget it (SQS: delete
  // the messages). News never marked Done comes again.
  virtual Status Done(const News& news) = 0;
  // What the log calls it ("sqs://queue").
  virtual std::string Describe() const = 0;
};

}  // namespace vidgate::pipeline
