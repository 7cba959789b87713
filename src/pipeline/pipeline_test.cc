// The pipeline's state machine on an in-memory store, a real SQLite catalog
// and a fake clock; the media stage is scripted so each path can be forced.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "catalog/catalog.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/util.h"
#include "pipeline/caption_files.h"
#include "pipeline/fixity.h"
#include "pipeline/intake.h"
#include "pipeline/rerun.h"
#include "pipeline/testing/passing_stage.h"
#include "pipeline/verify.h"
#include "pipeline/worker.h"
#include "storage/testing/error_store.h"

namespace vidgate::pipeline {
namespace {

using catalog::State;

// Keeps what the pipeline tells its observer.
class RecordingObserver final : public Observer {
 public:
  void AttemptFinished(const AttemptReport& report) override {
    std::lock_guard lock(mu_);
    attempts.push_back(report);
  }
  void EventRecorded(std::string_view type) override {
    std::lock_guard lock(mu_);
    events.emplace_back(type);
  }
  std::vector<AttemptReport> attempts;
  std::vector<std::string> events;

 private:
  std::mutex mu_;
};

class ScriptedStage final : public MediaStage {
 public:
  Result<StageResult> Process(const std::string&, const std::string&,
                              const std::vector<CaptionInput>& captions,
                              const std::function<Status()>& should_stop) override {
    VG_RETURN_IF_ERROR(should_stop());
    ++calls;
    last_captions = captions;
    if (during) std::exchange(during, nullptr)();
    if (script.empty()) return Pass();
    Result<StageResult> next = script.front();
    script.pop_front();
    return next;
  }
  static StageResult Pass() { return testing::PassingResult(); }
  // A result QC rejects, saying `summary`.
  static StageResult Reject(const std::string& summary) {
    StageResult r = Pass();
    r.verdict = "reject";
    r.summary = summary;
    r.qc["verdict"] = "reject";
    return r;
  }
  std::deque<Result<StageResult>> script;
  int calls = 0;
  std::vector<CaptionInput> last_captions;
  std::function<void()> during;  // run once, inside the next call
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-pipeline-test-" + NewUuid());
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
    store_ = storage::NewMemoryStore();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Intake MakeIntake() {
    return Intake({store_.get(), catalog_.get(), &events_, &clock_, log_.get(), &observer_},
                  IntakeOptions{1, 60, {"title"}});
  }
  Worker MakeWorker(const std::string& owner = "w1") {
    WorkerOptions o;
    o.owner = owner;
    o.max_attempts = 3;
    o.backoff = {10, 100};
    o.lease_seconds = 30;
    o.dedupe = dedupe_;
    o.retry_qc_rejections = retry_qc_rejections_;
    return Worker(
        {store_.get(), catalog_.get(), &stage_, &events_, &clock_, log_.get(), &observer_}, o,
        &stopping_);
  }
  void Upload(const std::string& name, bool with_sidecar = true) {
    ASSERT_TRUE(store_->Write("uploads/" + name + ".mp4", "video bytes").ok());
    if (with_sidecar) {
      ASSERT_TRUE(store_->Write("uploads/" + name + ".json", R"({"title":"T"})").ok());
    }
    clock_.Advance(2);  // past settle_seconds
  }
  catalog::Video Find(const std::string& name) { return *catalog_->FindVideoByName(name); }
  // "clip" with the caption clip.en.srt holding `caption`, rejected by QC
  // on its first attempt.
  catalog::Video RejectedWithCaption(const std::string& caption) {
    stage_.script.push_back(ScriptedStage::Reject("too dark"));
    EXPECT_TRUE(store_->Write("uploads/clip.en.srt", caption).ok());
    Upload("clip");
    EXPECT_TRUE(MakeIntake().Scan().ok());
    EXPECT_TRUE(*MakeWorker().RunOnce());
    return Find("clip");
  }
  std::vector<std::string> EventTypes(int64_t id) {
    std::vector<std::string> types;
    auto notes = catalog_->Notifications(id);
    for (const auto& n : *notes) types.push_back(n.type);
    return types;
  }
  bool Exists(const std::string& key) { return store_->Stat(key).ok(); }
  // Uploads "clip" and has worker w1 claim it, record its publish's moves
  // as pending, move the sidecar (and the original, if `original_moved`)
  // into processed/clip/ and die there: its lease runs out.
  void DieMidPublish(bool original_moved) {
    Upload("clip");
    ASSERT_TRUE(MakeIntake().Scan().ok());
    auto claim = catalog_->ClaimNext("w1", clock_.Now(), 30, 3);
    ASSERT_TRUE(claim.ok() && claim->has_value());
    catalog::VideoChange pending;
    pending.video_id = (*claim)->video.id;
    pending.now = clock_.Now();
    pending.location = "processed/clip";
    pending.pending_key = "processed/clip/clip.mp4";
    pending.pending_sidecar_key = "processed/clip/clip.json";
    ASSERT_TRUE(catalog_->Apply(pending).ok());
    ASSERT_TRUE(store_->Move("uploads/clip.json", "processed/clip/clip.json").ok());
    if (original_moved) {
      ASSERT_TRUE(store_->Move("uploads/clip.mp4", "processed/clip/clip.mp4").ok());
    }
    clock_.Advance(31);
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{SystemClock().Now()};
  EventFactory events_{"test", {"log"}};
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
  ScriptedStage stage_;
  RecordingObserver observer_;
  std::atomic<bool> stopping_{false};
  DedupePolicy dedupe_ = DedupePolicy::kFlag;
  bool retry_qc_rejections_ = false;
};

TEST_F(PipelineTest, UploadWithSidecarIsProcessed) {
  Upload("clip");
  auto scan = MakeIntake().Scan();
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->registered, 1);
  EXPECT_EQ(scan->queued, 1);
  Worker worker = MakeWorker();
  ASSERT_TRUE(*worker.RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.location, "processed/clip");
  EXPECT_EQ(v.metadata["title"], "T");
  EXPECT_TRUE(Exists("processed/clip/clip.mp4"));
  EXPECT_TRUE(Exists("processed/clip/clip.json"));
  EXPECT_TRUE(Exists("processed/clip/vidgate/report.json"));
  EXPECT_TRUE(store_->List("uploads/")->empty());
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.video.processed"});
  EXPECT_FALSE(*worker.RunOnce());
}

TEST_F(PipelineTest, RetryableFailuresBackOffThenGiveUp) {
  for (int i = 0; i < 3; ++i) stage_.script.push_back(Unavailable("disk unplugged"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  Worker worker = MakeWorker();

  double t0 = clock_.Now();
  ASSERT_TRUE(*worker.RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kRetryWait);
  EXPECT_EQ(v.current_key, "failed/clip.mp4");
  EXPECT_EQ(v.sidecar_key, "failed/clip.json");
  EXPECT_TRUE(Exists("failed/clip.mp4"));
  // base 10 s, equal jitter: the first retry waits 5..10 s.
  EXPECT_GE(v.next_attempt_at - t0, 5);
  EXPECT_LE(v.next_attempt_at - t0, 10);
  EXPECT_FALSE(*worker.RunOnce());  // not due yet
  // Intake must not adopt the parked file as a new video.
  ASSERT_TRUE(MakeIntake().Scan().ok());
  EXPECT_EQ(catalog_->ListVideos(std::nullopt)->size(), 1u);

  clock_.Advance(10);
  ASSERT_TRUE(*worker.RunOnce());
  v = Find("clip");
  EXPECT_EQ(v.state, State::kRetryWait);
  EXPECT_GE(v.next_attempt_at - clock_.Now(), 10);  // second retry: 10..20 s
  EXPECT_LE(v.next_attempt_at - clock_.Now(), 20);

  clock_.Advance(20);
  ASSERT_TRUE(*worker.RunOnce());
  v = Find("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_EQ(v.attempts, 3);
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.mp4"));
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.json"));
  auto report =
      nlohmann::json::parse(*store_->Read("unable_to_process/clip/vidgate/report.json", 1 << 20));
  ASSERT_EQ(report["attempts"].size(), 3u);
  EXPECT_EQ(report["attempts"][2]["outcome"], "failed");
  EXPECT_EQ(report["reason"], "disk unplugged");
  EXPECT_EQ(EventTypes(v.id),
            (std::vector<std::string>{"vidgate.video.failed", "vidgate.video.failed",
                                      "vidgate.video.unable_to_process"}));
  EXPECT_TRUE(store_->List("failed/")->empty());
}

// Caption sidecars go wherever their video goes: to failed/ under its
// numbered name, to its filed folder, into its manifest, and back to
// uploads/ on a re-run; each attempt reads them where they are.
TEST_F(PipelineTest, CaptionsFollowTheirVideoThroughRetriesAndFiling) {
  stage_.script.push_back(Unavailable("disk unplugged"));
  ASSERT_TRUE(store_->Write("failed/clip.mp4", "someone else's").ok());  // taken: clip-2
  ASSERT_TRUE(store_->Write("uploads/clip.en.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n").ok());
  ASSERT_TRUE(store_->Write("uploads/clip.pt-BR.vtt", "WEBVTT\n").ok());
  ASSERT_TRUE(store_->Write("uploads/clipper.en.srt", "not clip's").ok());
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  Worker worker = MakeWorker();
  ASSERT_TRUE(*worker.RunOnce());
  ASSERT_EQ(stage_.last_captions.size(), 2u);
  EXPECT_EQ(stage_.last_captions[0].file_name, "clip.en.srt");
  EXPECT_EQ(stage_.last_captions[0].label, "en");
  EXPECT_EQ(stage_.last_captions[0].bytes, "1\n00:00:00,000 --> 00:00:01,000\nHi\n");
  EXPECT_EQ(stage_.last_captions[1].label, "pt-BR");
  auto v = Find("clip");
  ASSERT_EQ(v.current_key, "failed/clip-2.mp4");
  EXPECT_TRUE(Exists("failed/clip-2.en.srt"));
  EXPECT_TRUE(Exists("failed/clip-2.pt-BR.vtt"));
  EXPECT_FALSE(Exists("uploads/clip.en.srt"));
  EXPECT_TRUE(Exists("uploads/clipper.en.srt"));

  clock_.Advance(10);
  stage_.last_captions.clear();
  ASSERT_TRUE(*worker.RunOnce());
  EXPECT_EQ(stage_.last_captions.size(), 2u);
  v = Find("clip");
  ASSERT_EQ(v.state, State::kProcessed);
  EXPECT_TRUE(Exists("processed/clip/clip.en.srt"));
  EXPECT_TRUE(Exists("processed/clip/clip.pt-BR.vtt"));
  EXPECT_FALSE(Exists("failed/clip-2.en.srt"));
  auto lines =
      ParseBagItManifest(*store_->Read("processed/clip/vidgate/manifest-sha256.txt", 4096));
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->count("clip.en.srt"), 1u);
  EXPECT_EQ(lines->count("clip.pt-BR.vtt"), 1u);
  auto verified = VerifyVideo(*store_, *catalog_, v);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->ToJson().dump();
}

// Found by review: "talk.part2.en.srt" went to talk.mp4 (label
// "part2.en") though talk.part2.mp4 was beside it.
TEST_F(PipelineTest, ACaptionNamedAfterALongerVideoNameIsThatVideos) {
  ASSERT_TRUE(store_->Write("uploads/talk.part2.mp4", "other video").ok());
  ASSERT_TRUE(store_->Write("uploads/talk.part2.en.srt", "x").ok());
  ASSERT_TRUE(store_->Write("uploads/talk.en.srt", "y").ok());
  auto mine = CaptionsBeside(*store_, "uploads/talk.mp4");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].key, "uploads/talk.en.srt");
  auto theirs = CaptionsBeside(*store_, "uploads/talk.part2.mp4");
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].label, "en");
  // So it is while that video is still arriving: rsync's hidden name, or
  // a browser's .part.
  ASSERT_TRUE(store_->Delete("uploads/talk.part2.mp4").ok());
  for (const char* arriving : {"uploads/.talk.part2.mp4.Xy12Ab", "uploads/talk.part2.mp4.part"}) {
    SCOPED_TRACE(arriving);
    ASSERT_TRUE(store_->Write(arriving, "half a video").ok());
    auto still_mine = CaptionsBeside(*store_, "uploads/talk.mp4");
    ASSERT_TRUE(still_mine.ok());
    ASSERT_EQ(still_mine->size(), 1u);
    EXPECT_EQ((*still_mine)[0].key, "uploads/talk.en.srt");
    ASSERT_TRUE(store_->Delete(arriving).ok());
  }
  // Once it is neither there nor arriving, its caption is talk's.
  EXPECT_EQ(CaptionsBeside(*store_, "uploads/talk.mp4")->size(), 2u);
  // At most 32 are taken; the rest stay where they are.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(store_->Write("uploads/many.l" + std::to_string(100 + i) + ".srt", "z").ok());
  }
  EXPECT_EQ(CaptionsBeside(*store_, "uploads/many.mp4")->size(), kMaxCaptionFiles);
}

