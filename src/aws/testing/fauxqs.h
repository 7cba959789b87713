// fauxqs.h: a real SQS and SNS emulator for tests: fauxqs 1.9.2 (npm,
// pinned in tests/fauxqs) on a free loopback port. It does not check
// signatures (the SigV4 known-answer tests do that).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/testing/node_server.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws::testing {

class Fauxqs {
 public:
  static Result<std::unique_ptr<Fauxqs>> Start();
  ~Fauxqs();
  Fauxqs(const Fauxqs&) = delete;
  Fauxqs& operator=(const Fauxqs&) = delete;

  // "http://127.0.0.1:PORT".
  const std::string& endpoint() const { return endpoint_; }

  // A queue with SQS's attributes ("VisibilityTimeout", "RedrivePolicy"...);
  // its URL.
  Result<std::string> CreateQueue(const std::string& name, const nlohmann::json& attributes = {});
  Result<std::string> QueueArn(const std::string& queue_url);
  // SQS's ApproximateNumberOfMessages (+NotVisible) of a queue.
  Result<int> MessagesIn(const std::string& queue_url);

  // An SNS topic (a name ending in .fifo makes a FIFO topic); its ARN.
  Result<std::string> CreateTopic(const std::string& name);
  // Subscribes the queue (its ARN) to the topic; `raw`: the message alone,
  // without SNS's JSON envelope.
  Status Subscribe(const std::string& topic_arn, const std::string& queue_arn, bool raw);

 private:
  Fauxqs() = default;
  Result<nlohmann::json> SqsCall(const std::string& action, const nlohmann::json& request);
  // SNS's query protocol: the answer's XML.
  Result<std::string> SnsCall(const std::string& form);

  std::string root_, endpoint_;
  NodeServer node_;
  net::Client http_;
};

}  // namespace vidgate::aws::testing
