// service_post.h: one SigV4-signed POST to an AWS service's endpoint, as
// the JSON (SQS) and query (SNS) protocols send them. Not retried here: the
// caller's retry loop calls it again.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "net/http.h"

namespace vidgate::aws {

struct ServicePost {
  std::string service;  // "sqs", "sns"
  std::string region;
  std::string url;              // "scheme://host[:port]/"
  std::string host;             // its host[:port], signed
  std::string display;          // what messages call it ("sqs://NAME")
  std::vector<Header> headers;  // Content-Type and the protocol's own, signed
  std::string_view body;
  double timeout_seconds = 30;
  const std::atomic<bool>* cancel = nullptr;
};

// The answer whatever its HTTP status; an error only for the credentials or
// the transport.
Result<net::Response> SendServicePost(const ServicePost& post, CredentialsProvider* credentials,
                                      net::Client* http, const Clock* clock);

// SendServicePost under `retry`: each answer goes through `check` (the
// service's error mapping, and whatever else makes an answer unusable); a
// transport failure or a transient Status from `check` is tried again.
// Returns the answer `check` accepted, or the last error.
Result<net::Response> SendServicePostRetried(
    const ServicePost& post, const net::RetryPolicy& retry,
    const std::function<Status(const net::Response&)>& check, CredentialsProvider* credentials,
    net::Client* http, const Clock* clock, const std::function<void(double)>& sleep);

}  // namespace vidgate::aws
