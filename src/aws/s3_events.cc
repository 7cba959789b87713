#include "aws/s3_events.h"

#include <nlohmann/json.hpp>

#include "aws/s3_client.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

std::string StringAt(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* name : path) {
    if (!at->is_object() || !at->contains(name)) return "";
    at = &(*at)[name];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

Result<std::vector<S3EventRecord>> Parse(const nlohmann::json& doc, int depth) {
  if (!doc.is_object()) return InvalidArgument("the message is not a JSON object");
  std::vector<S3EventRecord> out;
  // An SNS envelope: the notification is the Message, as a string.
  if (JsonString(doc, "Type") == "Notification" && doc.contains("Message")) {
    if (depth > 0 || !doc["Message"].is_string()) {
      return InvalidArgument("the SNS envelope's Message is not a notification");
    }
    nlohmann::json inner = nlohmann::json::parse(doc["Message"].get<std::string>(), nullptr, false);
    if (inner.is_discarded()) return InvalidArgument("the SNS envelope's Message is not JSON");
    return Parse(inner, depth + 1);
  }
  // S3's test message when a notification is configured.
  if (JsonString(doc, "Event") == "s3:TestEvent") return out;
  // EventBridge.
  if (JsonString(doc, "source") == "aws.s3" && doc.contains("detail")) {
    S3EventRecord r;
    r.bucket = StringAt(doc, {"detail", "bucket", "name"});
    r.key = StringAt(doc, {"detail", "object", "key"});
    r.event_name = JsonString(doc, "detail-type");
    if (r.bucket.empty() || r.key.empty()) {
      return InvalidArgument("the EventBridge event names no bucket or no object key");
    }
    out.push_back(std::move(r));
    return out;
  }
  if (!doc.contains("Records") || !doc["Records"].is_array()) {
    return InvalidArgument(
        "the message is not an S3 event notification (no Records, no SNS envelope, no "
        "EventBridge event)");
  }
  for (const auto& rec : doc["Records"]) {
    if (!rec.is_object() || JsonString(rec, "eventSource") != "aws:s3") continue;
    S3EventRecord r;
    r.bucket = StringAt(rec, {"s3", "bucket", "name"});
    const std::string encoded = StringAt(rec, {"s3", "object", "key"});
    r.event_name = JsonString(rec, "eventName");
    if (r.bucket.empty() || encoded.empty()) {
      return InvalidArgument("an S3 record names no bucket or no object key");
    }
    r.key = UrlDecodeKey(encoded);  // '+' is a space, as in a form
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Result<std::vector<S3EventRecord>> ParseS3Events(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return InvalidArgument("the message is not JSON");
  return Parse(doc, 0);
}

}  // namespace vidgate::aws
