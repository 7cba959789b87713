// secrets_manager.h: reads one secret from AWS Secrets Manager
// (GetSecretValue, JSON protocol), for a process that has no other way to
// be handed it (a Lambda function has no secret injection, unlike ECS).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

struct SecretsManagerOptions {
  // Empty: the region in the secret's ARN, else AWS_REGION, AWS_DEFAULT_REGION,
  // else us-east-1.
  std::string region;
  // "scheme://host[:port]" instead of https://secretsmanager.REGION.amazonaws.com
  // (AWS_ENDPOINT_URL_SECRETS_MANAGER, as AWS's SDKs read it).
  std::string endpoint;
  net::RetryPolicy retry;
  double timeout_seconds = 30;
  std::function<void(double seconds)> sleep;  // tests make back-off instant
};

// The SecretString of `secret_id` (an ARN or a name). kNotFound for no such
// secret, kPermissionDenied when access is refused, kUnavailable when the
// service fails (after retries); never the secret in a message.
Result<std::string> GetSecretString(const SecretsManagerOptions& options,
                                    std::string_view secret_id, CredentialsProvider* credentials,
                                    net::Client* http, const Clock* clock);

// The "password" member of a secret that is a JSON object (as RDS writes
// them: username, password, host, port, dbname), or the whole string when
// it is not JSON. kInvalidArgument for an object without a password string.
Result<std::string> PasswordOf(const std::string& secret_string);

}  // namespace vidgate::aws
