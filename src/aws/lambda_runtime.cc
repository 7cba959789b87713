#include "aws/lambda_runtime.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace vidgate::aws {

Result<Invocation> LambdaRuntime::Next(const std::atomic<bool>* cancel) {
  net::Request r;
  r.url = base_ + "/2018-06-01/runtime/invocation/next";
  r.display = "the Lambda Runtime API";
  r.timeout_seconds = 0;  // it answers when there is work
  r.stall_seconds = 0;
  r.cancel = cancel;
  r.max_body_bytes = 7 << 20;  // Lambda's payloads are at most 6 MB
  VG_ASSIGN_OR_RETURN(net::Response answer, http_->Send(r));
  if (answer.status != 200) {
    return Unavailable("the Lambda Runtime API answered the next invocation with HTTP " +
                       std::to_string(answer.status));
  }
  Invocation inv;
  inv.request_id = answer.HeaderValue("lambda-runtime-aws-request-id");
  inv.function_arn = answer.HeaderValue("lambda-runtime-invoked-function-arn");
  const double deadline_ms =
      std::strtod(answer.HeaderValue("lambda-runtime-deadline-ms").c_str(), nullptr);
  inv.deadline = std::isfinite(deadline_ms) && deadline_ms > 0 ? deadline_ms / 1000 : 0;
  inv.body = std::move(answer.body);
  // The id goes into the next URLs: it must be one path segment.
  if (inv.request_id.empty() ||
      inv.request_id.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos) {
    return Unavailable("the Lambda Runtime API gave an invocation without a usable request id");
  }
  return inv;
}

Status LambdaRuntime::Post(const std::string& path, std::string_view body,
                           std::string_view error_type) {
  net::Request r;
  r.method = "POST";
  r.url = base_ + path;
  r.display = "the Lambda Runtime API";
  r.body = body;
  r.headers = {{"Content-Type", "application/json"}};
  if (!error_type.empty()) r.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
  VG_ASSIGN_OR_RETURN(net::Response answer, http_->Send(r));
  if (answer.status != 202 && answer.status != 200) {
    return Unavailable("the Lambda Runtime API answered " + path + " with HTTP " +
                       std::to_string(answer.status) + ": " +
                       net::OneLine(answer.body.substr(0, 200)));
  }
  return Status();
}

Status LambdaRuntime::Respond(const std::string& request_id, std::string_view body) {
  return Post("/2018-06-01/runtime/invocation/" + request_id + "/response", body, "");
}

Status LambdaRuntime::Fail(const std::string& request_id, std::string_view type,
                           std::string_view message) {
  const std::string body = nlohmann::json{{"errorType", type}, {"errorMessage", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Post("/2018-06-01/runtime/invocation/" + request_id + "/error", body, type);
}

Status LambdaRuntime::InitError(std::string_view type, std::string_view message) {
  const std::string body = nlohmann::json{{"errorType", type}, {"errorMessage", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Post("/2018-06-01/runtime/init/error", body, type);
}

}  // namespace vidgate::aws
