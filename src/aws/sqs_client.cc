#include "aws/sqs_client.h"

#include <fmt/format.h>

#include <algorithm>

#include "aws/service_post.h"
#include "aws/sigv4.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

// "https://sqs.eu-west-1.amazonaws.com/123/q" -> {"https://", "sqs.eu-west-1.amazonaws.com",
// "/123/q"}
struct UrlParts {
  std::string scheme, host, path;
};

UrlParts Split(std::string_view url) {
  UrlParts p;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return p;
  p.scheme = std::string(url.substr(0, scheme_end + 3));
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  p.host = std::string(rest.substr(0, slash));
  p.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return p;
}

// SQS's error codes come as "com.amazonaws.sqs#QueueDoesNotExist" or bare.
std::string ShortCode(std::string type) {
  if (size_t hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  if (size_t colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
  return type;
}

bool ThrottledOrInternal(std::string_view code) {
  return code == "ThrottlingException" || code == "RequestThrottled" || code == "InternalFailure" ||
         code == "ServiceUnavailable" || code == "KmsThrottled";
}

}  // namespace

SqsClient::SqsClient(SqsOptions options, CredentialsProvider* credentials, net::Client* http,
                     const Clock* clock)
    : o_(std::move(options)), credentials_(credentials), http_(http), clock_(clock) {
  const UrlParts queue = Split(o_.queue_url);
  name_ = queue.path.substr(queue.path.rfind('/') + 1);
  UrlParts target = o_.endpoint.empty() ? queue : Split(o_.endpoint);
  url_ = target.scheme + target.host + "/";
  host_ = target.host;
  if (o_.region.empty()) {
    // sqs.REGION.amazonaws.com (or REGION.queue.amazonaws.com, the legacy form)
    const std::string& h = queue.host;
    if (h.starts_with("sqs.") && h.find(".amazonaws.com") != std::string::npos) {
      o_.region = h.substr(4, h.find('.', 4) - 4);
    } else if (size_t q = h.find(".queue.amazonaws.com"); q != std::string::npos) {
      o_.region = h.substr(0, q);
    }
  }
  if (o_.region.empty()) o_.region = "us-east-1";
}

std::string SqsClient::Describe() const { return "sqs://" + name_; }

Status SqsClient::ErrorFor(const net::Response& answer, std::string_view action) const {
  const nlohmann::json doc = nlohmann::json::parse(answer.body, nullptr, false);
  std::string code, text;
  if (doc.is_object()) {
    code = ShortCode(JsonString(doc, "__type"));
    if (code.empty()) code = ShortCode(JsonString(doc, "code"));
    text = JsonString(doc, "message");
    if (text.empty()) text = JsonString(doc, "Message");
  }
  // The query-compatible header carries the classic code
  // ("AWS.SimpleQueueService.NonExistentQueue;Sender").
  if (code.empty()) code = ShortCode(answer.HeaderValue("x-amzn-query-error"));
  const long status = answer.status;
  std::string message =
      fmt::format("{}: {} was answered {} (HTTP {})", Describe(), action,
                  code.empty() ? "nothing" : net::OneLine(code.substr(0, 100)), status);
  if (!text.empty()) message += ": " + net::OneLine(text.substr(0, 300));
  if (code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue") {
    return FailedPrecondition(message);
  }
  if (status == 403 || code == "AccessDenied" || code == "AccessDeniedException" ||
      code == "InvalidClientTokenId" || code == "UnrecognizedClientException" ||
      code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
      code == "MissingAuthenticationToken" || code == "IncompleteSignature") {
    return PermissionDenied(message);
  }
  if (status >= 500 || status == 429 || ThrottledOrInternal(code)) return Unavailable(message);
  return net::HttpStatus(status, message);
}

Result<nlohmann::json> SqsClient::Call(std::string_view action, const nlohmann::json& request,
                                       const std::atomic<bool>* cancel, double timeout) {
  const std::string body = request.dump();
  ServicePost post;
  post.service = "sqs";
  post.region = o_.region;
  post.url = url_;
  post.host = host_;
  post.display = Describe();
  post.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                  {"X-Amz-Target", "AmazonSQS." + std::string(action)}};
  post.body = body;
  post.timeout_seconds = timeout;
  post.cancel = cancel;
  nlohmann::json doc;
  VG_RETURN_IF_ERROR(SendServicePostRetried(
                         post, o_.retry,
                         [&](const net::Response& answer) -> Status {
                           if (answer.status != 200) return ErrorFor(answer, action);
                           doc = nlohmann::json::parse(answer.body, nullptr, false);
                           if (answer.body_truncated ||
                               (!answer.body.empty() && doc.is_discarded())) {
                             return Unavailable(fmt::format(
                                 "{}: {} was answered with what is not JSON", Describe(), action));
                           }
                           return Status();
                         },
                         credentials_, http_, clock_, o_.sleep)
                         .status());
  return doc.is_discarded() ? nlohmann::json::object() : std::move(doc);
}

