// Storage faults at every step of an attempt (ErrorStore): whatever call
// fails, each video still ends exactly once, in one folder, with its
// original and sidecar kept byte for byte; and one bad object never blocks
// the others.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "catalog/catalog.h"
#include "common/log.h"
#include "common/util.h"
#include "pipeline/intake.h"
#include "pipeline/testing/passing_stage.h"
#include "pipeline/verify.h"
#include "pipeline/worker.h"
#include "storage/testing/error_store.h"

namespace vidgate::pipeline {
namespace {

using catalog::State;

using testing::PassingStage;

// One world: a memory store behind an ErrorStore, a SQLite catalog, a fake
// clock.
class World {
 public:
  World()
      : dir_(std::filesystem::temp_directory_path() / ("vidgate-fault-test-" + NewUuid())),
        memory_(storage::NewMemoryStore()),
        faulty_(memory_.get(), /*seed=*/7) {
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    EXPECT_TRUE(catalog_->Migrate().ok());
  }
  ~World() { std::filesystem::remove_all(dir_); }

  void Upload(const std::string& name) {
    ASSERT_TRUE(memory_->Write("uploads/" + name + ".mp4", "video " + name).ok());
    ASSERT_TRUE(memory_->Write("uploads/" + name + ".json", R"({"title":")" + name + "\"}").ok());
    ASSERT_TRUE(memory_->Write("uploads/" + name + ".en.srt", "caption " + name).ok());
    clock_.Advance(2);
  }

  // Intake and a worker, round after round, the clock moving past back-offs
  // and leases, until every video is terminal (or `rounds` run out).
  int max_attempts = 3;

  void RunToTheEnd(int rounds = 30) {
    Intake intake({&faulty_, catalog_.get(), &events_, &clock_, log_.get(), nullptr},
                  IntakeOptions{1, 60, {"title"}});
    WorkerOptions o;
    o.owner = "w";
    o.max_attempts = max_attempts;
    o.backoff = {10, 100};
    o.lease_seconds = 30;
    Worker worker({&faulty_, catalog_.get(), &stage_, &events_, &clock_, log_.get(), nullptr}, o,
                  &stopping_);
    for (int i = 0; i < rounds && !AllTerminal(); ++i) {
      intake.Scan().status().IgnoreError();
      // Claims at one instant: each due job once; a bound, so a worker that
      // takes the same job again and again fails the test, not hangs it.
      int claims = 0;
      for (; claims < 50; ++claims) {
        auto ran = worker.RunOnce();
        if (!ran.ok() || !*ran) break;
      }
      busiest_round = std::max(busiest_round, claims);
      clock_.Advance(200);
    }
  }
  int busiest_round = 0;

  bool AllTerminal() {
    auto videos = catalog_->ListVideos(std::nullopt);
    if (!videos.ok() || videos->empty()) return false;
    for (const auto& v : *videos) {
      if (!catalog::IsTerminal(v.state)) return false;
    }
    return true;
  }

  // Every key in the store (the work area aside) holding `bytes`.
  std::vector<std::string> KeysHolding(const std::string& bytes) {
    std::vector<std::string> out;
    for (const char* prefix : {"uploads/", "failed/", "processed/", "unable_to_process/"}) {
      const auto listed = memory_->List(prefix);
      for (const auto& o : *listed) {
        if (*memory_->Read(o.key, 1 << 20) == bytes) out.push_back(o.key);
      }
    }
    return out;
  }

  std::vector<std::string> KeysUnder(const std::string& prefix) {
    std::vector<std::string> out;
    const auto listed = memory_->List(prefix);
    for (const auto& o : *listed) out.push_back(o.key);
    return out;
  }

