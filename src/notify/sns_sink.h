// sns_sink.h: a Sink that publishes each notification to an SNS topic: the
// CloudEvent's JSON is the message, with String attributes `type` and
// `subject` (so subscriptions can filter). On a FIFO topic the CloudEvent
// `id` is the MessageDeduplicationId and the subject (the video's name) the
// MessageGroupId, so one video's events stay in order.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "aws/sns_client.h"
#include "notify/sink.h"

namespace vidgate::notify {

class SnsSink final : public Sink {
 public:
  explicit SnsSink(std::unique_ptr<aws::SnsClient> client, std::string topic_arn)
      : client_(std::move(client)), id_("sns:" + std::move(topic_arn)) {}

  // "sns:" and the topic's ARN.
  const std::string& id() const override { return id_; }
  // Thread-safe.
  Status Deliver(const nlohmann::json& event) override;
  double max_seconds() const override { return 10; }
  void Cancel() override { cancelled_ = true; }
  // The MessageGroupId of a video's events on a FIFO topic.
  static std::string FifoGroupId(const std::string& subject);

 private:
  std::unique_ptr<aws::SnsClient> client_;
  const std::string id_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace vidgate::notify
