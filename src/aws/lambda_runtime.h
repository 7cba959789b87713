// lambda_runtime.h: the AWS Lambda Runtime API (2018-06-01), what a custom
// runtime calls to get invocations and answer them.
//   GET  /2018-06-01/runtime/invocation/next
//   POST /2018-06-01/runtime/invocation/{id}/response
//   POST /2018-06-01/runtime/invocation/{id}/error
//   POST /2018-06-01/runtime/init/error
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

struct Invocation {
  std::string request_id;
  std::string body;     // the event's JSON
  double deadline = 0;  // seconds since the epoch (Lambda-Runtime-Deadline-Ms); 0: not given
  std::string function_arn;
};

class LambdaRuntime {
 public:
  // `api` is AWS_LAMBDA_RUNTIME_API ("host:port"); `http` is borrowed.
  LambdaRuntime(std::string api, net::Client* http) : base_("http://" + api), http_(http) {}

  // Waits, without a time-out, for the next invocation.
  Result<Invocation> Next(const std::atomic<bool>* cancel = nullptr);
  Status Respond(const std::string& request_id, std::string_view body);
  // The invocation failed as a whole: `type` ("Vidgate.Unavailable"), and
  // a sentence.
  Status Fail(const std::string& request_id, std::string_view type, std::string_view message);
  Status InitError(std::string_view type, std::string_view message);

 private:
  Status Post(const std::string& path, std::string_view body, std::string_view error_type);

  std::string base_;
  net::Client* http_;
};

}  // namespace vidgate::aws