// Found by review: a caption with a plain label ("talk.part2.srt") beside
// rsync's hidden copy of its video went with talk.mp4; and a poster still
// arriving ("talk.part2.jpg.part") hid talk.part2.mp4.
TEST_F(PipelineTest, ArrivingVideosAndPicturesAreJudgedByWhatTheyWillBe) {
  ASSERT_TRUE(store_->Write("uploads/talk.part2.srt", "x").ok());
  ASSERT_TRUE(store_->Write("uploads/.talk.part2.mp4.Xy12Ab", "half a video").ok());
  auto mine = CaptionsBeside(*store_, "uploads/talk.mp4");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->empty());
  ASSERT_TRUE(store_->Delete("uploads/.talk.part2.mp4.Xy12Ab").ok());
  ASSERT_TRUE(store_->Write("uploads/talk.part2.mp4", "the video").ok());
  ASSERT_TRUE(store_->Write("uploads/talk.part2.jpg.part", "half a poster").ok());
  mine = CaptionsBeside(*store_, "uploads/talk.mp4");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->empty());
  auto theirs = CaptionsBeside(*store_, "uploads/talk.part2.mp4");
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].label, "und");
}

TEST_F(PipelineTest, CaptionsGoBackToUploadsWhenARejectedVideoRunsAgain) {
  const catalog::Video v = RejectedWithCaption("x");
  ASSERT_EQ(v.state, State::kRejected);
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.en.srt"));
  auto again = RerunFromKeptOriginal(*store_, *catalog_, clock_, v);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(Exists("uploads/clip.mp4"));
  EXPECT_TRUE(Exists("uploads/clip.en.srt"));
  EXPECT_FALSE(Exists("unable_to_process/clip/clip.en.srt"));
}

