// change_feed.h: news of uploads sooner than the next listing would bring
// it (S3 event notifications through SQS). Intake keeps listing: the
// listing is the truth, and a feed only makes the next scan come now, so a
// lost, late, doubled or lying message costs at most one poll interval and
// can never register a video the listing does not show.
#pragma once

#include <string>

#include "common/status.h"

namespace vidgate::pipeline {

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Waits up to `seconds` for news; how many changes were heard (0: none).
  // Called from one thread only.
  virtual Result<int> Wait(double seconds) = 0;
  // Every change Wait has returned so far has been looked at by a scan that
  // started after it was heard (SQS: the messages may be deleted now).
  virtual Status Acknowledge() = 0;
  // What the log calls it ("sqs://queue").
  virtual std::string Describe() const = 0;
};

}  // namespace vidgate::pipeline
