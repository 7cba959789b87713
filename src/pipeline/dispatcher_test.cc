#include "pipeline/dispatcher.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/log.h"
#include "common/util.h"

namespace vidgate::pipeline {
namespace {

// A sink that fails while `down` is set and records what it got.
class RecordingSink final : public notify::Sink {
 public:
  explicit RecordingSink(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  Status Deliver(const nlohmann::json& event) override {
    ++calls;
    if (down) return Unavailable("endpoint down");
    received.push_back(event.value("id", ""));
    return Status();
  }
  bool down = false;
  int calls = 0;
  std::vector<std::string> received;

 private:
  std::string id_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-dispatch-test-" + NewUuid());
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Emit(const std::string& id) {
    auto vid = catalog_->Register(
        catalog::NewVideo{id, "uploads/" + id + ".mp4", catalog::State::kAwaitingMetadata,
                          clock_.Now()},
        {catalog::OutboxEvent{id, "vidgate.metadata.missing", {{"id", id}}, {"log", "hook"}}});
    ASSERT_TRUE(vid.ok());
  }
  Dispatcher Make(int max_attempts) {
    DeliveryPolicy p;
    p.max_attempts = max_attempts;
    p.backoff = {1, 8};
    return Dispatcher(catalog_.get(), {{"log", &log_sink_}, {"hook", &hook_}}, &clock_, log_.get(),
                      p);
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  FakeClock clock_;
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
  RecordingSink log_sink_{"log"}, hook_{"hook"};
};

TEST_F(DispatcherTest, DeliversEveryEventToEverySink) {
  Emit("a");
  Emit("b");
  Dispatcher d = Make(3);
  EXPECT_EQ(*d.RunOnce(), 4);
  EXPECT_EQ(log_sink_.received, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(hook_.received, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
}

TEST_F(DispatcherTest, AFailingSinkIsRetriedWithoutHoldingTheOthers) {
  Emit("a");
  Emit("b");
  hook_.down = true;
  Dispatcher d = Make(5);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(log_sink_.received.size(), 2u);
  EXPECT_EQ(hook_.calls, 1);  // "b" was deferred, not tried against a sink that is down
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 2);
  EXPECT_EQ(*d.RunOnce(), 0);  // nothing due before the back-off
  hook_.down = false;
  clock_.Advance(2);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(hook_.received, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
}

TEST_F(DispatcherTest, GivesUpAfterMaxAttempts) {
  Emit("a");
  hook_.down = true;
  Dispatcher d = Make(3);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(d.RunOnce().ok());
    clock_.Advance(10);
  }
  EXPECT_EQ(hook_.calls, 3);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
  auto v = catalog_->FindVideo("a");
  auto notes = catalog_->Notifications(v->id);
  bool gave_up = false;
  for (const auto& n : *notes) {
    if (n.sink == "hook") gave_up = n.gave_up && n.last_error == "endpoint down" && n.attempts == 3;
  }
  EXPECT_TRUE(gave_up);
}

TEST_F(DispatcherTest, UnknownSinkIsGivenUpAtOnce) {
  auto vid = catalog_->Register(
      catalog::NewVideo{"x", "uploads/x.mp4", catalog::State::kAwaitingMetadata, clock_.Now()},
      {catalog::OutboxEvent{"x", "t", {{"id", "x"}}, {"webhook:gone"}}});
  ASSERT_TRUE(vid.ok());
  Dispatcher d = Make(5);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
}

}  // namespace
}  // namespace vidgate::pipeline