// Found by review: a caption of that name uploaded meanwhile stopped the
// re-run after the video had moved, before the catalog knew.
TEST_F(PipelineTest, ARerunGoesOnPastACaptionThatCannotGoBack) {
  const catalog::Video v = RejectedWithCaption("old");
  ASSERT_EQ(v.state, State::kRejected);
  ASSERT_TRUE(store_->Write("uploads/clip.en.srt", "corrected").ok());
  auto again = RerunFromKeptOriginal(*store_, *catalog_, clock_, v);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Find("clip").current_key, "uploads/clip.mp4");
  EXPECT_EQ(*store_->Read("uploads/clip.en.srt", 100), "corrected");
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.en.srt"));  // kept, not overwritten
}

TEST_F(PipelineTest, SuccessOnALaterAttemptCountsTheAttempts) {
  stage_.script.push_back(DeadlineExceeded("too slow"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  Worker worker = MakeWorker();
  ASSERT_TRUE(*worker.RunOnce());
  clock_.Advance(10);
  ASSERT_TRUE(*worker.RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.attempts, 2);
  EXPECT_TRUE(Exists("processed/clip/clip.mp4"));
  auto notes = *catalog_->Notifications(v.id);
  ASSERT_EQ(notes.size(), 2u);
  auto due = *catalog_->TakeDueDeliveries(clock_.Now() + 1, 10, 60);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].document["data"]["attempts"], 2);
  EXPECT_EQ(due[0].document["data"]["attempt"], 1);
  EXPECT_EQ(due[0].document["data"]["max_attempts"], 3);
}

TEST_F(PipelineTest, BadMediaIsNotRetried) {
  stage_.script.push_back(InvalidArgument("not a video"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_EQ(v.attempts, 1);
  auto attempts = *catalog_->Attempts(v.id);
  EXPECT_FALSE(attempts[0].retryable);
  EXPECT_EQ(stage_.calls, 1);
}

TEST_F(PipelineTest, QcRejectionIsRejected) {
  stage_.script.push_back(ScriptedStage::Reject("the file has no video stream"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kRejected);
  EXPECT_EQ(v.location, "unable_to_process/clip");
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.video.rejected"});
  // The original, its sidecar and the report, set aside; not retried.
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.mp4"));
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.json"));
  auto report = store_->Read("unable_to_process/clip/vidgate/report.json", 1 << 20);
  ASSERT_TRUE(report.ok());
  auto doc = nlohmann::json::parse(*report, nullptr, false);
  EXPECT_EQ(doc.value("verdict", ""), "reject") << *report;
  EXPECT_NE(doc.dump().find("the file has no video stream"), std::string::npos) << *report;
  EXPECT_TRUE(store_->List("uploads/")->empty());
  EXPECT_TRUE(store_->List("processed/")->empty());
  clock_.Advance(3600);
  EXPECT_FALSE(*MakeWorker().RunOnce()) << "a rejection is not retried";
  EXPECT_EQ(stage_.calls, 1);
}

TEST_F(PipelineTest, MissingMetadataIsNoticedOnce) {
  Upload("clip", /*with_sidecar=*/false);
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Scan().ok());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kAwaitingMetadata);
  EXPECT_TRUE(EventTypes(v.id).empty());
  clock_.Advance(61);
  ASSERT_TRUE(intake.Scan().ok());
  ASSERT_TRUE(intake.Scan().ok());
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.metadata.missing"});
  // The sidecar arrives: the video goes on.
  ASSERT_TRUE(store_->Write("uploads/clip.mp4.json", R"({"title":"late"})").ok());
  clock_.Advance(2);
  auto scan = intake.Scan();
  EXPECT_EQ(scan->queued, 1);
  EXPECT_EQ(Find("clip").sidecar_key, "uploads/clip.mp4.json");
}

TEST_F(PipelineTest, InvalidSidecarIsReportedAndReReadWhenItChanges) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "v").ok());
  ASSERT_TRUE(store_->Write("uploads/clip.json", R"({"name":"no title"})").ok());
  clock_.Advance(2);
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Scan().ok());
  ASSERT_TRUE(intake.Scan().ok());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kAwaitingMetadata);
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.metadata.invalid"});
  auto due = *catalog_->TakeDueDeliveries(clock_.Now() + 1, 10, 60);
  EXPECT_NE(due[0].document["data"]["error"].get<std::string>().find("'title'"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a new mtime
  ASSERT_TRUE(store_->Write("uploads/clip.json", R"({"title":"fixed"})").ok());
  EXPECT_EQ(intake.Scan()->queued, 0);  // it changed: it must settle again
  clock_.Advance(2);
  EXPECT_EQ(intake.Scan()->queued, 1);
}

TEST_F(PipelineTest, OrphanSidecarIsNoticedOnceAfterTheWait) {
  ASSERT_TRUE(store_->Write("uploads/lonely.json", R"({"title":"T"})").ok());
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Scan().ok());
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
  clock_.Advance(61);
  ASSERT_TRUE(intake.Scan().ok());
  ASSERT_TRUE(intake.Scan().ok());
  auto due = *catalog_->TakeDueDeliveries(clock_.Now() + 1, 10, 60);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].document["type"], "vidgate.metadata.invalid");
  EXPECT_EQ(due[0].document["data"]["name"], "lonely");
  EXPECT_TRUE(due[0].document["data"]["video_id"].is_null());
  EXPECT_NE(due[0].document["data"]["error"].get<std::string>().find("no video"),
            std::string::npos);
  EXPECT_TRUE(catalog_->ListVideos(std::nullopt)->empty());
}

