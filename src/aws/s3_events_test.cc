// S3 event notifications in the three shapes users route them to SQS, with
// bodies as S3, SNS and EventBridge write them.
#include "aws/s3_events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vidgate::aws {
namespace {

// A notification as S3 sends it (keys encoded as in a form).
std::string S3Notification(const std::string& encoded_key, const std::string& event) {
  return nlohmann::json{{"Records",
                         {{{"eventVersion", "2.1"},
                           {"eventSource", "aws:s3"},
                           {"awsRegion", "us-east-1"},
                           {"eventTime", "2026-11-30T16:00:00.000Z"},
                           {"eventName", event},
                           {"s3",
                            {{"s3SchemaVersion", "1.0"},
                             {"bucket", {{"name", "media"}, {"arn", "arn:aws:s3:::media"}}},
                             {"object",
                              {{"key", encoded_key},
                               {"size", 1024},
                               {"eTag", "d41d8cd98f00b204e9800998ecf8427e"},
                               {"sequencer", "0055AED6DCD90281E5"}}}}}}}}}
      .dump();
}

TEST(S3EventsTest, S3sOwnNotificationWithAnEncodedKey) {
  // "uploads/my clip+1 été#2.mp4", as S3 encodes it.
  auto records = ParseS3Events(
      S3Notification("uploads/my+clip%2B1+%C3%A9t%C3%A9%232.mp4", "ObjectCreated:Put"));
  ASSERT_TRUE(records.ok()) << records.status().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].bucket, "media");
  EXPECT_EQ((*records)[0].key, "uploads/my clip+1 été#2.mp4");
  EXPECT_EQ((*records)[0].event_name, "ObjectCreated:Put");
}

TEST(S3EventsTest, TheSameThroughAnSnsEnvelope) {
  const nlohmann::json envelope = {
      {"Type", "Notification"},
      {"MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"},
      {"TopicArn", "arn:aws:sns:us-east-1:123456789012:uploads"},
      {"Subject", "Amazon S3 Notification"},
      {"Message", S3Notification("uploads/a%2Fb/c.mp4", "ObjectCreated:CompleteMultipartUpload")},
      {"Timestamp", "2026-11-30T16:00:00.000Z"}};
  auto records = ParseS3Events(envelope.dump());
  ASSERT_TRUE(records.ok()) << records.status().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].key, "uploads/a/b/c.mp4");
}

TEST(S3EventsTest, EventBridgeKeysAreNotEncoded) {
  const nlohmann::json event = {
      {"version", "0"},
      {"id", "17793124-05d4-b198-2fde-7ededc63b103"},
      {"detail-type", "Object Created"},
      {"source", "aws.s3"},
      {"account", "123456789012"},
      {"region", "us-east-1"},
      {"detail",
       {{"version", "0"},
        {"bucket", {{"name", "media"}}},
        {"object", {{"key", "uploads/50% off+more.mp4"}, {"size", 5}, {"etag", "e"}}},
        {"reason", "PutObject"}}}};
  auto records = ParseS3Events(event.dump());
  ASSERT_TRUE(records.ok()) << records.status().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].key, "uploads/50% off+more.mp4");
  EXPECT_EQ((*records)[0].event_name, "Object Created");
}

// Members of the wrong type are read as missing, never thrown on: a
// message anybody can send must not take a worker down.
TEST(S3EventsTest, MembersOfTheWrongTypeAreReadAsMissing) {
  for (const std::string body :
       {R"({"Type":1})", R"({"Type":"Notification","Message":5})", R"({"Event":[],"source":{}})",
        R"({"source":"aws.s3","detail-type":7,"detail":{"bucket":{"name":3}}})",
        R"({"Records":[{"eventSource":7}]})"}) {
    EXPECT_NO_THROW({
      auto records = ParseS3Events(body);
      if (records.ok()) {
        EXPECT_TRUE(records->empty()) << body;
      } else {
        EXPECT_EQ(records.status().code(), Code::kInvalidArgument) << body;
      }
    }) << body;
  }
  auto odd_name = ParseS3Events(
      R"({"Records":[{"eventSource":"aws:s3","eventName":5,"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})");
  ASSERT_TRUE(odd_name.ok());
  ASSERT_EQ(odd_name->size(), 1u);
  EXPECT_EQ((*odd_name)[0].event_name, "");
}

TEST(S3EventsTest, TheTestEventHasNoRecords) {
  auto records = ParseS3Events(
      R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-30T16:00:00.000Z",)"
      R"("Bucket":"media","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw"})");
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
}

TEST(S3EventsTest, WhatIsNoneOfThemIsOneClearSentence) {
  for (const std::string body :
       {"", "not json", "[1,2]", R"({"hello":"world"})", R"({"Records":"x"})",
        R"({"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]})",
        R"({"Type":"Notification","Message":"{not json"})",
        R"({"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"})",
        R"({"source":"aws.s3","detail":{"bucket":{"name":"b"}}})"}) {
    auto records = ParseS3Events(body);
    EXPECT_EQ(records.status().code(), Code::kInvalidArgument) << body;
    EXPECT_FALSE(records.status().message().empty());
  }
}

}  // namespace
}  // namespace vidgate::aws
