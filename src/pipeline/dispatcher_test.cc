#include "pipeline/dispatcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

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
    std::lock_guard lock(mu);
    ++calls;
    if (down) return Unavailable("endpoint down");
    received.push_back(event.value("id", ""));
    return Status();
  }
  // What it got so far, while other threads deliver.
  std::vector<std::string> Snapshot() {
    std::lock_guard lock(mu);
    return received;
  }
  std::mutex mu;
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
  auto v = catalog_->FindVideoByName("a");
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

// A sink whose Deliver takes `delay` (cut short by Cancel), counting what it
// got, for the lanes' tests on the real clock.
class SlowSink final : public notify::Sink {
 public:
  SlowSink(std::string id, std::chrono::milliseconds delay) : id_(std::move(id)), delay_(delay) {}
  const std::string& id() const override { return id_; }
  double max_seconds() const override { return 1; }
  Status Deliver(const nlohmann::json& event) override {
    std::unique_lock lock(mu_);
    ++entered;
    cv_.notify_all();
    if (cv_.wait_for(lock, delay_, [&] { return cancelled_; })) return Cancelled("cut short");
    received.push_back(event.value("id", ""));
    return Status();
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  bool WaitEntered(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered >= n; });
  }
  std::vector<std::string> Received() {
    std::lock_guard lock(mu_);
    return received;
  }

 private:
  std::string id_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  int entered = 0;
  std::vector<std::string> received;
};

// Lanes exist for configured sinks only: what waits for another (a sink
// removed, or renamed by an upgrade) is given up at start, or it would hold
// --until-idle forever.
TEST_F(DispatcherTest, LanesGiveUpWhatWaitsForASinkNoLongerConfigured) {
  auto vid = catalog_->Register(
      catalog::NewVideo{"x", "uploads/x.mp4", catalog::State::kAwaitingMetadata, clock_.Now()},
      {catalog::OutboxEvent{"x", "t", {{"id", "x"}}, {"webhook:http://old/hook?token=t0k3n"}}});
  ASSERT_TRUE(vid.ok());
  Dispatcher d = Make(5);
  d.Start();
  d.Stop(std::chrono::steady_clock::now());
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
}

TEST_F(DispatcherTest, ADeadSinksBacklogCostsOneTryPerRoundNotOnePerEvent) {
  for (int i = 0; i < 50; ++i) Emit("e" + std::to_string(i));
  hook_.down = true;
  Dispatcher d = Make(3);
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(d.RunOnce().ok());
    clock_.Advance(20);
  }
  EXPECT_EQ(hook_.calls, 3) << "three tries in all, not three per event";
  EXPECT_EQ(log_sink_.received.size(), 50u);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0) << "every event given up after 3 tries";
  auto notes = *catalog_->Notifications(catalog_->FindVideoByName("e49")->id);
  for (const auto& n : notes) {
    EXPECT_TRUE(n.sink != "hook" || (n.gave_up && n.attempts == 3)) << n.last_error;
  }
}

TEST_F(DispatcherTest, ASlowSinkNeverHoldsBackTheLog) {
  SystemClock real;
  SlowSink slow("hook", std::chrono::milliseconds(3000));
  RecordingSink log_sink("log");
  Dispatcher d(catalog_.get(), {{"log", &log_sink}, {"hook", &slow}}, &real, log_.get(), {});
  Emit("a");
  d.Start();
  d.Wake();
  ASSERT_TRUE(slow.WaitEntered(1, std::chrono::seconds(5)));
  // The webhook is still busy with "a"; the log has it already.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (log_sink.Snapshot().empty() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(log_sink.Snapshot(), std::vector<std::string>{"a"});
  EXPECT_TRUE(slow.Received().empty());
  // Shutdown takes the flush's deadline, not the slow request's time.
  const auto start = std::chrono::steady_clock::now();
  d.Stop(start + std::chrono::milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  // Cut short: released for the next run, no try counted.
  auto notes = *catalog_->Notifications(catalog_->FindVideoByName("a")->id);
  for (const auto& n : notes) {
    EXPECT_TRUE(n.sink != "hook" || (n.delivered_at == 0 && n.attempts == 0 && !n.gave_up));
  }
  EXPECT_EQ(catalog_->TakeDueDeliveries(real.Now(), 10, 1, "hook")->size(), 1u);
}

TEST_F(DispatcherTest, TwoProcessesDoNotDeliverTheSameEventTwice) {
  for (int i = 0; i < 40; ++i) Emit("e" + std::to_string(i));
  SystemClock real;
  SlowSink slow("hook", std::chrono::milliseconds(20));  // answers in 20 ms
  RecordingSink log1("log"), log2("log");
  // Two processes: two connections to one catalog, two dispatchers.
  auto other = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
  Dispatcher d1(catalog_.get(), {{"log", &log1}, {"hook", &slow}}, &real, log_.get(), {});
  Dispatcher d2(other.get(), {{"log", &log2}, {"hook", &slow}}, &real, log_.get(), {});
  auto r1 = std::async(std::launch::async, [&] { return d1.RunOnce(); });
  auto r2 = std::async(std::launch::async, [&] { return d2.RunOnce(); });
  ASSERT_TRUE(r1.get().ok());
  ASSERT_TRUE(r2.get().ok());
  auto got = slow.Received();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got.size(), 40u);
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "an event went twice";
  EXPECT_EQ(log1.received.size() + log2.received.size(), 40u);
}

