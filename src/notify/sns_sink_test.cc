// The SNS sink against fauxqs: each event reaches a queue subscribed to the
// topic with its attributes; on a FIFO topic the event id deduplicates.
#include "notify/sns_sink.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <thread>

#include "aws/sqs_client.h"
#include "aws/testing/fauxqs.h"

namespace vidgate::notify {
namespace {

nlohmann::json Event(const std::string& id, const std::string& subject) {
  return {{"specversion", "1.0"},
          {"id", id},
          {"source", "vidgate://test"},
          {"type", "vidgate.video.processed"},
          {"subject", subject},
          {"time", "2026-11-30T16:00:00.000Z"},
          {"datacontenttype", "application/json"},
          {"data", {{"video_id", 1}, {"name", subject}, {"state", "processed"}, {"attempts", 1}}}};
}

class SnsSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = aws::testing::Fauxqs::Start();
    ASSERT_TRUE(started.ok()) << started.status().message();
    fauxqs_ = std::move(started).value();
  }
  // A topic with a queue subscribed; the sink on the topic and a reader on
  // the queue.
  void Wire(const std::string& topic, bool raw) {
    const bool fifo = topic.ends_with(".fifo");
    auto arn = fauxqs_->CreateTopic(topic);
    ASSERT_TRUE(arn.ok() && !arn->empty()) << arn.status().message();
    topic_arn_ = *arn;
    nlohmann::json attributes = nlohmann::json::object();
    if (fifo) attributes["FifoQueue"] = "true";
    auto queue = fauxqs_->CreateQueue(fifo ? "events.fifo" : "events", attributes);
    ASSERT_TRUE(queue.ok()) << queue.status().message();
    auto queue_arn = fauxqs_->QueueArn(*queue);
    ASSERT_TRUE(queue_arn.ok());
    ASSERT_TRUE(fauxqs_->Subscribe(topic_arn_, *queue_arn, raw).ok());
    aws::SqsOptions so;
    so.queue_url = *queue;
    so.endpoint = fauxqs_->endpoint();
    reader_ = std::make_unique<aws::SqsClient>(so, creds_.get(), &http_, &clock_);
    sink_ = MakeSink(topic_arn_);
  }
  std::unique_ptr<SnsSink> MakeSink(const std::string& arn) {
    aws::SnsOptions o;
    o.topic_arn = arn;
    o.endpoint = fauxqs_->endpoint();
    o.sleep = [](double) {};
    auto client = aws::SnsClient::Create(o, creds_.get(), &http_, &clock_);
    EXPECT_TRUE(client.ok()) << client.status().message();
    return std::make_unique<SnsSink>(std::move(client).value(), arn);
  }
  std::vector<aws::SqsMessage> Read() {
    std::vector<aws::SqsMessage> all;
    for (;;) {
      auto got = reader_->Receive(10, 1);
      EXPECT_TRUE(got.ok()) << got.status().message();
      if (!got.ok() || got->empty()) return all;
      // Deleted as read: a FIFO queue holds back a group's next message
      // while one is in flight.
      std::vector<std::string> receipts;
      for (auto& m : *got) {
        receipts.push_back(m.receipt_handle);
        all.push_back(std::move(m));
      }
      EXPECT_TRUE(reader_->Delete(receipts).ok());
    }
  }

  std::unique_ptr<aws::testing::Fauxqs> fauxqs_;
  net::CurlGlobal curl_;
  net::Client http_;
  std::unique_ptr<aws::CredentialsProvider> creds_ = aws::StaticCredentials({"AK", "SK", "", 0});
  SystemClock clock_;
  std::string topic_arn_;
  std::unique_ptr<aws::SqsClient> reader_;
  std::unique_ptr<SnsSink> sink_;
};

TEST_F(SnsSinkTest, TheEventIsTheMessageWithItsTypeAndSubjectAsAttributes) {
  Wire("vidgate-events", /*raw=*/false);
  EXPECT_EQ(sink_->id(), "sns:" + topic_arn_);
  const auto event = Event("3f0c2a4e-0000-4000-8000-000000000001", "my clip été");
  ASSERT_TRUE(sink_->Deliver(event).ok());
  auto messages = Read();
  ASSERT_EQ(messages.size(), 1u);
  auto envelope = nlohmann::json::parse(messages[0].body);
  EXPECT_EQ(envelope["Type"], "Notification");
  EXPECT_EQ(envelope["TopicArn"], topic_arn_);
  EXPECT_EQ(nlohmann::json::parse(envelope["Message"].get<std::string>()), event);
  EXPECT_EQ(envelope["MessageAttributes"]["type"]["Value"], "vidgate.video.processed");
  EXPECT_EQ(envelope["MessageAttributes"]["subject"]["Value"], "my clip été");
}

