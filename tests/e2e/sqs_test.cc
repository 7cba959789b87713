// Intake from S3 event notifications through SQS (fauxqs), with the
// listing slowed to once in five minutes: what is processed came by event.
// The test sends each notification as S3 would (s3rver sends none).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <thread>

#include "aws/sqs_client.h"
#include "aws/testing/fauxqs.h"
#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

using nlohmann::json;

// A key as S3 writes it in a notification: form-encoded ('+' for a space).
std::string NotificationKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

json S3Record(const std::string& bucket, const std::string& key, const std::string& event) {
  return {{"eventVersion", "2.1"},
          {"eventSource", "aws:s3"},
          {"awsRegion", "us-east-1"},
          {"eventTime", "2026-11-30T16:00:00.000Z"},
          {"eventName", event},
          {"s3",
           {{"s3SchemaVersion", "1.0"},
            {"bucket", {{"name", bucket}, {"arn", "arn:aws:s3:::" + bucket}}},
            {"object", {{"key", NotificationKey(key)}, {"size", 1}, {"sequencer", "00"}}}}}};
}

class SqsTest : public VidgateTest {
 protected:
  void SetUp() override {
    VidgateTest::SetUp();
    if (HasFatalFailure()) return;
    auto started = aws::testing::Fauxqs::Start();
    ASSERT_TRUE(started.ok()) << started.status().message();
    fauxqs_ = std::move(started).value();
    auto dlq = fauxqs_->CreateQueue("uploads-dlq");
    ASSERT_TRUE(dlq.ok()) << dlq.status().message();
    dlq_ = *dlq;
    auto dlq_arn = fauxqs_->QueueArn(dlq_);
    ASSERT_TRUE(dlq_arn.ok());
    auto queue = fauxqs_->CreateQueue(
        "uploads", {{"VisibilityTimeout", "1"},
                    {"RedrivePolicy",
                     json{{"deadLetterTargetArn", *dlq_arn}, {"maxReceiveCount", "2"}}.dump()}});
    ASSERT_TRUE(queue.ok()) << queue.status().message();
    queue_ = *queue;
    settings_.sqs_queue_url = queue_;
    settings_.sqs_endpoint = fauxqs_->endpoint();
    // Every event also to an SNS topic, read through a queue subscribed to it.
    auto topic = fauxqs_->CreateTopic("vidgate-events");
    ASSERT_TRUE(topic.ok() && !topic->empty()) << topic.status().message();
    auto events = fauxqs_->CreateQueue("events");
    ASSERT_TRUE(events.ok());
    auto events_arn = fauxqs_->QueueArn(*events);
    ASSERT_TRUE(events_arn.ok());
    ASSERT_TRUE(fauxqs_->Subscribe(*topic, *events_arn, /*raw=*/false).ok());
    events_queue_ = *events;
    settings_.extra_toml = "\n[[notify.sns]]\ntopic_arn = \"" + *topic + "\"\nendpoint = \"" +
                           fauxqs_->endpoint() + "\"\n";
    settings_.poll_seconds = 300;  // only news can bring a video in time
    WriteConfig();
    aws::SqsOptions o;
    o.queue_url = queue_;
    o.endpoint = fauxqs_->endpoint();
    sender_ = std::make_unique<aws::SqsClient>(o, credentials_.get(), &http_, &clock_);
  }
  // The bucket key of a store key.
  std::string BucketKey(const std::string& key) const { return s3_prefix() + "/" + key; }
  void Send(const json& message) { ASSERT_TRUE(sender_->Send(message.dump()).ok()); }
  void Send(const std::string& body) { ASSERT_TRUE(sender_->Send(body).ok()); }
  // Uploads a video and its sidecar, and tells of each as S3 would.
  void UploadAndNotify(const std::string& name, const std::string& clip) {
    Upload(name + ".mp4", clip, "t");
    Send(json{{"Records",
               {S3Record("media", BucketKey("uploads/" + name + ".json"), "ObjectCreated:Put")}}});
    Send(json{{"Records",
               {S3Record("media", BucketKey("uploads/" + name + ".mp4"),
                         "ObjectCreated:CompleteMultipartUpload")}}});
  }
  pid_t StartRun() {
    pid_t daemon = StartDaemon({"run"});
    EXPECT_GT(daemon, 0);
    EXPECT_TRUE(WaitUntil(
        [&] { return StderrOf(daemon).find("news from sqs://uploads") != std::string::npos; },
        Seconds(10), "run to start with its queue"));
    // Its one listing at start is done (a file put after it waits for news).
    EXPECT_TRUE(WaitUntil(
        [&] { return StderrOf(daemon).find("the first listing is done") != std::string::npos; },
        Seconds(30), "run's first listing"));
    return daemon;
  }