// Found by review: a caption whose label vidgate cannot read
// ("clip.español.srt"), or with no video of its name, was ignored without a
// word for ever.
TEST_F(PipelineTest, ACaptionOfNoVideoIsNoticedOnceAfterTheWait) {
  store_ = storage::NewMemoryStore(&clock_);  // a file's age on the test's clock
  ASSERT_TRUE(store_->Write("uploads/clip.espa\xc3\xb1ol.srt", "x").ok());
  ASSERT_TRUE(store_->Write("uploads/nobody.en.vtt", "x").ok());
  ASSERT_TRUE(store_->Write("uploads/clip.en.srt", "x").ok());  // clip's: not an orphan
  // Nor is the caption of a video still arriving (rsync's hidden name).
  ASSERT_TRUE(store_->Write("uploads/slow.fr.srt", "x").ok());
  ASSERT_TRUE(store_->Write("uploads/.slow.mp4.Xy12Ab", "half a video").ok());
  Upload("clip");
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Scan().ok());
  clock_.Advance(61);
  ASSERT_TRUE(store_->Write("uploads/.slow.mp4.Xy12Ab", "more of a video").ok());  // it grows
  ASSERT_TRUE(intake.Scan().ok());
  ASSERT_TRUE(intake.Scan().ok());
  std::vector<std::string> errors;
  const auto due = *catalog_->TakeDueDeliveries(clock_.Now() + 1, 10, 60);
  for (const auto& d : due) {
    if (d.document["type"] == "vidgate.metadata.invalid") {
      errors.push_back(d.document["data"]["error"].get<std::string>());
    }
  }
  ASSERT_EQ(errors.size(), 2u);
  std::sort(errors.begin(), errors.end());
  EXPECT_EQ(
      errors[0].rfind("caption uploads/clip.espa\xc3\xb1ol.srt belongs to no video after 60 s", 0),
      0u)
      << errors[0];
  EXPECT_EQ(errors[1].rfind("caption uploads/nobody.en.vtt belongs to no video", 0), 0u)
      << errors[1];
  // An arrival that stopped (unchanged for the wait) keeps its caption no
  // longer: it is noticed.
  clock_.Advance(61);
  ASSERT_TRUE(intake.Scan().ok());
  int slow_notices = 0;  // (the two above are due again: never delivered)
  const auto later = *catalog_->TakeDueDeliveries(clock_.Now() + 1, 10, 60);
  for (const auto& d : later) {
    slow_notices += d.document["data"]["error"].get<std::string>().rfind(
                        "caption uploads/slow.fr.srt belongs to no video", 0) == 0;
  }
  EXPECT_EQ(slow_notices, 1);
}

TEST_F(PipelineTest, UploadRemovedWhileWaitingIsClosed) {
  Upload("clip", /*with_sidecar=*/false);
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Scan().ok());
  ASSERT_TRUE(store_->Delete("uploads/clip.mp4").ok());
  ASSERT_TRUE(intake.Scan().ok());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_NE(v.last_error.find("disappeared"), std::string::npos);
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.video.unable_to_process"});
  EXPECT_EQ(catalog_->PendingWork()->awaiting_notice, 0);
}

TEST_F(PipelineTest, UnsettledUploadWaits) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "v").ok());
  auto scan = MakeIntake().Scan();
  EXPECT_TRUE(scan->unsettled);
  EXPECT_EQ(scan->registered, 0);
}

TEST_F(PipelineTest, LostLeaseNeverPublishes) {
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  // w1 stalls inside its processing past its lease; w2 takes the video over
  // and files it. Then w1 comes back with a result of its own.
  Worker w2 = MakeWorker("w2");
  stage_.during = [&] {
    clock_.Advance(31);
    auto ran = w2.RunOnce();
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    EXPECT_TRUE(*ran);
  };
  auto ran = MakeWorker("w1").RunOnce();
  ASSERT_TRUE(ran.ok()) << "a lost lease is the worker's normal business: "
                        << ran.status().ToString();
  EXPECT_TRUE(*ran);
  EXPECT_EQ(stage_.calls, 2);
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.location, "processed/clip");
  auto attempts = *catalog_->Attempts(v.id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].outcome, "interrupted");
  EXPECT_EQ(attempts[0].worker, "w1");
  EXPECT_EQ(attempts[1].outcome, "succeeded");
  EXPECT_EQ(attempts[1].worker, "w2");
  // w1 published nothing: one folder, one event, the files where w2 put them.
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.video.processed"});
  EXPECT_TRUE(Exists("processed/clip/clip.mp4"));
  EXPECT_TRUE(Exists("processed/clip/vidgate/report.json"));
  EXPECT_FALSE(Exists("processed/clip-2/clip.mp4"));
  EXPECT_TRUE(store_->List("uploads/")->empty());
  EXPECT_TRUE(store_->List("failed/")->empty());
  EXPECT_TRUE(store_->List("unable_to_process/")->empty());
}

// The observer hears of each attempt (its outcome, stage times, bytes) and
// of each event committed, whichever way the attempt ends.
TEST_F(PipelineTest, TheObserverHearsOfEveryAttemptAndEvent) {
  Upload("clip");
  Upload("late", /*with_sidecar=*/false);
  ASSERT_TRUE(MakeIntake().Scan().ok());
  stage_.script.push_back(Unavailable("decoder hiccup"));
  Worker worker = MakeWorker();
  ASSERT_TRUE(*worker.RunOnce());
  ASSERT_EQ(observer_.attempts.size(), 1u);
  EXPECT_EQ(observer_.attempts[0].video, "clip");
  EXPECT_EQ(observer_.attempts[0].attempt, 1);
  EXPECT_EQ(observer_.attempts[0].outcome, "failed");
  EXPECT_EQ(observer_.attempts[0].bytes_in, 11);  // "video bytes"
  EXPECT_EQ(observer_.attempts[0].bytes_out, 0);
  clock_.Advance(20);
  ASSERT_TRUE(*worker.RunOnce());
  ASSERT_EQ(observer_.attempts.size(), 2u);
  EXPECT_EQ(observer_.attempts[1].outcome, "processed");
  EXPECT_EQ(observer_.attempts[1].attempt, 2);
  EXPECT_GE(observer_.attempts[1].fetch_seconds, 0);
  EXPECT_GE(observer_.attempts[1].process_seconds, 0);
  EXPECT_GE(observer_.attempts[1].publish_seconds, 0);
  clock_.Advance(61);  // past metadata.wait_seconds for "late"
  ASSERT_TRUE(MakeIntake().Scan().ok());
  const auto& e = observer_.events;
  EXPECT_EQ(std::count(e.begin(), e.end(), "vidgate.video.failed"), 1);
  EXPECT_EQ(std::count(e.begin(), e.end(), "vidgate.video.processed"), 1);
  EXPECT_EQ(std::count(e.begin(), e.end(), "vidgate.metadata.missing"), 1);
}

