// `vidgate lambda` driven by a Lambda Runtime API on loopback, as AWS Lambda
// drives a custom runtime: an SQS batch with a good and a broken record, a
// scheduled sweep that runs a due retry, and an event of neither kind.
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>

#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

using nlohmann::json;

// The Runtime API's side: hands out queued invocations, keeps the answers.
class FakeRuntimeApi {
 public:
  struct Answer {
    std::string request_id, kind, body, error_type;  // kind: "response", "error", "init"
  };

  bool Start() {
    server_.Get("/2018-06-01/runtime/invocation/next", [this](const httplib::Request&,
                                                              httplib::Response& res) {
      std::unique_lock lock(mu_);
      // Held until there is work, as Lambda does.
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (stopping_) {
        res.status = 503;
        return;
      }
      auto [id, body, with_deadline] = queue_.front();
      queue_.pop_front();
      const auto deadline =
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch() + std::chrono::seconds(60))
              .count();
      res.set_header("Lambda-Runtime-Aws-Request-Id", id);
      if (with_deadline) res.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(deadline));
      res.set_header("Lambda-Runtime-Invoked-Function-Arn",
                     "arn:aws:lambda:us-east-1:000000000000:function:vidgate");
      res.set_content(body, "application/json");
    });
    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/(response|error))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard lock(mu_);
                   answers_.push_back({req.matches[1], req.matches[2], req.body,
                                       req.get_header_value("Lambda-Runtime-Function-Error-Type")});
                   res.status = 202;
                   cv_.notify_all();
                 });
    server_.Post("/2018-06-01/runtime/init/error",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard lock(mu_);
                   answers_.push_back({"", "init", req.body, ""});
                   res.status = 202;
                   cv_.notify_all();
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  }
  ~FakeRuntimeApi() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // `with_deadline` false: no Lambda-Runtime-Deadline-Ms (some emulators).
  void Invoke(const std::string& id, const json& event, bool with_deadline = true) {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(id, event.dump(), with_deadline);
    }
    cv_.notify_all();
  }
  // The answer to `id`, waiting up to `seconds` for it.
  std::optional<Answer> AnswerTo(const std::string& id, int seconds) {
    std::unique_lock lock(mu_);
    std::optional<Answer> found;
    cv_.wait_for(lock, std::chrono::seconds(seconds), [&] {
      for (const auto& a : answers_) {
        if (a.request_id == id) found = a;
      }
      return found.has_value();
    });
    return found;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::tuple<std::string, std::string, bool>> queue_;
  std::vector<Answer> answers_;
  bool stopping_ = false;
};

json S3Notification(const std::vector<std::string>& bucket_keys) {
  json records = json::array();
  for (const auto& key : bucket_keys) {
    std::string encoded;
    for (char c : key) encoded += c == ' ' ? std::string("+") : std::string(1, c);
    records.push_back({{"eventSource", "aws:s3"},
                       {"eventName", "ObjectCreated:Put"},
                       {"s3", {{"bucket", {{"name", "media"}}}, {"object", {{"key", encoded}}}}}});
  }
  return {{"Records", records}};
}

json SqsRecord(const std::string& id, const std::string& body) {
  return {{"messageId", id},
          {"receiptHandle", "rh-" + id},
          {"body", body},
          {"attributes", {{"ApproximateReceiveCount", "1"}}},
          {"eventSource", "aws:sqs"},
          {"eventSourceARN", "arn:aws:sqs:us-east-1:000000000000:uploads"},
          {"awsRegion", "us-east-1"}};
}

class LambdaTest : public VidgateTest {
 protected:
  void SetUp() override {
    VidgateTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(api_.Start());
    extra_env_ = {"AWS_LAMBDA_RUNTIME_API=" + api_.address()};
  }
  std::string BucketKey(const std::string& key) const { return s3_prefix() + "/" + key; }

  FakeRuntimeApi api_;
};