  // The events published to SNS, as its subscribed queue holds them: the
  // CloudEvents, and their `type` attributes.
  std::vector<std::pair<json, std::string>> PublishedEvents() {
    aws::SqsOptions o;
    o.queue_url = events_queue_;
    o.endpoint = fauxqs_->endpoint();
    aws::SqsClient reader(o, credentials_.get(), &http_, &clock_);
    std::vector<std::pair<json, std::string>> out;
    for (;;) {
      auto got = reader.Receive(10, 0);
      if (!got.ok() || got->empty()) return out;
      std::vector<std::string> receipts;
      for (const auto& m : *got) {
        json envelope = json::parse(m.body, nullptr, false);
        if (!envelope.is_object()) continue;
        out.emplace_back(json::parse(envelope.value("Message", ""), nullptr, false),
                         envelope["MessageAttributes"]["type"].value("Value", ""));
        receipts.push_back(m.receipt_handle);
      }
      if (!reader.Delete(receipts).ok()) return out;
    }
  }

  std::unique_ptr<aws::testing::Fauxqs> fauxqs_;
  std::string queue_, dlq_, events_queue_;
  net::CurlGlobal curl_;
  net::Client http_;
  SystemClock clock_;
  std::unique_ptr<aws::CredentialsProvider> credentials_ =
      aws::StaticCredentials({"TEST", "TEST", "", 0});
  std::unique_ptr<aws::SqsClient> sender_;
};

TEST_F(SqsTest, NewsBringsUploadsInAndWhatNoNewsNamesWaitsForTheListing) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  pid_t daemon = StartRun();
  Upload("silent.mp4", clip, "no event");  // no notification: the listing's, in 5 minutes
  // A video whose sidecar never comes: news of the video only, and the
  // metadata.missing notice after metadata.wait_seconds (1 s), not after
  // the next listing.
  PutFile("uploads/lonely.mp4", clip);
  Send(
      json{{"Records", {S3Record("media", BucketKey("uploads/lonely.mp4"), "ObjectCreated:Put")}}});
  UploadAndNotify("my clip été", clip);
  ASSERT_TRUE(WaitUntil([&] { return StateOf("my clip été") == "processed"; }, Seconds(60),
                        "the notified video processed"));
  EXPECT_TRUE(SameBytes(Path("processed/my clip été/my clip été.mp4"), clip));
  EXPECT_EQ(StateOf("silent"), "") << "found without news: the listing ran";
  EXPECT_TRUE(WaitUntil([&] { return !hook_.Events("vidgate.metadata.missing").empty(); },
                        Seconds(15), "vidgate.metadata.missing for the lonely video"));
  EXPECT_EQ(hook_.Events("vidgate.metadata.missing").front()["subject"], "lonely");
  ASSERT_TRUE(WaitUntil([&] { return *fauxqs_->MessagesIn(queue_) == 0; }, Seconds(10),
                        "the messages deleted"));
  // Its notifications reached SNS, with their type as an attribute.
  std::vector<std::pair<json, std::string>> published;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (auto& e : PublishedEvents()) published.push_back(std::move(e));
        return std::any_of(published.begin(), published.end(),
                           [](const auto& e) { return e.second == "vidgate.video.processed"; });
      },
      Seconds(20), "vidgate.video.processed published to SNS"));
  for (const auto& [event, type] : published) {
    ASSERT_TRUE(event.is_object());
    EXPECT_EQ(event["type"], type);
    EXPECT_TRUE(event["subject"] == "my clip été" || event["subject"] == "lonely") << event;
  }
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
}

