#include "aws/sns_client.h"

#include <fmt/format.h>

#include <pugixml.hpp>

#include "aws/service_post.h"
#include "aws/sigv4.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

std::string FormPair(std::string_view name, std::string_view value) {
  return UriEncode(name) + "=" + UriEncode(value);
}

bool Throttled(std::string_view code) {
  return code == "Throttling" || code == "ThrottlingException" || code == "InternalError" ||
         code == "InternalFailure" || code == "ServiceUnavailable" || code == "KMSThrottling";
}

}  // namespace

Result<std::unique_ptr<SnsClient>> SnsClient::Create(SnsOptions options,
                                                     CredentialsProvider* credentials,
                                                     net::Client* http, const Clock* clock) {
  // arn:PARTITION:sns:REGION:ACCOUNT:NAME
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t colon; (colon = options.topic_arn.find(':', from)) != std::string::npos;) {
    parts.push_back(options.topic_arn.substr(from, colon - from));
    from = colon + 1;
  }
  parts.push_back(options.topic_arn.substr(from));
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3].empty() ||
      parts[5].empty()) {
    return InvalidArgument("'" + options.topic_arn +
                           "' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
  }
  if (options.region.empty()) options.region = parts[3];
  return std::unique_ptr<SnsClient>(
      new SnsClient(std::move(options), parts[5], credentials, http, clock));
}

SnsClient::SnsClient(SnsOptions options, std::string name, CredentialsProvider* credentials,
                     net::Client* http, const Clock* clock)
    : o_(std::move(options)),
      name_(std::move(name)),
      credentials_(credentials),
      http_(http),
      clock_(clock) {
  std::string base =
      o_.endpoint.empty() ? "https://sns." + o_.region + ".amazonaws.com" : o_.endpoint;
  while (base.ends_with('/')) base.pop_back();
  url_ = base + "/";
  host_ = base.substr(base.find("://") + 3);
}

Status SnsClient::ErrorFor(const net::Response& answer) const {
  pugi::xml_document doc;
  doc.load_buffer(answer.body.data(), answer.body.size());
  pugi::xml_node error = doc.child("ErrorResponse").child("Error");
  const std::string code = error.child_value("Code");
  const std::string text = error.child_value("Message");
  std::string message =
      fmt::format("{}: Publish was answered {} (HTTP {})", Describe(),
                  code.empty() ? "nothing" : net::OneLine(code.substr(0, 100)), answer.status);
  if (!text.empty()) message += ": " + net::OneLine(text.substr(0, 300));
  // A missing topic, a disabled or missing KMS key: fixable, so not final.
  if (code == "NotFound" || code.starts_with("KMS") || code == "InvalidSecurity" ||
      code == "EndpointDisabled") {
    return FailedPrecondition(message);
  }
  if (answer.status == 403 || code == "AuthorizationError" || code == "InvalidClientTokenId" ||
      code == "SignatureDoesNotMatch" || code == "ExpiredToken" || code == "KMSAccessDenied") {
    return PermissionDenied(message);
  }
  if (answer.status >= 500 || answer.status == 429 || Throttled(code)) return Unavailable(message);
  return net::HttpStatus(answer.status, message);
}

Result<std::string> SnsClient::Publish(const SnsMessage& m, const std::atomic<bool>* cancel) {
  std::string body = FormPair("Action", "Publish") + "&" + FormPair("Version", "2010-03-31") + "&" +
                     FormPair("TopicArn", o_.topic_arn) + "&" + FormPair("Message", m.body);
  for (size_t i = 0; i < m.attributes.size(); ++i) {
    const std::string entry = "MessageAttributes.entry." + std::to_string(i + 1);
    body += "&" + FormPair(entry + ".Name", m.attributes[i].first) + "&" +
            FormPair(entry + ".Value.DataType", "String") + "&" +
            FormPair(entry + ".Value.StringValue", m.attributes[i].second);
  }
  if (!m.group_id.empty()) body += "&" + FormPair("MessageGroupId", m.group_id);
  if (!m.deduplication_id.empty()) {
    body += "&" + FormPair("MessageDeduplicationId", m.deduplication_id);
  }
  ServicePost post;
  post.service = "sns";
  post.region = o_.region;
  post.url = url_;
  post.host = host_;
  post.display = Describe();
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  post.body = body;
  post.timeout_seconds = o_.timeout_seconds;
  post.cancel = cancel;
  VG_ASSIGN_OR_RETURN(net::Response answer, SendServicePostRetried(
                                                post, o_.retry,
                                                [&](const net::Response& a) {
                                                  return a.status == 200 ? Status() : ErrorFor(a);
                                                },
                                                credentials_, http_, clock_, o_.sleep));
  pugi::xml_document doc;
  doc.load_buffer(answer.body.data(), answer.body.size());
  return std::string(doc.child("PublishResponse").child("PublishResult").child_value("MessageId"));
}

}  // namespace vidgate::aws
