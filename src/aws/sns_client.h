// sns_client.h: SNS Publish (the query protocol), signed with SigV4, on net.
//
// Errors name the topic ("sns://NAME") and SNS's error code:
//   kFailedPrecondition  NotFound (no such topic).
//   kPermissionDenied    AuthorizationError, InvalidClientTokenId,
//                        SignatureDoesNotMatch, ExpiredToken...
//   kInvalidArgument     InvalidParameter and other 4xx (a message SNS will
//                        never take, e.g. over 256 KiB).
//   kUnavailable         what stayed transient after the retries.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

struct SnsOptions {
  std::string topic_arn;  // arn:aws:sns:REGION:ACCOUNT:NAME
  std::string region;     // empty: the ARN's
  std::string endpoint;   // empty: https://sns.REGION.amazonaws.com
  double timeout_seconds = 10;
  net::RetryPolicy retry;
  std::function<void(double seconds)> sleep;
};

struct SnsMessage {
  std::string body;
  std::vector<std::pair<std::string, std::string>> attributes;  // String attributes
  std::string group_id;                                         // FIFO topics only
  std::string deduplication_id;                                 // FIFO topics only
};

class SnsClient {
 public:
  // kInvalidArgument if the ARN is not an SNS topic's.
  static Result<std::unique_ptr<SnsClient>> Create(SnsOptions options,
                                                   CredentialsProvider* credentials,
                                                   net::Client* http, const Clock* clock);

  std::string Describe() const { return "sns://" + name_; }
  const std::string& region() const { return o_.region; }
  bool fifo() const { return name_.ends_with(".fifo"); }

  // The message id SNS gave.
  Result<std::string> Publish(const SnsMessage& message, const std::atomic<bool>* cancel = nullptr);

 private:
  SnsClient(SnsOptions options, std::string name, CredentialsProvider* credentials,
            net::Client* http, const Clock* clock);
  Status ErrorFor(const net::Response& answer) const;

  SnsOptions o_;
  std::string name_;
  CredentialsProvider* credentials_;
  net::Client* http_;
  const Clock* clock_;
  std::string url_, host_;
};

}  // namespace vidgate::aws