TEST_F(LambdaTest, AnSqsBatchReportsOnlyItsBrokenRecordAndASweepRunsADueRetry) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  pid_t lambda = StartDaemon({"lambda"});
  ASSERT_GT(lambda, 0);

  // One good record and one broken one.
  Upload("good one.mp4", clip, "Good");
  api_.Invoke("req-1", {{"Records",
                         {SqsRecord("m-good", S3Notification({BucketKey("uploads/good one.json"),
                                                              BucketKey("uploads/good one.mp4")})
                                                  .dump()),
                          SqsRecord("m-bad", "this is no S3 event notification")}}});
  auto first = api_.AnswerTo("req-1", 60);
  ASSERT_TRUE(first.has_value()) << Tail(StderrOf(lambda));
  ASSERT_EQ(first->kind, "response") << first->body;
  EXPECT_EQ(json::parse(first->body),
            json::parse(R"({"batchItemFailures":[{"itemIdentifier":"m-bad"}]})"));
  EXPECT_EQ(StateOf("good one"), "processed");

  // An invocation that names no deadline still gets its work done.
  Upload("undated.mp4", clip, "Undated");
  api_.Invoke("req-undated",
              {{"Records",
                {SqsRecord("m-undated", S3Notification({BucketKey("uploads/undated.json"),
                                                        BucketKey("uploads/undated.mp4")})
                                            .dump())}}},
              /*with_deadline=*/false);
  auto undated = api_.AnswerTo("req-undated", 60);
  ASSERT_TRUE(undated.has_value());
  ASSERT_EQ(undated->kind, "response") << undated->body;
  EXPECT_EQ(StateOf("undated"), "processed");

  // A video whose filing fails (its folder refuses writes): another attempt
  // is scheduled, and the scheduled sweep runs it once it is due.
  BlockFolder("processed/flaky");
  Upload("flaky.mp4", clip, "Flaky");
  api_.Invoke("req-2", {{"Records",
                         {SqsRecord("m-flaky", S3Notification({BucketKey("uploads/flaky.json"),
                                                               BucketKey("uploads/flaky.mp4")})
                                                   .dump())}}});
  auto second = api_.AnswerTo("req-2", 60);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(json::parse(second->body)["batchItemFailures"], json::array());
  EXPECT_EQ(StateOf("flaky"), "retry_wait");
  UnblockFolder("processed/flaky");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the retry's delay
  api_.Invoke("req-3", {{"version", "0"},
                        {"id", "5e1f0c4c-1f3a-4f1e-9c55-1d8d0b6c2f10"},
                        {"detail-type", "Scheduled Event"},
                        {"source", "aws.events"},
                        {"account", "000000000000"},
                        {"time", "2026-11-30T17:00:00Z"},
                        {"region", "us-east-1"},
                        {"resources", {"arn:aws:events:us-east-1:000000000000:rule/vidgate-sweep"}},
                        {"detail", json::object()}});
  auto third = api_.AnswerTo("req-3", 60);
  ASSERT_TRUE(third.has_value());
  ASSERT_EQ(third->kind, "response") << third->body;
  EXPECT_EQ(json::parse(third->body)["swept"], true);
  EXPECT_GE(json::parse(third->body)["attempts"].get<int>(), 1);
  EXPECT_EQ(StateOf("flaky"), "processed");

  // Neither kind: the invocation fails with a sentence, the function lives on.
  api_.Invoke("req-4", {{"hello", "world"}});
  auto fourth = api_.AnswerTo("req-4", 30);
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(fourth->kind, "error");
  EXPECT_EQ(fourth->error_type, "Vidgate.BadEvent");
  EXPECT_NE(json::parse(fourth->body)["errorMessage"].get<std::string>().find("neither"),
            std::string::npos);
}

TEST_F(LambdaTest, WithoutTheRuntimeApiItSaysWhy) {
  extra_env_ = {"AWS_LAMBDA_RUNTIME_API="};
  RunResult r = Run({"lambda"}, Seconds(10));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("AWS_LAMBDA_RUNTIME_API is not set"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vidgate::e2e
