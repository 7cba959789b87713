// sqs_client.h: the SQS calls vidgate needs (AWS JSON 1.0 protocol), signed
// with SigV4, on net.
//
// Errors name the queue ("sqs://NAME") and SQS's error code:
//   kFailedPrecondition  QueueDoesNotExist (the queue URL is wrong).
//   kPermissionDenied    AccessDenied, InvalidClientTokenId,
//                        SignatureDoesNotMatch, ExpiredToken...
//   kUnavailable         what stayed transient after the retries (5xx,
//                        throttling, a dropped connection).
//   kInvalidArgument     other 4xx (ReceiptHandleIsInvalid...).
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

struct SqsOptions {
  // https://sqs.REGION.amazonaws.com/ACCOUNT/NAME
  std::string queue_url;
  // Empty: worked out from queue_url's host (sqs.REGION.amazonaws.com), else
  // us-east-1.
  std::string region;
  // "scheme://host[:port]" to send to instead of queue_url's own host
  // (fauxqs, LocalStack, ElasticMQ).
  std::string endpoint;
  net::RetryPolicy retry;
  std::function<void(double seconds)> sleep;  // tests make back-off instant
};

struct SqsMessage {
  std::string id;
  std::string receipt_handle;
  std::string body;
  int receive_count = 0;  // ApproximateReceiveCount, 1 on the first receive
};

class SqsClient {
 public:
  // `credentials`, `http` and `clock` are borrowed.
  SqsClient(SqsOptions options, CredentialsProvider* credentials, net::Client* http,
            const Clock* clock);

  // "sqs://NAME", for messages.
  std::string Describe() const;
  const std::string& region() const { return o_.region; }

  // Up to `max` (1..10) messages, waiting up to `wait_seconds` (0..20) for
  // one; hidden from other receivers for `visibility_seconds` (0: the
  // queue's default). `cancel` ends the wait early (kCancelled).
  Result<std::vector<SqsMessage>> Receive(int max, int wait_seconds, int visibility_seconds = 0,
                                          const std::atomic<bool>* cancel = nullptr);
  // Deletes the messages (in batches of 10); receipt handles that are no
  // longer valid (the message came back and was received again) are not an
  // error: their message will come again.
  Status Delete(const std::vector<std::string>& receipt_handles);
  Status ChangeVisibility(const std::string& receipt_handle, int seconds);
  // The message id.
  Result<std::string> Send(std::string_view body);

 private:
  Result<nlohmann::json> Call(std::string_view action, const nlohmann::json& request,
                              const std::atomic<bool>* cancel = nullptr, double timeout = 30);
  Status ErrorFor(const net::Response& answer, std::string_view action) const;

  SqsOptions o_;
  CredentialsProvider* credentials_;
  net::Client* http_;
  const Clock* clock_;
  std::string url_;   // where requests go: scheme://host[:port]/
  std::string host_;  // its host[:port], signed
  std::string name_;  // the queue's name
};

}  // namespace vidgate::aws