// News (a change feed's keys) registers and judges what it names, the same
// way a listing does, and nothing else.
TEST_F(PipelineTest, NewsRegistersAndQueuesOnlyWhatItNames) {
  Upload("a");
  Upload("b");
  Intake intake = MakeIntake();
  auto taken = intake.Take({"uploads/a.mp4"});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->registered, 1);
  EXPECT_EQ(taken->queued, 1);
  EXPECT_EQ(Find("a").state, State::kQueued);
  EXPECT_FALSE(catalog_->FindVideoByName("b").ok());
  // The same news again, and a listing after it: still one video "a".
  ASSERT_TRUE(intake.Take({"uploads/a.mp4", "uploads/a.mp4"}).ok());
  ASSERT_TRUE(intake.Scan().ok());
  EXPECT_EQ(catalog_->ListVideos(std::nullopt)->size(), 2u);
  EXPECT_EQ(Find("b").state, State::kQueued);
}

TEST_F(PipelineTest, NewsOfASidecarQueuesTheVideoWaitingForIt) {
  Upload("c", /*with_sidecar=*/false);
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Take({"uploads/c.mp4"}).ok());
  EXPECT_EQ(Find("c").state, State::kAwaitingMetadata);
  ASSERT_TRUE(store_->Write("uploads/c.json", R"({"title":"T"})").ok());
  auto taken = intake.Take({"uploads/c.json"});
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->queued, 1);
  EXPECT_EQ(Find("c").state, State::kQueued);
  EXPECT_EQ(Find("c").sidecar_key, "uploads/c.json");
}

TEST_F(PipelineTest, AnOverdueSidecarIsNoticedWithoutAListing) {
  Upload("late", /*with_sidecar=*/false);
  Intake intake = MakeIntake();
  ASSERT_TRUE(intake.Take({"uploads/late.mp4"}).ok());
  auto early = intake.NoticeOverdue();
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->events, 0);  // still within metadata.wait_seconds
  clock_.Advance(61);
  auto due = intake.NoticeOverdue();
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  EXPECT_EQ(due->events, 1);
  EXPECT_EQ(EventTypes(Find("late").id), std::vector<std::string>{"vidgate.metadata.missing"});
  auto again = intake.NoticeOverdue();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events, 0);  // told once
}

TEST_F(PipelineTest, NewsOfWhatIsGoneOrElsewhereChangesNothing) {
  ASSERT_TRUE(store_->Write("processed/x/x.mp4", "filed").ok());
  ASSERT_TRUE(store_->Write("elsewhere.mp4", "not ours").ok());
  auto taken = MakeIntake().Take({"uploads/never.mp4", "processed/x/x.mp4", "elsewhere.mp4",
                                  "uploads/.hidden.mp4", "", "uploads/a//b.mp4"});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->registered, 0);
  EXPECT_TRUE(catalog_->ListVideos(std::nullopt)->empty());
}

// One key the store refuses to show (S3's 403 on an object another account
// wrote, say) is said and skipped: the rest of the news and of the listing
// is taken in, and the key is taken once the store lets it be seen.
TEST_F(PipelineTest, AKeyTheStoreRefusesHoldsBackNothingElse) {
  Upload("ok1");
  Upload("locked");
  Upload("ok2");
  storage::ErrorStore faulty(store_.get());
  storage::FaultRule refused;
  refused.method = "Stat";
  refused.key_contains = "uploads/locked.mp4";
  refused.error = PermissionDenied("s3://b/uploads/locked.mp4: access denied (HTTP 403)");
  faulty.Fail(refused);
  Intake intake({&faulty, catalog_.get(), &events_, &clock_, log_.get(), &observer_},
                IntakeOptions{1, 60, {"title"}});
  auto taken = intake.Take({"uploads/ok1.mp4", "uploads/locked.mp4"});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(Find("ok1").state, State::kQueued);
  EXPECT_FALSE(catalog_->FindVideoByName("locked").ok());
  auto listed = intake.Scan();  // the listing shows it; its fresh look is refused
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Find("ok2").state, State::kQueued);
  EXPECT_FALSE(catalog_->FindVideoByName("locked").ok());
  faulty.Clear();
  ASSERT_TRUE(intake.Take({"uploads/locked.mp4"}).ok());
  EXPECT_EQ(Find("locked").state, State::kQueued);
  // A sidecar that cannot be looked at is no missing sidecar: no
  // metadata.missing for it, however overdue; it is judged once it can be.
  Upload("hidden");
  storage::FaultRule hidden;
  hidden.method = "Stat";
  hidden.key_contains = "uploads/hidden.json";
  hidden.error = PermissionDenied("s3://b/uploads/hidden.json: access denied (HTTP 403)");
  faulty.Fail(hidden);
  ASSERT_TRUE(intake.Take({"uploads/hidden.mp4"}).ok());
  EXPECT_EQ(Find("hidden").state, State::kAwaitingMetadata);
  clock_.Advance(61);
  auto overdue = intake.NoticeOverdue();
  ASSERT_TRUE(overdue.ok()) << overdue.status().ToString();
  EXPECT_EQ(overdue->events, 0);
  EXPECT_TRUE(EventTypes(Find("hidden").id).empty());
  faulty.Clear();
  ASSERT_TRUE(intake.NoticeOverdue().ok());
  EXPECT_EQ(Find("hidden").state, State::kQueued);
  // Every look refused: the store refusing us (expired credentials), not
  // each key its own; the batch fails, to come again.
  storage::FaultRule all;
  all.method = "Stat";
  all.error = PermissionDenied("s3://b: ExpiredToken (HTTP 403)");
  faulty.Fail(all);
  Upload("unseen");
  EXPECT_EQ(intake.Take({"uploads/unseen.mp4"}).status().code(), Code::kPermissionDenied);
  faulty.Clear();
  // A store that is down is no per-key matter either.
  storage::FaultRule down;
  down.method = "Stat";
  faulty.Fail(down);
  Upload("later");
  EXPECT_EQ(intake.Take({"uploads/later.mp4"}).status().code(), Code::kUnavailable);
}