  storage::ErrorStore& faulty() { return faulty_; }
  storage::Store& store() { return *memory_; }
  catalog::Catalog& catalog() { return *catalog_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> memory_;
  storage::ErrorStore faulty_;
  std::unique_ptr<catalog::Catalog> catalog_;
  FakeClock clock_{1'800'000'000};
  EventFactory events_{"test", {"log"}};
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
  PassingStage stage_;
  std::atomic<bool> stopping_{false};
};

// An original nobody can read (permissions) fails its attempts; once they
// are used up it is still set aside, without its checksum (found when the
// digest became part of filing: such a video was tried again for ever).
TEST(FaultTest, AnUnreadableOriginalIsStillSetAsideWithoutItsChecksum) {
  // Permissions, and a disk that fails every read (EIO is kUnavailable).
  for (const Code code : {Code::kPermissionDenied, Code::kUnavailable}) {
    SCOPED_TRACE(std::string(CodeName(code)));
    World w;
    w.Upload("clip");
    storage::FaultRule unreadable;
    unreadable.method = "Fetch";
    unreadable.key_contains = "clip.mp4";
    unreadable.error = Status(code, "cannot read clip.mp4");
    w.faulty().Fail(unreadable);
    w.RunToTheEnd();
    ASSERT_TRUE(w.AllTerminal());
    auto videos = *w.catalog().ListVideos(std::nullopt);
    ASSERT_EQ(videos.size(), 1u);
    EXPECT_EQ(videos[0].state, catalog::State::kUnableToProcess);
    EXPECT_EQ(w.KeysUnder("unable_to_process/clip/clip.mp4").size(), 1u);
    auto files = *w.catalog().Checksums(videos[0].id);
    for (const auto& f : files) EXPECT_NE(f.path, "clip.mp4");
    EXPECT_FALSE(files.empty()) << "the sidecar and the report are recorded";
  }
}

// Found by review: a caption the store would not let vidgate read failed
// every attempt, and the video was set aside.
TEST(FaultTest, AnUnreadableCaptionNeverHoldsTheVideoBack) {
  World w;
  w.Upload("clip");
  storage::FaultRule unreadable;
  unreadable.method = "Read";
  unreadable.key_contains = ".en.srt";
  unreadable.error = PermissionDenied("cannot read clip.en.srt");
  w.faulty().Fail(unreadable);
  w.RunToTheEnd();
  auto videos = *w.catalog().ListVideos(std::nullopt);
  ASSERT_EQ(videos.size(), 1u);
  EXPECT_EQ(videos[0].state, catalog::State::kProcessed);
  EXPECT_EQ(videos[0].attempts, 1);
}

TEST(FaultTest, AStorageFaultAtEveryStepEndsTheVideoOnceWithNothingLost) {
  int64_t clean_calls = 0;
  {
    World w;
    w.Upload("clip");
    w.RunToTheEnd();
    ASSERT_TRUE(w.AllTerminal());
    clean_calls = w.faulty().calls();
  }
  ASSERT_GT(clean_calls, 10);
  int followed = 0, runs = 0;
  for (const Code code : {Code::kUnavailable, Code::kNotFound, Code::kPermissionDenied}) {
    for (int64_t n = 1; n <= clean_calls; ++n, ++runs) {
      SCOPED_TRACE("call " + std::to_string(n) + " fails with " + std::string(CodeName(code)));
      World w;
      w.Upload("clip");
      storage::FaultRule rule;
      rule.nth = n;
      rule.error = Status(code, "injected");
      w.faulty().Fail(rule);
      w.RunToTheEnd();
      ASSERT_TRUE(w.AllTerminal());
      auto videos = *w.catalog().ListVideos(std::nullopt);
      ASSERT_EQ(videos.size(), 1u);
      const auto& v = videos[0];
      // The original and the sidecar: each in exactly one place, in the
      // video's folder, whatever the outcome.
      EXPECT_EQ(w.KeysHolding("video clip"), std::vector<std::string>{v.location + "/clip.mp4"});
      EXPECT_EQ(w.KeysHolding(R"({"title":"clip"})"),
                std::vector<std::string>{v.location + "/clip.json"});
      // The caption: in exactly one place; beside the original unless a
      // fault stopped it following (then where it was: never lost).
      const std::vector<std::string> caption = w.KeysHolding("caption clip");
      ASSERT_EQ(caption.size(), 1u);
      if (caption[0] != v.location + "/clip.en.srt") {
        EXPECT_TRUE(caption[0] == "uploads/clip.en.srt" || caption[0].starts_with("failed/"))
            << caption[0];
      } else {
        ++followed;
      }
      // And the folder holds what its manifest lists: a caption left
      // behind is not listed (verify would call it missing).
      auto verified = VerifyVideo(w.store(), w.catalog(), v);
      ASSERT_TRUE(verified.ok()) << verified.status().message();
      for (const auto& p : verified->problems) ADD_FAILURE() << p.path << ": " << p.problem;
      EXPECT_TRUE(v.location.starts_with(v.state == State::kProcessed ? "processed/"
                                                                      : "unable_to_process/"))
          << v.location;
    }
  }
  // Only the faults that hit the caption's own moves leave it behind.
  EXPECT_GE(followed, runs - 12);
}

// Every attempt fails to file, and setting the video aside fails too (a
// store refusing both folders): the set-aside is tried again after a
// back-off, never claimed again at once, and succeeds once the store does.
TEST(FaultTest, ASetAsideThatFailsWaitsItsBackOffInsteadOfSpinning) {
  World w;
  w.Upload("clip");
  for (const char* folder : {"processed/", "unable_to_process/"}) {
    storage::FaultRule refuse;
    refuse.key_contains = folder;
    refuse.method = "Move";
    refuse.error = PermissionDenied(std::string("AccessDenied on ") + folder);
    w.faulty().Fail(refuse);
  }
  w.RunToTheEnd(12);
  EXPECT_LE(w.busiest_round, 2) << "the same job was claimed again and again";
  auto v = w.catalog().FindVideoByName("clip");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(catalog::IsTerminal(v->state));
  EXPECT_NE(v->last_error.find("set aside"), std::string::npos) << v->last_error;
  EXPECT_EQ(w.KeysHolding("video clip").size(), 1u);
  // The store lets go: the video ends where it should, files with it.
  w.faulty().Clear();
  w.RunToTheEnd();
  v = w.catalog().FindVideoByName("clip");
  EXPECT_EQ(v->state, State::kUnableToProcess);
  EXPECT_EQ(w.KeysHolding("video clip"), std::vector<std::string>{v->location + "/clip.mp4"});
}

// A worker dies in the middle of a move into the video's folder, leaving a
// part-written copy there (S3 moves are a copy then a delete; s3rver even
// leaves half a copy). The folder is the video's own (the catalog reserved
// it): the next attempt replaces the leftover instead of failing on it
// until the video is given up.
TEST(FaultTest, ALeftoverOfAnInterruptedMoveInTheVideosFolderIsReplaced) {
  World w;
  w.Upload("clip");
  storage::FaultRule killed;
  killed.method = "Move";
  killed.key_contains = "processed/clip/clip.json";
  killed.nth = 1;
  killed.action = [](storage::Store& inner) {
    ASSERT_TRUE(inner.Write("processed/clip/clip.json", R"({"ti)").ok());
  };
  killed.error = Unavailable("the worker died mid-copy");
  w.faulty().Fail(killed);
  w.RunToTheEnd();
  auto v = w.catalog().FindVideoByName("clip");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->state, State::kProcessed) << v->last_error;
  EXPECT_EQ(w.KeysHolding(R"({"title":"clip"})"),
            std::vector<std::string>{"processed/clip/clip.json"});
  EXPECT_EQ(w.KeysHolding("video clip"), std::vector<std::string>{"processed/clip/clip.mp4"});
}

TEST(FaultTest, OneUnreadableSidecarDoesNotHoldTheOthersBack) {
  World w;
  w.Upload("locked");
  w.Upload("fine");
  storage::FaultRule locked;
  locked.method = "Read";
  locked.key_contains = "locked.json";
  locked.error = PermissionDenied("cannot open 'uploads/locked.json'");
  w.faulty().Fail(locked);
  w.RunToTheEnd(3);
  EXPECT_EQ(w.catalog().FindVideoByName("fine")->state, State::kProcessed);
  EXPECT_EQ(w.catalog().FindVideoByName("locked")->state, State::kAwaitingMetadata);
  // Readable again: it goes on.
  w.faulty().Clear();
  w.RunToTheEnd();
  EXPECT_EQ(w.catalog().FindVideoByName("locked")->state, State::kProcessed);
}

// The original truly vanishes as it is filed, after its sidecar was moved
// into processed/: it is set aside once, the sidecar with it, and nothing
// stays in processed/.
TEST(FaultTest, AnOriginalThatVanishesAsItIsFiledTakesItsSidecarAlong) {
  World w;
  w.Upload("clip");
  storage::FaultRule vanish;
  vanish.method = "Move";
  vanish.key_contains = "uploads/clip.mp4";
  vanish.nth = 1;
  vanish.error = NotFound("no object 'uploads/clip.mp4'");
  vanish.action = [](storage::Store& inner) { inner.Delete("uploads/clip.mp4").IgnoreError(); };
  w.faulty().Fail(vanish);
  w.RunToTheEnd();
  auto v = *w.catalog().FindVideoByName("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_NE(v.last_error.find("disappeared"), std::string::npos) << v.last_error;
  EXPECT_EQ(w.KeysHolding(R"({"title":"clip"})"),
            std::vector<std::string>{"unable_to_process/clip/clip.json"});
  EXPECT_TRUE(w.KeysHolding("video clip").empty());
  EXPECT_TRUE(w.KeysUnder("processed/").empty());
}

// Filing that takes longer than the lease (a slow disk under report.json)
// keeps the lease: the heartbeat runs until the outcome is recorded, so no
// other worker takes the video over mid-publish. On the real clock.
TEST(FaultTest, ASlowPublishKeepsItsLease) {
  const auto dir = std::filesystem::temp_directory_path() / ("vidgate-slow-test-" + NewUuid());
  auto catalog = std::move(catalog::Open("sqlite://" + (dir / "c.db").string())).value();
  ASSERT_TRUE(catalog->Migrate().ok());
  auto memory = storage::NewMemoryStore();
  storage::ErrorStore slow(memory.get());
  storage::FaultRule sleepy;
  sleepy.method = "Write";
  sleepy.key_contains = "report.json";
  sleepy.error = Status();  // goes through, after the pause
  sleepy.action = [](storage::Store&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(6000));
  };
  slow.Fail(sleepy);
  SystemClock clock;
  EventFactory events{"test", {"log"}};
  auto log = NullLogger();
  PassingStage stage;
  std::atomic<bool> stopping{false};
  ASSERT_TRUE(memory->Write("uploads/clip.mp4", "video clip").ok());
  ASSERT_TRUE(memory->Write("uploads/clip.json", R"({"title":"clip"})").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Intake intake({&slow, catalog.get(), &events, &clock, log.get(), nullptr},
                IntakeOptions{0.01, 60, {"title"}});
  ASSERT_EQ(intake.Scan()->queued, 1);
  auto worker = [&](const std::string& owner) {
    WorkerOptions o;
    o.owner = owner;
    o.max_attempts = 3;
    // Renewed every third of it: a loaded machine (and the sanitizers)
    // still renew it in time; the pause outlasts three leases.
    o.lease_seconds = 2;
    return Worker({&slow, catalog.get(), &stage, &events, &clock, log.get(), nullptr}, o,
                  &stopping);
  };
  Worker w1 = worker("w1");
  Worker w2 = worker("w2");
  std::atomic<bool> done{false};
  std::thread rival([&] {
    while (!done) {  // takes the job over as soon as its lease runs out
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      w2.RunOnce().status().IgnoreError();
    }
  });
  auto ran = w1.RunOnce();
  done = true;
  rival.join();
  ASSERT_TRUE(ran.ok() && *ran);
  auto v = *catalog->FindVideoByName("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  auto attempts = *catalog->Attempts(v.id);
  ASSERT_EQ(attempts.size(), 1u) << "another worker took the video over mid-publish";
  EXPECT_EQ(attempts[0].worker, "w1");
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  std::filesystem::remove_all(dir);
}

// The disk fills up as the last attempt is filed, and again as it is set
// aside: the history says so, not "interrupted".
TEST(FaultTest, AFullDiskWhenFilingIsReportedAsSuch) {
  World w;
  w.max_attempts = 1;
  w.Upload("clip");
  for (int n : {1, 2}) {
    storage::FaultRule full;
    full.method = "Write";
    full.key_contains = "report.json";
    full.nth = n;
    full.error = ResourceExhausted("No space left on device");
    w.faulty().Fail(full);
  }
  w.RunToTheEnd();
  auto v = *w.catalog().FindVideoByName("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_NE(v.last_error.find("No space left on device"), std::string::npos) << v.last_error;
  EXPECT_EQ(v.last_error.find("interrupted"), std::string::npos) << v.last_error;
  auto attempts = *w.catalog().Attempts(v.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "failed");
  EXPECT_NE(attempts[0].error.find("No space left"), std::string::npos);
  EXPECT_EQ(w.KeysHolding("video clip"), std::vector<std::string>{v.location + "/clip.mp4"});
}

}  // namespace
}  // namespace vidgate::pipeline