// Doubled news, news of what is gone or elsewhere, S3's test event, an SNS
// envelope, EventBridge, and a message that is no notification at all: one
// video each, the bad message to the dead-letter queue, the run unharmed.
TEST_F(SqsTest, DoubledStaleForeignAndMalformedNewsChangeNothingElse) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  pid_t daemon = StartRun();
  Send(std::string("this is not an S3 event notification"));
  Send(json{{"Service", "Amazon S3"}, {"Event", "s3:TestEvent"}, {"Bucket", "media"}});
  Send(json{
      {"Records", {S3Record("media", BucketKey("uploads/never-there.mp4"), "ObjectCreated:Put")}}});
  Send(json{
      {"Records", {S3Record("other-bucket", BucketKey("uploads/x.mp4"), "ObjectCreated:Put")}}});
  UploadAndNotify("twice", clip);
  Send(json{{"Records", {S3Record("media", BucketKey("uploads/twice.mp4"), "ObjectCreated:Put")}}});
  // Through SNS: the notification is the envelope's Message.
  Upload("via sns.mp4", clip, "t");
  Send(json{
      {"Type", "Notification"},
      {"TopicArn", "arn:aws:sns:us-east-1:000000000000:uploads"},
      {"Message", json{{"Records",
                        {S3Record("media", BucketKey("uploads/via sns.json"), "ObjectCreated:Put"),
                         S3Record("media", BucketKey("uploads/via sns.mp4"), "ObjectCreated:Put")}}}
                      .dump()}});
  // From EventBridge: keys as they are.
  Upload("via+eb 100%.mp4", clip, "t");
  for (const char* file : {"via+eb 100%.json", "via+eb 100%.mp4"}) {
    Send(json{{"version", "0"},
              {"detail-type", "Object Created"},
              {"source", "aws.s3"},
              {"detail",
               {{"bucket", {{"name", "media"}}},
                {"object", {{"key", BucketKey(std::string("uploads/") + file)}}}}}});
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        return StateOf("twice") == "processed" && StateOf("via sns") == "processed" &&
               StateOf("via+eb 100%") == "processed";
      },
      Seconds(90), "the three videos processed"));
  json list = List();
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list["videos"].size(), 3u) << list.dump();
  // The malformed message: received twice (visibility 1 s), then moved.
  ASSERT_TRUE(WaitUntil([&] { return *fauxqs_->MessagesIn(dlq_) == 1; }, Seconds(20),
                        "the malformed message in the dead-letter queue"));
  ASSERT_TRUE(WaitUntil([&] { return *fauxqs_->MessagesIn(queue_) == 0; }, Seconds(20),
                        "every other message deleted"));
  const std::string err = StderrOf(daemon);
  EXPECT_NE(err.find("is left on the queue"), std::string::npos) << Tail(err);
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  for (const auto& name : {"twice", "via sns", "via+eb 100%"}) {
    json shown = Show(name);
    ASSERT_TRUE(shown.is_object()) << name;
    EXPECT_EQ(shown["attempts"].size(), 1u) << shown.dump();
  }
}

// The seed's retry scenario with intake from the queue: a video whose
// filing keeps failing is tried again on its schedule with no news at all
// (the listing is 5 minutes away), five times, then set aside; what S3 says
// of its moves into failed/ changes nothing.
TEST_F(SqsTest, TheRetryScenarioNeedsNoNewsForItsRetries) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  pid_t daemon = StartRun();
  BlockFolder("processed/doomed");
  UploadAndNotify("doomed", clip);
  ASSERT_TRUE(WaitUntil([&] { return StateOf("doomed") == "unable_to_process"; }, Seconds(90),
                        "doomed to be set aside after its attempts"))
      << Tail(StderrOf(daemon));
  // Late news of its stays in failed/, as S3 would have sent them.
  Send(json{{"Records",
             {S3Record("media", BucketKey("failed/doomed.mp4"), "ObjectCreated:Copy"),
              S3Record("media", BucketKey("failed/doomed.json"), "ObjectCreated:Copy")}}});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  json shown = Show("doomed");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "unable_to_process");
  ASSERT_EQ(shown["attempts"].size(), 5u) << shown["attempts"].dump();
  for (const auto& a : shown["attempts"]) EXPECT_EQ(a.value("outcome", ""), "failed");
  EXPECT_EQ(List()["videos"].size(), 1u) << "one video, whatever the news";
  std::map<std::string, int> types;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& [event, type] : PublishedEvents()) ++types[type];
        return types["vidgate.video.unable_to_process"] == 1;
      },
      Seconds(20), "the events on SNS"));
  EXPECT_EQ(types["vidgate.video.failed"], 4);
  EXPECT_TRUE(WaitUntil([&] { return *fauxqs_->MessagesIn(queue_) == 0; }, Seconds(20),
                        "every notification taken and deleted"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
}

}  // namespace
}  // namespace vidgate::e2e