// The original is replaced while it is processed: what was found is
// forgotten (the attempt not counted) and the new bytes are processed.
TEST_F(PipelineTest, AnOriginalReplacedMidAttemptIsProcessedAnew) {
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  stage_.during = [&] { ASSERT_TRUE(store_->Write("uploads/clip.mp4", "new bytes!").ok()); };
  Worker worker = MakeWorker();
  ASSERT_TRUE(*worker.RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kQueued);
  EXPECT_EQ(v.attempts, 0);
  EXPECT_TRUE(catalog_->Attempts(v.id)->empty());
  EXPECT_TRUE(EventTypes(v.id).empty());
  clock_.Advance(3);
  ASSERT_TRUE(*worker.RunOnce());
  v = Find("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.attempts, 1);
  EXPECT_EQ(*store_->Read("processed/clip/clip.mp4", 100), "new bytes!");
  EXPECT_EQ(stage_.calls, 2);
}

// A file that never stops changing is started over once, then counts its
// attempts like any failure: it cannot loop.
TEST_F(PipelineTest, AnOriginalThatKeepsChangingCannotLoop) {
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  Worker worker = MakeWorker();
  int version = 0;
  for (int round = 0; round < 10; ++round) {
    stage_.during = [&] {
      ASSERT_TRUE(store_->Write(Find("clip").current_key, std::string(++version, 'x')).ok());
    };
    clock_.Advance(200);
    auto ran = worker.RunOnce();
    ASSERT_TRUE(ran.ok());
    if (catalog::IsTerminal(Find("clip").state)) break;
  }
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_EQ(v.attempts, 3);
  EXPECT_NE(v.last_error.find("kept changing"), std::string::npos) << v.last_error;
  EXPECT_LE(stage_.calls, 6);
}

TEST_F(PipelineTest, InterruptedOnTheLastAttemptIsSetAside) {
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(catalog_->ClaimNext("dead" + std::to_string(i), clock_.Now(), 30, 3)->has_value());
    clock_.Advance(31);
  }
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kUnableToProcess);
  EXPECT_EQ(v.attempts, 3);
  EXPECT_EQ(stage_.calls, 0);
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.mp4"));
}

TEST_F(PipelineTest, ShutdownReleasesTheAttempt) {
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  stopping_ = true;
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kQueued);
  EXPECT_EQ(v.attempts, 0);
  EXPECT_TRUE(catalog_->Attempts(v.id)->empty());
  EXPECT_TRUE(Exists("uploads/clip.mp4"));
  stopping_ = false;
  ASSERT_TRUE(*MakeWorker().RunOnce());
  EXPECT_EQ(Find("clip").attempts, 1);
}

TEST_F(PipelineTest, TakenNamesGetANumberedFolder) {
  ASSERT_TRUE(store_->Write("processed/clip/clip.mp4", "older").ok());
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  EXPECT_EQ(Find("clip").location, "processed/clip-2");
  EXPECT_EQ(*store_->Read("processed/clip/clip.mp4", 100), "older");
}

// Found by review: a worker that died between moving the original and its
// captions left the captions in uploads/ for good.
TEST_F(PipelineTest, CaptionsFollowAnOriginalMovedByADeadWorker) {
  ASSERT_TRUE(store_->Write("uploads/clip.en.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n").ok());
  ASSERT_NO_FATAL_FAILURE(DieMidPublish(/*original_moved=*/true));
  ASSERT_TRUE(*MakeWorker("w2").RunOnce());
  EXPECT_EQ(Find("clip").state, State::kProcessed);
  EXPECT_TRUE(Exists("processed/clip/clip.en.srt"));
  EXPECT_FALSE(Exists("uploads/clip.en.srt"));
}

TEST_F(PipelineTest, CrashMidPublishIsFinishedByTheNextAttempt) {
  // w1 dies after moving the files but before recording it.
  ASSERT_NO_FATAL_FAILURE(DieMidPublish(/*original_moved=*/true));
  ASSERT_TRUE(*MakeWorker("w2").RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.location, "processed/clip");
  EXPECT_EQ(v.current_key, "processed/clip/clip.mp4");
  EXPECT_TRUE(Exists("processed/clip/vidgate/report.json"));
  EXPECT_TRUE(Exists("processed/clip/vidgate/manifest-sha256.txt"));
  EXPECT_EQ(store_->List("processed/")->size(), 4u);
}

}  // namespace
}  // namespace vidgate::pipeline

namespace vidgate::pipeline {
namespace {

// Settling on a real folder: a file counts once it stopped changing, as
// vidgate's clock sees it, whatever the file's own time says.

// ---- Trust: fixity, the manifest, exact duplicates, verify ----

// A stage result with one rendition and one unlisted file (as an HLS
// segment is), written in `dir`.
StageResult WithOutputs(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "main.mp4") << "rendition bytes";
  std::ofstream(dir / "00001.m4s") << "segment bytes";
  StageResult r = ScriptedStage::Pass();
  catalog::Output o;
  o.codec = "h264";
  r.files.push_back(ProducedFile{(dir / "main.mp4").string(), "renditions/main.mp4", o});
  r.files.push_back(
      ProducedFile{(dir / "00001.m4s").string(), "hls/main/00001.m4s", {}, /*record=*/false});
  return r;
}

TEST_F(PipelineTest, AFiledFolderHasAManifestOfEveryFile) {
  stage_.script.push_back(WithOutputs(dir_ / "out"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  ASSERT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(v.sha256, Sha256Hex("video bytes"));
  auto manifest = store_->Read("processed/clip/vidgate/manifest-sha256.txt", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  auto lines = ParseBagItManifest(*manifest);
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  std::vector<std::string> paths;
  for (const auto& [path, hex] : *lines) {
    paths.push_back(path);
    auto bytes = store_->Read("processed/clip/" + path, 1 << 20);
    ASSERT_TRUE(bytes.ok()) << path;
    EXPECT_EQ(hex, Sha256Hex(*bytes)) << path;
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"clip.json", "clip.mp4", "vidgate/hls/main/00001.m4s",
                                      "vidgate/renditions/main.mp4", "vidgate/report.json"}));
  // The catalog has them all, and the manifest's own.
  auto recorded = catalog_->Checksums(v.id);
  ASSERT_EQ(recorded->size(), 6u);
  EXPECT_EQ((*recorded)[3].path, "vidgate/manifest-sha256.txt");  // sorted by path
  EXPECT_EQ((*recorded)[3].sha256, Sha256Hex(*manifest));
  auto outputs = catalog_->Outputs(v.id);
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].sha256, Sha256Hex("rendition bytes"));
  auto report = nlohmann::json::parse(*store_->Read("processed/clip/vidgate/report.json", 1 << 20));
  EXPECT_EQ(report["original"]["file"], "clip.mp4");
  EXPECT_EQ(report["original"]["sha256"], Sha256Hex("video bytes"));
  EXPECT_EQ(report["original"]["size"], 11);
  EXPECT_EQ(report["outputs"][0]["sha256"], Sha256Hex("rendition bytes"));

  auto intact = VerifyVideo(*store_, *catalog_, v);
  ASSERT_TRUE(intact.ok()) << intact.status().ToString();
  EXPECT_TRUE(intact->ok());
  EXPECT_EQ(intact->files, 6);
}