TEST_F(SnsSinkTest, OnAFifoTopicTheEventIdDeduplicates) {
  Wire("vidgate-events.fifo", /*raw=*/true);
  const auto event = Event("3f0c2a4e-0000-4000-8000-000000000002", "clip");
  ASSERT_TRUE(sink_->Deliver(event).ok());
  ASSERT_TRUE(sink_->Deliver(event).ok());  // at least once: a second delivery
  ASSERT_TRUE(sink_->Deliver(Event("3f0c2a4e-0000-4000-8000-000000000003", "clip")).ok());
  auto messages = Read();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(messages[0].body)["id"], event["id"]);
}

TEST_F(SnsSinkTest, AMissingTopicIsRetriedLaterAndABadEventNever) {
  auto sink = MakeSink("arn:aws:sns:us-east-1:000000000000:no-such-topic");
  Status s = sink->Deliver(Event("3f0c2a4e-0000-4000-8000-000000000004", "clip"));
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.message();
  EXPECT_NE(s.message().find("sns://no-such-topic"), std::string::npos) << s.message();
  EXPECT_EQ(sink->Deliver(nlohmann::json::array()).code(), Code::kInvalidArgument);
  nlohmann::json huge = Event("3f0c2a4e-0000-4000-8000-000000000005", "clip");
  huge["data"]["history"] = std::string(300 * 1024, 'x');
  EXPECT_EQ(sink->Deliver(huge).code(), Code::kInvalidArgument);
  sink->Cancel();
  EXPECT_EQ(sink->Deliver(Event("3f0c2a4e-0000-4000-8000-000000000006", "clip")).code(),
            Code::kCancelled);
}

// SNS takes only ASCII punctuation and alphanumerics in a MessageGroupId:
// a name with a space or accents goes by a stable digest.
TEST(SnsSinkFifoTest, GroupIdsAreWhatSnsTakes) {
  EXPECT_EQ(SnsSink::FifoGroupId("clip-1_2.mp4"), "clip-1_2.mp4");
  EXPECT_EQ(SnsSink::FifoGroupId(""), "vidgate");
  for (const std::string& name : std::vector<std::string>{
           "Summer Trip", "été", std::string(200, 'x'), std::string("a\x01")}) {
    const std::string id = SnsSink::FifoGroupId(name);
    EXPECT_LE(id.size(), 128u) << name;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; }))
        << name;
    EXPECT_EQ(id, SnsSink::FifoGroupId(name)) << "not stable";
  }
  EXPECT_NE(SnsSink::FifoGroupId("Summer Trip"), SnsSink::FifoGroupId("Summer trip"));
}

// A topic whose KMS key is disabled can be fixed: the event is tried again
// later, not given up.
TEST(SnsSinkErrorTest, AKmsProblemIsRetriedNotGivenUp) {
  httplib::Server fake;
  fake.Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(
        "<ErrorResponse><Error><Type>Sender</Type><Code>KMSDisabled</Code><Message>key "
        "disabled</Message></Error></ErrorResponse>",
        "text/xml");
  });
  const int port = fake.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { fake.listen_after_bind(); });
  while (!fake.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    net::CurlGlobal curl;
    net::Client http;
    auto creds = aws::StaticCredentials({"AK", "SK", "", 0});
    SystemClock clock;
    aws::SnsOptions o;
    o.topic_arn = "arn:aws:sns:us-east-1:000000000000:t";
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.sleep = [](double) {};
    SnsSink sink(std::move(aws::SnsClient::Create(o, creds.get(), &http, &clock)).value(),
                 o.topic_arn);
    Status s = sink.Deliver({{"id", "e1"}, {"type", "t"}, {"subject", "s"}});
    EXPECT_EQ(s.code(), Code::kUnavailable) << s.message();
    EXPECT_NE(s.message().find("KMSDisabled"), std::string::npos) << s.message();
  }
  fake.stop();
  serving.join();
}

TEST(SnsClientTest, OnlyAnSnsTopicArnIsTaken) {
  net::Client http;
  auto creds = aws::StaticCredentials({"AK", "SK", "", 0});
  SystemClock clock;
  for (const char* bad : {"", "vidgate", "arn:aws:sqs:us-east-1:1:q", "arn:aws:sns::1:t",
                          "arn:aws:sns:us-east-1:1:"}) {
    aws::SnsOptions o;
    o.topic_arn = bad;
    EXPECT_EQ(aws::SnsClient::Create(o, creds.get(), &http, &clock).status().code(),
              Code::kInvalidArgument)
        << bad;
  }
  aws::SnsOptions o;
  o.topic_arn = "arn:aws:sns:eu-central-1:123456789012:vidgate";
  auto client = aws::SnsClient::Create(o, creds.get(), &http, &clock);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->region(), "eu-central-1");
  EXPECT_EQ((*client)->Describe(), "sns://vidgate");
}

}  // namespace
}  // namespace vidgate::notify
