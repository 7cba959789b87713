#include "aws/secrets_manager.h"

#include <fmt/format.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "aws/service_post.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

// "arn:aws:secretsmanager:eu-west-1:123456789012:secret:name-AbCdEf" -> "eu-west-1"
std::string RegionOfArn(std::string_view id) {
  if (!id.starts_with("arn:")) return "";
  size_t at = 0;
  for (int field = 0; field < 3; ++field) {
    at = id.find(':', at);
    if (at == std::string_view::npos) return "";
    ++at;
  }
  const size_t end = id.find(':', at);
  if (end == std::string_view::npos) return "";
  return std::string(id.substr(at, end - at));
}

// What a message may say of the secret: its name, never its value.
std::string Describe(std::string_view id) {
  return fmt::format("secret '{}'", net::OneLine(std::string(id.substr(0, 300))));
}

Status ErrorFor(const net::Response& answer, std::string_view id) {
  const nlohmann::json doc = nlohmann::json::parse(answer.body, nullptr, false);
  std::string code = doc.is_object() ? JsonString(doc, "__type") : "";
  if (size_t hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  std::string text = doc.is_object() ? JsonString(doc, "message") : "";
  if (text.empty() && doc.is_object()) text = JsonString(doc, "Message");
  std::string message =
      fmt::format("{}: Secrets Manager answered {} (HTTP {})", Describe(id),
                  code.empty() ? "nothing" : net::OneLine(code.substr(0, 100)), answer.status);
  if (!text.empty()) message += ": " + net::OneLine(text.substr(0, 300));
  if (code == "ResourceNotFoundException") return NotFound(message);
  if (answer.status == 403 || code == "AccessDeniedException" ||
      code == "UnrecognizedClientException" || code == "InvalidSignatureException" ||
      code == "ExpiredTokenException" || code == "DecryptionFailure") {
    return PermissionDenied(message);
  }
  if (answer.status >= 500 || answer.status == 429 || code == "InternalServiceError" ||
      code == "ThrottlingException") {
    return Unavailable(message);
  }
  return net::HttpStatus(answer.status, message);
}

}  // namespace

Result<std::string> GetSecretString(const SecretsManagerOptions& options,
                                    std::string_view secret_id, CredentialsProvider* credentials,
                                    net::Client* http, const Clock* clock) {
  std::string region = options.region;
  if (region.empty()) region = RegionOfArn(secret_id);
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (!region.empty()) break;
    if (const char* v = std::getenv(var); v != nullptr) region = v;
  }
  if (region.empty()) region = "us-east-1";
  std::string url = options.endpoint.empty() ? "https://secretsmanager." + region + ".amazonaws.com"
                                             : options.endpoint;
  while (url.ends_with('/')) url.pop_back();
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return InvalidArgument("the Secrets Manager endpoint '" + url +
                           "' must start with http:// or https://");
  }
  const std::string host = url.substr(scheme_end + 3);
  const std::string body = nlohmann::json{{"SecretId", std::string(secret_id)}}.dump();
  ServicePost post;
  post.service = "secretsmanager";
  post.region = region;
  post.url = url + "/";
  post.host = host;
  post.display = Describe(secret_id);
  post.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                  {"X-Amz-Target", "secretsmanager.GetSecretValue"}};
  post.body = body;
  post.timeout_seconds = options.timeout_seconds;
  VG_ASSIGN_OR_RETURN(net::Response answer, SendServicePostRetried(
                                                post, options.retry,
                                                [&](const net::Response& a) {
                                                  return a.status == 200 ? Status()
                                                                         : ErrorFor(a, secret_id);
                                                },
                                                credentials, http, clock, options.sleep));
  const nlohmann::json doc = nlohmann::json::parse(answer.body, nullptr, false);
  const std::string value = doc.is_object() ? JsonString(doc, "SecretString") : "";
  if (value.empty()) {
    return InvalidArgument(Describe(secret_id) +
                           " holds no SecretString (a binary secret cannot be a password)");
  }
  return value;
}

Result<std::string> PasswordOf(const std::string& secret_string) {
  const nlohmann::json doc = nlohmann::json::parse(secret_string, nullptr, false);
  if (!doc.is_object()) return secret_string;
  std::string password = JsonString(doc, "password");
  if (password.empty()) {
    return InvalidArgument("the secret is a JSON object without a \"password\" string");
  }
  return password;
}

}  // namespace vidgate::aws
