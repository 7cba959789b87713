#include "aws/testing/fauxqs.h"

#include <filesystem>
#include <pugixml.hpp>

#include "aws/sigv4.h"
#include "common/util.h"

namespace vidgate::aws::testing {

Result<std::unique_ptr<Fauxqs>> Fauxqs::Start() {
  std::unique_ptr<Fauxqs> f(new Fauxqs());
  f->root_ = (std::filesystem::temp_directory_path() / ("vidgate-fauxqs-" + NewUuid())).string();
  std::filesystem::create_directories(f->root_);
  VG_ASSIGN_OR_RETURN(const std::string serve, NodeModulePath("tests/fauxqs/serve.mjs"));
  VG_RETURN_IF_ERROR(f->node_.Start({serve, "0"}, f->root_ + "/fauxqs.log"));
  f->endpoint_ = "http://127.0.0.1:" + std::to_string(f->node_.port());
  return f;
}

Fauxqs::~Fauxqs() {
  node_.Kill();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

Result<nlohmann::json> Fauxqs::SqsCall(const std::string& action, const nlohmann::json& request) {
  const std::string body = request.dump();
  net::Request r;
  r.method = "POST";
  r.url = endpoint_ + "/";
  r.headers = {
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", "AmazonSQS." + action},
      {"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request"}};
  r.body = body;
  VG_ASSIGN_OR_RETURN(net::Response answer, http_.Send(r));
  if (answer.status != 200) {
    return Unavailable("fauxqs answered " + action + " with HTTP " + std::to_string(answer.status) +
                       ": " + answer.body);
  }
  nlohmann::json doc = nlohmann::json::parse(answer.body, nullptr, false);
  if (doc.is_discarded()) return nlohmann::json::object();
  return doc;
}

Result<std::string> Fauxqs::CreateQueue(const std::string& name, const nlohmann::json& attributes) {
  nlohmann::json request = {{"QueueName", name}};
  if (attributes.is_object() && !attributes.empty()) request["Attributes"] = attributes;
  VG_ASSIGN_OR_RETURN(nlohmann::json answer, SqsCall("CreateQueue", request));
  return answer.value("QueueUrl", "");
}

Result<std::string> Fauxqs::QueueArn(const std::string& queue_url) {
  VG_ASSIGN_OR_RETURN(
      nlohmann::json answer,
      SqsCall("GetQueueAttributes", {{"QueueUrl", queue_url}, {"AttributeNames", {"QueueArn"}}}));
  return answer["Attributes"].value("QueueArn", "");
}

Result<int> Fauxqs::MessagesIn(const std::string& queue_url) {
  VG_ASSIGN_OR_RETURN(
      nlohmann::json answer,
      SqsCall("GetQueueAttributes",
              {{"QueueUrl", queue_url},
               {"AttributeNames",
                {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}}}));
  const auto& a = answer["Attributes"];
  return std::atoi(a.value("ApproximateNumberOfMessages", "0").c_str()) +
         std::atoi(a.value("ApproximateNumberOfMessagesNotVisible", "0").c_str());
}

Result<std::string> Fauxqs::SnsCall(const std::string& form) {
  net::Request r;
  r.method = "POST";
  r.url = endpoint_ + "/";
  r.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request"}};
  r.body = form;
  VG_ASSIGN_OR_RETURN(net::Response answer, http_.Send(r));
  if (answer.status != 200) {
    return Unavailable("fauxqs answered " + form + " with HTTP " + std::to_string(answer.status) +
                       ": " + answer.body);
  }
  return answer.body;
}

Result<std::string> Fauxqs::CreateTopic(const std::string& name) {
  std::string form = "Action=CreateTopic&Version=2010-03-31&Name=" + UriEncode(name);
  if (name.ends_with(".fifo")) {
    form += "&Attributes.entry.1.key=FifoTopic&Attributes.entry.1.value=true";
  }
  VG_ASSIGN_OR_RETURN(std::string xml, SnsCall(form));
  pugi::xml_document doc;
  doc.load_buffer(xml.data(), xml.size());
  return std::string(
      doc.child("CreateTopicResponse").child("CreateTopicResult").child_value("TopicArn"));
}

Status Fauxqs::Subscribe(const std::string& topic_arn, const std::string& queue_arn, bool raw) {
  std::string form = "Action=Subscribe&Version=2010-03-31&TopicArn=" + UriEncode(topic_arn) +
                     "&Protocol=sqs&Endpoint=" + UriEncode(queue_arn) +
                     "&ReturnSubscriptionArn=true";
  if (raw) form += "&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true";
  return SnsCall(form).status();
}

}  // namespace vidgate::aws::testing
