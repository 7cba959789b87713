// sqs_feed.h: the change feed of S3 event notifications arriving through an
// SQS queue (directly, through SNS, or from EventBridge): intake's news.
#pragma once

#include <spdlog/logger.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sqs_client.h"
#include "pipeline/change_feed.h"

namespace vidgate::app {

// The store keys an S3 event notification (any of its three shapes) names
// in `bucket` under `prefix` (taken off); other buckets' and keys' records
// are dropped. kInvalidArgument for a body that is no notification.
Result<std::vector<std::string>> StoreKeysOf(std::string_view body, const std::string& bucket,
                                             const std::string& prefix);

class SqsFeed final : public pipeline::ChangeFeed {
 public:
  // Keys of `bucket` under `prefix` ("" or "some/prefix/") are news, as
  // store keys (the prefix taken off); records of other buckets or keys are
  // read and dropped. `sqs` and `log` are borrowed.
  SqsFeed(aws::SqsClient* sqs, std::string bucket, std::string prefix, spdlog::logger* log)
      : sqs_(sqs), bucket_(std::move(bucket)), prefix_(std::move(prefix)), log_(log) {}

  // A message that is no S3 event notification is left on the queue (not
  // deleted): it comes back after its visibility timeout and, after the
  // queue's maxReceiveCount, goes to its dead-letter queue. Said once.
  Result<pipeline::News> Wait(double seconds, const std::atomic<bool>& stop) override;
  Status Done(const pipeline::News& news) override;
  std::string Describe() const override { return sqs_->Describe(); }

 private:
  aws::SqsClient* sqs_;
  std::string bucket_, prefix_;
  spdlog::logger* log_;
  std::set<std::string> refused_;  // message ids already said to be unreadable
};

}  // namespace vidgate::app