// A sink whose every answer takes `step` seconds of a fake clock (its
// time-out is 1 s). While each event is in flight, a second process looks at
// what it could take: the event being sent must stay hidden until the send's
// time-out has passed, or another process may send it at the same time.
class TimedSink final : public notify::Sink {
 public:
  TimedSink(FakeClock* clock, catalog::Catalog* other, double step)
      : clock_(clock), other_(other), step_(step) {}
  const std::string& id() const override { return id_; }
  double max_seconds() const override { return 1; }
  Status Deliver(const nlohmann::json& event) override {
    const std::string id = event.value("id", "");
    // At the latest moment this send could still be running. (The negative
    // hold leaves what it finds due now, as it was: a look, not a take.)
    auto seen = other_->TakeDueDeliveries(clock_->Now() + max_seconds(), 100, -max_seconds(), id_);
    if (!seen.ok()) return seen.status();
    for (const auto& d : *seen) exposed += d.document.value("id", "") == id;
    clock_->Advance(step_);
    received.push_back(id);
    return Status();
  }
  int exposed = 0;
  std::vector<std::string> received;

 private:
  std::string id_ = "hook";
  FakeClock* clock_;
  catalog::Catalog* other_;
  double step_;
};

TEST_F(DispatcherTest, EverySendEndsBeforeItsHoldWhateverTheBatchSize) {
  for (int i = 0; i < 40; ++i) Emit("e" + std::to_string(i));
  auto other = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
  TimedSink hook(&clock_, other.get(), 0.4);
  Dispatcher d(catalog_.get(), {{"log", &log_sink_}, {"hook", &hook}}, &clock_, log_.get(), {});
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(hook.exposed, 0) << "an event in flight could be taken by another process";
  std::sort(hook.received.begin(), hook.received.end());
  EXPECT_EQ(hook.received.size(), 40u);
  EXPECT_EQ(std::adjacent_find(hook.received.begin(), hook.received.end()), hook.received.end());
}

// A process that dies holding a batch delays its events by a bounded time,
// however many it took: twice the sink's time-out plus 5 s.
class StuckSink final : public notify::Sink {
 public:
  const std::string& id() const override { return id_; }
  double max_seconds() const override { return 10; }
  Status Deliver(const nlohmann::json&) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return Cancelled("stopped");
  }
  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::string id_ = "hook";
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
};

TEST_F(DispatcherTest, WhatADeadProcessHeldComesDueWithinTwiceTheTimeoutAndFive) {
  for (int i = 0; i < 16; ++i) Emit("e" + std::to_string(i));
  const double start = clock_.Now();
  StuckSink stuck;
  Dispatcher d(catalog_.get(), {{"log", &log_sink_}, {"hook", &stuck}}, &clock_, log_.get(), {});
  auto run = std::async(std::launch::async, [&] { return d.RunOnce(); });
  stuck.WaitEntered();  // the batch is taken; as far as others know, it may have died
  auto other = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
  EXPECT_EQ(other->TakeDueDeliveries(start + 2 * 10 + 4.9, 100, 0, "hook")->size(), 0u);
  EXPECT_EQ(other->TakeDueDeliveries(start + 2 * 10 + 5.1, 100, 0, "hook")->size(), 16u);
  stuck.Release();
  EXPECT_TRUE(run.get().ok());
}

}  // namespace
}  // namespace vidgate::pipeline
