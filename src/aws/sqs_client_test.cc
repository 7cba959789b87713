// The SQS client against fauxqs on loopback: receive, long poll, delete,
// visibility, redrive to a dead-letter queue, and errors that name the queue.
#include "aws/sqs_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "aws/testing/fauxqs.h"

namespace vidgate::aws {
namespace {

class SqsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = testing::Fauxqs::Start();
    ASSERT_TRUE(started.ok()) << started.status().message();
    fauxqs_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete fauxqs_;
    fauxqs_ = nullptr;
  }
  SqsClient Client(const std::string& queue_url) {
    SqsOptions o;
    o.queue_url = queue_url;
    o.endpoint = fauxqs_->endpoint();
    o.sleep = [](double) {};
    return SqsClient(o, creds_.get(), &http_, &clock_);
  }

  static testing::Fauxqs* fauxqs_;
  net::CurlGlobal curl_;
  net::Client http_;
  std::unique_ptr<CredentialsProvider> creds_ = StaticCredentials({"AK", "SK", "", 0});
  SystemClock clock_;
};

testing::Fauxqs* SqsClientTest::fauxqs_ = nullptr;

TEST_F(SqsClientTest, SendReceiveAndDelete) {
  auto url = fauxqs_->CreateQueue("basic");
  ASSERT_TRUE(url.ok()) << url.status().message();
  SqsClient sqs = Client(*url);
  EXPECT_EQ(sqs.Describe(), "sqs://basic");
  const std::string body = R"({"k":"uploads/été clip.mp4"})";
  ASSERT_TRUE(sqs.Send(body).ok());
  ASSERT_TRUE(sqs.Send("second").ok());
  auto got = sqs.Receive(10, 1);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].body, body);
  EXPECT_EQ((*got)[0].receive_count, 1);
  EXPECT_FALSE((*got)[0].receipt_handle.empty());
  ASSERT_TRUE(sqs.Delete({(*got)[0].receipt_handle, (*got)[1].receipt_handle}).ok());
  EXPECT_EQ(*fauxqs_->MessagesIn(*url), 0);
  // Deleting again (a stale receipt) is not an error.
  EXPECT_TRUE(sqs.Delete({(*got)[0].receipt_handle}).ok());
}

TEST_F(SqsClientTest, ALongPollWaitsForAMessageAndCanBeCancelled) {
  auto url = fauxqs_->CreateQueue("long-poll");
  ASSERT_TRUE(url.ok());
  SqsClient sqs = Client(*url);
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    SqsClient other = Client(*url);
    EXPECT_TRUE(other.Send("late").ok());
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = sqs.Receive(1, 5);
  sender.join();
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  ASSERT_TRUE(sqs.Delete({(*got)[0].receipt_handle}).ok());
  // An empty queue: the wait is cut short by cancel.
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  const auto waited_from = std::chrono::steady_clock::now();
  auto none = sqs.Receive(1, 20, 0, &cancel);
  canceller.join();
  EXPECT_EQ(none.status().code(), Code::kCancelled) << none.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - waited_from, std::chrono::seconds(5));
}

// A message not deleted comes back after its visibility timeout, with its
// receive count up, and goes to the dead-letter queue after maxReceiveCount.
TEST_F(SqsClientTest, AnUndeletedMessageComesBackThenGoesToTheDeadLetterQueue) {
  auto dlq = fauxqs_->CreateQueue("redrive-dlq");
  ASSERT_TRUE(dlq.ok());
  auto dlq_arn = fauxqs_->QueueArn(*dlq);
  ASSERT_TRUE(dlq_arn.ok() && !dlq_arn->empty());
  auto url = fauxqs_->CreateQueue(
      "redrive",
      {{"VisibilityTimeout", "1"},
       {"RedrivePolicy",
        nlohmann::json{{"deadLetterTargetArn", *dlq_arn}, {"maxReceiveCount", "2"}}.dump()}});
  ASSERT_TRUE(url.ok()) << url.status().message();
  SqsClient sqs = Client(*url);
  ASSERT_TRUE(sqs.Send("poison").ok());
  auto first = sqs.Receive(1, 1);
  ASSERT_TRUE(first.ok() && first->size() == 1u);
  auto second = sqs.Receive(1, 3);
  ASSERT_TRUE(second.ok() && second->size() == 1u);
  EXPECT_EQ((*second)[0].receive_count, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto third = sqs.Receive(1, 1);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->empty());
  SqsClient dead = Client(*dlq);
  auto moved = dead.Receive(1, 1);
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ((*moved)[0].body, "poison");
}

TEST_F(SqsClientTest, AMissingQueueIsOneSentenceNamingIt) {
  SqsClient sqs = Client(fauxqs_->endpoint() + "/000000000000/no-such-queue");
  auto got = sqs.Receive(1, 0);
  EXPECT_EQ(got.status().code(), Code::kFailedPrecondition) << got.status().message();
  EXPECT_NE(got.status().message().find("sqs://no-such-queue"), std::string::npos)
      << got.status().message();
}

TEST(SqsRegionTest, TheRegionComesFromTheQueueUrl) {
  // Describe and region are worked out without a request.
  net::Client http;
  auto creds = StaticCredentials({"AK", "SK", "", 0});
  SystemClock clock;
  SqsClient sqs({"https://sqs.eu-west-3.amazonaws.com/123456789012/media-events", "", "", {}, {}},
                creds.get(), &http, &clock);
  EXPECT_EQ(sqs.Describe(), "sqs://media-events");
  EXPECT_EQ(sqs.region(), "eu-west-3");
  SqsClient legacy({"https://ap-south-1.queue.amazonaws.com/123456789012/q", "", "", {}, {}},
                   creds.get(), &http, &clock);
  EXPECT_EQ(legacy.region(), "ap-south-1");
  SqsClient given({"http://127.0.0.1:9324/000000000000/q", "ca-central-1", "", {}, {}}, creds.get(),
                  &http, &clock);
  EXPECT_EQ(given.region(), "ca-central-1");
  SqsClient fallback({"http://127.0.0.1:9324/000000000000/q", "", "", {}, {}}, creds.get(), &http,
                     &clock);
  EXPECT_EQ(fallback.region(), "us-east-1");
}

}  // namespace
}  // namespace vidgate::aws
