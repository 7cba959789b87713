// service_post.h: one SigV4-signed POST to an AWS service's endpoint, as
// the JSON (SQS) and query (SNS) protocols send them. Not retried here: the
// caller's retry loop calls it again.
#pragma once

#include <atomic>
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

}  // namespace vidgate::aws