TEST_F(PipelineTest, VerifyFindsWhatChangedWentMissingOrWasAdded) {
  stage_.script.push_back(WithOutputs(dir_ / "out"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  ASSERT_TRUE(store_->Delete("processed/clip/vidgate/renditions/main.mp4").ok());
  ASSERT_TRUE(store_->Write("processed/clip/vidgate/renditions/main.mp4", "rendition bytez").ok());
  ASSERT_TRUE(store_->Delete("processed/clip/vidgate/hls/main/00001.m4s").ok());
  ASSERT_TRUE(store_->Write("processed/clip/notes.txt", "mine").ok());
  auto found = VerifyVideo(*store_, *catalog_, v);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->ok());
  ASSERT_EQ(found->problems.size(), 3u);
  std::map<std::string, FileProblem> by_path;
  for (const auto& p : found->problems) by_path[p.path] = p;
  EXPECT_EQ(by_path["vidgate/renditions/main.mp4"].problem, "changed");
  EXPECT_EQ(by_path["vidgate/renditions/main.mp4"].found_sha256, Sha256Hex("rendition bytez"));
  EXPECT_EQ(by_path["vidgate/renditions/main.mp4"].recorded_sha256, Sha256Hex("rendition bytes"));
  EXPECT_EQ(by_path["vidgate/hls/main/00001.m4s"].problem, "missing");
  EXPECT_EQ(by_path["notes.txt"].problem, "added");
  EXPECT_EQ(found->ToJson()["problems"].size(), 3u);

  // A video not filed yet has nothing to verify.
  Upload("later");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  auto waiting = VerifyVideo(*store_, *catalog_, Find("later"));
  EXPECT_EQ(waiting.status().code(), Code::kFailedPrecondition);
}

TEST_F(PipelineTest, ADeclaredChecksumThatMatchesPasses) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "video bytes").ok());
  auto md5 = MultiDigest::Create({"md5"});
  md5->Update("video bytes");
  // Upper case is as good as lower case.
  std::string sha256 = Sha256Hex("video bytes");
  for (char& c : sha256) c = static_cast<char>(std::toupper(c));
  const nlohmann::json good = {{"title", "T"},
                               {"checksum", {{"sha256", sha256}, {"md5", md5->Finish()["md5"]}}}};
  ASSERT_TRUE(store_->Write("uploads/clip.json", good.dump()).ok());
  clock_.Advance(2);
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  ASSERT_EQ(v.state, State::kProcessed) << v.last_error;
  bool seen = false;
  for (const auto& c : v.qc["checks"]) {
    if (c["id"] != "fixity") continue;
    seen = true;
    EXPECT_EQ(c["status"], "pass");
    EXPECT_EQ(c["severity"], "error");
  }
  EXPECT_TRUE(seen) << v.qc.dump();
}

TEST_F(PipelineTest, AWrongDeclaredChecksumIsSetAsideOnceWithBothValues) {
  retry_qc_rejections_ = true;  // still never retried: no attempt can change the bytes
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "video bytes").ok());
  const std::string wrong(64, '0');
  const nlohmann::json sidecar = {{"title", "T"}, {"checksum", {{"sha256", wrong}}}};
  ASSERT_TRUE(store_->Write("uploads/clip.json", sidecar.dump()).ok());
  clock_.Advance(2);
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kRejected);
  EXPECT_EQ(v.attempts, 1);
  EXPECT_EQ(stage_.calls, 0) << "not decoded";
  EXPECT_TRUE(Exists("unable_to_process/clip/clip.mp4"));
  EXPECT_NE(v.last_error.find(wrong), std::string::npos) << v.last_error;
  EXPECT_NE(v.last_error.find(Sha256Hex("video bytes")), std::string::npos) << v.last_error;
  EXPECT_NE(v.last_error.find("sha256"), std::string::npos);
  auto report =
      nlohmann::json::parse(*store_->Read("unable_to_process/clip/vidgate/report.json", 1 << 20));
  EXPECT_EQ(report["verdict"], "reject");
  EXPECT_EQ(report["fixity"]["mismatches"][0]["declared"], wrong);
  EXPECT_EQ(report["fixity"]["mismatches"][0]["computed"], Sha256Hex("video bytes"));
  EXPECT_TRUE(Exists("unable_to_process/clip/vidgate/manifest-sha256.txt"));
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.video.rejected"});
  EXPECT_FALSE(*MakeWorker().RunOnce());
}

TEST_F(PipelineTest, AMalformedChecksumIsInvalidMetadataNamingTheKey) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "video bytes").ok());
  ASSERT_TRUE(store_->Write("uploads/clip.json", R"({"title":"T","checksum":{"sha3":"00"}})").ok());
  clock_.Advance(2);
  ASSERT_TRUE(MakeIntake().Scan().ok());
  auto v = Find("clip");
  EXPECT_EQ(v.state, State::kAwaitingMetadata);
  EXPECT_EQ(EventTypes(v.id), std::vector<std::string>{"vidgate.metadata.invalid"});
  auto events = catalog_->EventsAfter(0, 10);
  ASSERT_FALSE(events->empty());
  EXPECT_NE(events->back().document.dump().find("checksum.sha3"), std::string::npos);
}

// Found by review: a filing that stopped after moving the sidecar and
// before moving the original left the sidecar out of the manifest.
TEST_F(PipelineTest, AFilingStoppedBetweenItsMovesStillListsTheSidecar) {
  ASSERT_NO_FATAL_FAILURE(DieMidPublish(/*original_moved=*/false));
  ASSERT_TRUE(*MakeWorker("w2").RunOnce());
  auto v = Find("clip");
  ASSERT_EQ(v.state, State::kProcessed);
  auto lines =
      ParseBagItManifest(*store_->Read("processed/clip/vidgate/manifest-sha256.txt", 4096));
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->count("clip.json"), 1u);
  EXPECT_EQ(lines->count("clip.mp4"), 1u);
  auto verified = VerifyVideo(*store_, *catalog_, v);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->ToJson().dump();
}

// Found by review: the catalog's word that an original is filed was taken
// for a duplicate, though its file had been moved away since.
TEST_F(PipelineTest, ADuplicateNeedsTheOtherOriginalStillInItsFolder) {
  dedupe_ = DedupePolicy::kSkip;
  Upload("first");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  ASSERT_TRUE(store_->Delete("processed/first/first.mp4").ok());  // taken away by hand
  Upload("second");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  auto v = Find("second");
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_FALSE(v.qc.contains("duplicate_of")) << v.qc.dump();
  EXPECT_EQ(stage_.calls, 2) << "processed, not skipped";
}

