// `vidgate run` with a change feed: news is taken at once (the listing every
// poll_seconds is the safety net) and marked done once taken; a feed that
// fails or lies changes nothing.
#include "pipeline/runner.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <array>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/util.h"
#include "pipeline/testing/passing_stage.h"
#include "storage/testing/error_store.h"

namespace vidgate::pipeline {
namespace {

using catalog::State;

using testing::PassingStage;

// Hands out what the test pushes; records what was marked done.
class FakeFeed final : public ChangeFeed {
 public:
  void Push(Result<News> news) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(news));
    }
    cv_.notify_all();
  }
  Result<News> Wait(double seconds, const std::atomic<bool>&) override {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::duration<double>(std::min(seconds, 0.05)),
                      [&] { return !queue_.empty(); })) {
      return News{};
    }
    Result<News> news = std::move(queue_.front());
    queue_.erase(queue_.begin());
    return news;
  }
  Status Done(const News& news) override {
    std::lock_guard lock(mu_);
    done_.insert(done_.end(), news.tokens.begin(), news.tokens.end());
    return Status();
  }
  std::string Describe() const override { return "fake feed"; }
  std::vector<std::string> done() {
    std::lock_guard lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Result<News>> queue_;
  std::vector<std::string> done_;
};

// Keeps the backlog reports.
class PendingObserver final : public Observer {
 public:
  void AttemptFinished(const AttemptReport&) override {}
  void EventRecorded(std::string_view) override {}
  void WorkPending(int64_t jobs, int64_t deliveries, int64_t awaiting_notice) override {
    std::lock_guard lock(mu_);
    reports_.push_back({jobs, deliveries, awaiting_notice});
  }
  std::vector<std::array<int64_t, 3>> reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::vector<std::array<int64_t, 3>> reports_;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-runner-test-" + NewUuid());
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
    store_ = storage::NewMemoryStore();
    dispatcher_ =
        std::make_unique<Dispatcher>(catalog_.get(), std::map<std::string, notify::Sink*>{},
                                     &clock_, log_.get(), DeliveryPolicy{});
    RunnerOptions o;
    o.workers = 1;
    o.poll_seconds = 60;  // the listing alone would take a minute
    o.owner_prefix = "test";
    o.intake.settle_seconds = 0.01;
    o.pending_report_seconds = 0.2;
    runner_ = std::make_unique<Runner>(
        RunnerDeps{store_.get(), catalog_.get(), &stage_, &events_, dispatcher_.get(), &clock_,
                   log_.get(), &feed_, &observer_},
        o);
    thread_ = std::thread([this] { ASSERT_TRUE(runner_->Run(stop_).ok()); });
    // Its first scan is done: a file put from now on waits for news.
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& line : lines_->last_formatted()) {
        if (line.find("the first listing is done") != std::string::npos) return true;
      }
      return false;
    }));
  }
  void TearDown() override {
    stop_ = true;
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  void Upload(const std::string& name) {
    ASSERT_TRUE(store_->Write("uploads/" + name + ".json", R"({"title":"T"})").ok());
    ASSERT_TRUE(store_->Write("uploads/" + name + ".mp4", "video bytes").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past settle_seconds
  }
  static bool WaitFor(const std::function<bool()>& done, double seconds = 5) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  bool Processed(const std::string& name, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      auto v = catalog_->FindVideoByName(name);
      if (v.ok() && v->state == State::kProcessed) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::Store> store_;
  SystemClock clock_;
  EventFactory events_{"test", {}};
  // What the runner logs, for the line that says its first listing is done.
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> lines_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  std::shared_ptr<spdlog::logger> log_ = std::make_shared<spdlog::logger>("runner-test", lines_);
  PassingStage stage_;
  FakeFeed feed_;
  PendingObserver observer_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Runner> runner_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(RunnerTest, NewsFromTheFeedIsTakenAtOnceAndThenMarkedDone) {
  Upload("clip");
  EXPECT_FALSE(Processed("clip", 0.5)) << "found without news: the test proves nothing";
  feed_.Push(News{{"uploads/clip.mp4"}, {"t1"}});
  EXPECT_TRUE(Processed("clip", 5));
  EXPECT_TRUE(WaitFor([&] { return feed_.done().size() == 1; }));
  EXPECT_EQ(feed_.done(), std::vector<std::string>{"t1"});
}

TEST_F(RunnerTest, AFailingOrLyingFeedChangesNothing) {
  feed_.Push(Unavailable("the queue is down"));
  feed_.Push(News{{"uploads/none.mp4", "processed/x/x.mp4"}, {"t2"}});  // news of nothing
  EXPECT_TRUE(WaitFor([&] { return feed_.done().size() == 1; }));
  EXPECT_TRUE(catalog_->ListVideos(std::nullopt)->empty());
  // It still works after the failure.
  Upload("late");
  feed_.Push(News{{"uploads/late.json", "uploads/late.mp4"}, {"t3"}});
  EXPECT_TRUE(Processed("late", 5));
  EXPECT_TRUE(WaitFor([&] { return feed_.done().size() == 2; }));
}

// The backlog is told at start and then on its interval, with what the
// catalog holds (a video waiting for its sidecar here).
TEST_F(RunnerTest, TheBacklogIsToldOnItsInterval) {
  ASSERT_TRUE(WaitFor([&] { return !observer_.reports().empty(); }));
  EXPECT_EQ(observer_.reports().front(), (std::array<int64_t, 3>{0, 0, 0}));
  ASSERT_TRUE(store_->Write("uploads/alone.mp4", "video bytes").ok());
  feed_.Push(News{{"uploads/alone.mp4"}, {"t4"}});
  EXPECT_TRUE(WaitFor([&] {
    auto r = observer_.reports();
    return r.back() == std::array<int64_t, 3>{0, 0, 1};
  }));
  // About every 0.2 s: three more come, and no sooner than two intervals.
  const size_t seen = observer_.reports().size();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitFor([&] { return observer_.reports().size() >= seen + 3; }, 10));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(350));
}

// A store that is unavailable at start (S3 slowing down as the fleet comes
// up) is asked again for a while; a store that refuses, or stays away, ends
// the run with its error; a stop while waiting ends it at once.
TEST(RunnerStartTest, AStoreUnavailableAtStartIsAskedAgain) {
  const auto dir = std::filesystem::temp_directory_path() / ("vidgate-runner-start-" + NewUuid());
  auto catalog = std::move(catalog::Open("sqlite://" + (dir / "c.db").string())).value();
  ASSERT_TRUE(catalog->Migrate().ok());
  auto memory = storage::NewMemoryStore();
  storage::ErrorStore store(memory.get());
  SystemClock clock;
  auto log = NullLogger();
  EventFactory events{"test", {}};
  PassingStage stage;
  Dispatcher dispatcher(catalog.get(), {}, &clock, log.get(), DeliveryPolicy{});
  RunnerOptions o;
  o.owner_prefix = "test";
  o.until_idle = true;
  o.start_patience_seconds = 10;
  auto run = [&](const std::atomic<bool>& stop) {
    Runner runner(RunnerDeps{&store, catalog.get(), &stage, &events, &dispatcher, &clock, log.get(),
                             nullptr, nullptr},
                  o);
    return runner.Run(stop);
  };
  storage::FaultRule slow;
  slow.method = "Prepare";
  slow.error = Unavailable("SlowDown");
  store.Fail(slow);
  std::atomic<bool> never{false};
  std::thread heal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    store.Clear();
  });
  const auto from = std::chrono::steady_clock::now();
  Status healed = run(never);
  heal.join();
  EXPECT_TRUE(healed.ok()) << healed.ToString();
  EXPECT_GE(store.failed(), 2);
  EXPECT_GE(std::chrono::steady_clock::now() - from, std::chrono::milliseconds(1200));

  storage::FaultRule refused = slow;
  refused.error = PermissionDenied("AccessDenied");
  store.Fail(refused);
  EXPECT_EQ(run(never).code(), Code::kPermissionDenied) << "not worth asking again";
  store.Clear();

  store.Fail(slow);
  o.start_patience_seconds = 1;
  EXPECT_EQ(run(never).code(), Code::kUnavailable) << "patience has an end";
  o.start_patience_seconds = 60;
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const auto stop_from = std::chrono::steady_clock::now();
  EXPECT_EQ(run(stop).code(), Code::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_from, std::chrono::seconds(3));
  stopper.join();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vidgate::pipeline