Result<std::vector<SqsMessage>> SqsClient::Receive(int max, int wait_seconds,
                                                   int visibility_seconds,
                                                   const std::atomic<bool>* cancel) {
  nlohmann::json request = {{"QueueUrl", o_.queue_url},
                            {"MaxNumberOfMessages", std::clamp(max, 1, 10)},
                            {"WaitTimeSeconds", std::clamp(wait_seconds, 0, 20)},
                            // Both names: the newer one, and the one older servers know.
                            {"MessageSystemAttributeNames", {"ApproximateReceiveCount"}},
                            {"AttributeNames", {"ApproximateReceiveCount"}}};
  if (visibility_seconds > 0) request["VisibilityTimeout"] = visibility_seconds;
  VG_ASSIGN_OR_RETURN(nlohmann::json answer, Call("ReceiveMessage", request, cancel,
                                                  std::clamp(wait_seconds, 0, 20) + 15));
  std::vector<SqsMessage> out;
  if (!answer.contains("Messages") || !answer["Messages"].is_array()) return out;
  for (const auto& m : answer["Messages"]) {
    if (!m.is_object()) continue;
    SqsMessage msg;
    msg.id = JsonString(m, "MessageId");
    msg.receipt_handle = JsonString(m, "ReceiptHandle");
    msg.body = JsonString(m, "Body");
    if (m.contains("Attributes") && m["Attributes"].is_object()) {
      msg.receive_count = std::atoi(JsonString(m["Attributes"], "ApproximateReceiveCount").c_str());
    }
    if (!msg.receipt_handle.empty()) out.push_back(std::move(msg));
  }
  return out;
}

Status SqsClient::Delete(const std::vector<std::string>& receipt_handles) {
  for (size_t from = 0; from < receipt_handles.size(); from += 10) {
    nlohmann::json entries = nlohmann::json::array();
    for (size_t i = from; i < std::min(receipt_handles.size(), from + 10); ++i) {
      entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", receipt_handles[i]}});
    }
    VG_ASSIGN_OR_RETURN(
        nlohmann::json answer,
        Call("DeleteMessageBatch", {{"QueueUrl", o_.queue_url}, {"Entries", entries}}));
    if (!answer.contains("Failed") || !answer["Failed"].is_array()) continue;
    for (const auto& f : answer["Failed"]) {
      const std::string code = JsonString(f, "Code");
      // A stale receipt: the message is visible again, and will come back.
      if (code == "ReceiptHandleIsInvalid" || code == "InvalidReceiptHandle") continue;
      if (f.is_object() && f.contains("SenderFault") && f["SenderFault"] == true) {
        return InvalidArgument(fmt::format("{}: a message could not be deleted: {} {}", Describe(),
                                           net::OneLine(code),
                                           net::OneLine(JsonString(f, "Message"))));
      }
      return Unavailable(
          fmt::format("{}: a message could not be deleted: {}", Describe(), net::OneLine(code)));
    }
  }
  return Status();
}

Status SqsClient::ChangeVisibility(const std::string& receipt_handle, int seconds) {
  return Call("ChangeMessageVisibility", {{"QueueUrl", o_.queue_url},
                                          {"ReceiptHandle", receipt_handle},
                                          {"VisibilityTimeout", seconds}})
      .status();
}

Result<std::string> SqsClient::Send(std::string_view body) {
  VG_ASSIGN_OR_RETURN(nlohmann::json answer,
                      Call("SendMessage", {{"QueueUrl", o_.queue_url}, {"MessageBody", body}}));
  return JsonString(answer, "MessageId");
}

}  // namespace vidgate::aws