// Found by review: one unreadable file ended the whole audit.
TEST_F(PipelineTest, VerifyGoesOnPastAFileItCannotRead) {
  stage_.script.push_back(WithOutputs(dir_ / "out"));
  Upload("clip");
  ASSERT_TRUE(MakeIntake().Scan().ok());
  ASSERT_TRUE(*MakeWorker().RunOnce());
  storage::ErrorStore faulty(store_.get());
  storage::FaultRule broken;
  broken.method = "Fetch";
  broken.key_contains = "renditions/main.mp4";
  broken.error = Unavailable("read error on renditions/main.mp4");
  faulty.Fail(broken);
  ASSERT_TRUE(store_->Delete("processed/clip/vidgate/hls/main/00001.m4s").ok());
  auto found = VerifyVideo(faulty, *catalog_, Find("clip"));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->problems.size(), 2u);
  std::map<std::string, FileProblem> by_path;
  for (const auto& p : found->problems) by_path[p.path] = p;
  EXPECT_EQ(by_path["vidgate/renditions/main.mp4"].problem, "unreadable");
  EXPECT_NE(by_path["vidgate/renditions/main.mp4"].detail.find("read error"), std::string::npos);
  EXPECT_EQ(by_path["vidgate/hls/main/00001.m4s"].problem, "missing");
}

// The same bytes under another name, under each [dedupe] policy.
class DedupeTest : public PipelineTest {
 protected:
  // Files "first", then uploads the same bytes as "second" and runs it.
  catalog::Video RunCopy() {
    stage_.script.push_back(WithOutputs(dir_ / "out1"));
    Upload("first");
    EXPECT_TRUE(MakeIntake().Scan().ok());
    EXPECT_TRUE(*MakeWorker().RunOnce());
    first_ = Find("first");
    EXPECT_EQ(first_.state, State::kProcessed);
    stage_.script.push_back(WithOutputs(dir_ / "out2"));
    calls_before_ = stage_.calls;
    Upload("second");
    EXPECT_TRUE(MakeIntake().Scan().ok());
    EXPECT_TRUE(*MakeWorker().RunOnce());
    return Find("second");
  }
  nlohmann::json LastEventData() {
    auto events = catalog_->EventsAfter(0, 100);
    return events->back().document["data"];
  }
  catalog::Video first_;
  int calls_before_ = 0;
};

TEST_F(DedupeTest, FlagProcessesAndMarks) {
  auto v = RunCopy();
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(stage_.calls, calls_before_ + 1);
  EXPECT_EQ(v.verdict, "warn");
  EXPECT_EQ(v.qc["duplicate_of"]["id"], first_.id);
  EXPECT_EQ(LastEventData()["duplicate_of"]["id"], first_.id);
  EXPECT_EQ(LastEventData()["duplicate_of"]["name"], "first");
  EXPECT_EQ(catalog_->Outputs(v.id)->size(), 1u);
}

TEST_F(DedupeTest, RejectSetsAsideWithTheReason) {
  dedupe_ = DedupePolicy::kReject;
  retry_qc_rejections_ = true;
  auto v = RunCopy();
  EXPECT_EQ(v.state, State::kRejected);
  EXPECT_EQ(stage_.calls, calls_before_) << "not decoded";
  EXPECT_TRUE(Exists("unable_to_process/second/second.mp4"));
  EXPECT_NE(v.last_error.find("the same bytes as video " + std::to_string(first_.id) + " 'first'"),
            std::string::npos)
      << v.last_error;
  EXPECT_EQ(LastEventData()["duplicate_of"]["location"], "processed/first");
  EXPECT_FALSE(*MakeWorker().RunOnce()) << "not retried";
}

TEST_F(DedupeTest, SkipFilesWithoutRenditionsPointingAtTheOther) {
  dedupe_ = DedupePolicy::kSkip;
  auto v = RunCopy();
  EXPECT_EQ(v.state, State::kProcessed);
  EXPECT_EQ(stage_.calls, calls_before_) << "not decoded";
  EXPECT_TRUE(catalog_->Outputs(v.id)->empty());
  EXPECT_TRUE(Exists("processed/second/second.mp4"));
  EXPECT_FALSE(Exists("processed/second/vidgate/renditions/main.mp4"));
  EXPECT_EQ(v.qc["duplicate_of"]["location"], "processed/first");
  EXPECT_EQ(LastEventData()["duplicate_of"]["id"], first_.id);
  auto verified = VerifyVideo(*store_, *catalog_, v);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok());
}

class SettleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-settle-test-" + NewUuid());
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
    store_ = std::move(storage::Open("file://" + (dir_ / "store").string())).value();
    ASSERT_TRUE(store_->Prepare().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Intake MakeIntake(double settle_seconds) {
    return Intake({store_.get(), catalog_.get(), &events_, &clock_, log_.get(), nullptr},
                  IntakeOptions{settle_seconds, 60, {"title"}});
  }
  void SetMtime(const std::string& key, double epoch) {
    const std::string path = (dir_ / "store" / key).string();
    timespec times[2];
    for (auto& t : times) {
      t.tv_sec = static_cast<time_t>(epoch);
      t.tv_nsec = 0;
    }
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
  size_t Videos() { return catalog_->ListVideos(std::nullopt)->size(); }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{SystemClock().Now()};
  EventFactory events_{"test", {"log"}};
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
};

TEST_F(SettleTest, AFileFromTheFutureIsTakenOnceItStopsChanging) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "bytes").ok());
  SetMtime("uploads/clip.mp4", clock_.Now() + 86400);  // a camera a day ahead
  Intake intake = MakeIntake(2);
  auto scan = intake.Scan();
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->unsettled);
  EXPECT_EQ(Videos(), 0u);
  clock_.Advance(2);
  scan = intake.Scan();
  EXPECT_FALSE(scan->unsettled);
  EXPECT_EQ(Videos(), 1u);
}

TEST_F(SettleTest, ZeroSecondsStillWaitsForAFileThatIsBeingWritten) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "first bytes").ok());
  Intake intake = MakeIntake(0);
  EXPECT_TRUE(intake.Scan()->unsettled);  // one look is not enough
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "first bytes, and more").ok());
  EXPECT_TRUE(intake.Scan()->unsettled);  // it changed since
  EXPECT_EQ(Videos(), 0u);
  EXPECT_FALSE(intake.Scan()->unsettled);  // unchanged on two looks
  EXPECT_EQ(Videos(), 1u);
}

TEST_F(SettleTest, AnOldFileIsTakenAtFirstSight) {
  ASSERT_TRUE(store_->Write("uploads/clip.mp4", "bytes").ok());
  SetMtime("uploads/clip.mp4", clock_.Now() - 60);
  Intake intake = MakeIntake(2);
  EXPECT_FALSE(intake.Scan()->unsettled);
  EXPECT_EQ(Videos(), 1u);
}

}  // namespace
}  // namespace vidgate::pipeline
