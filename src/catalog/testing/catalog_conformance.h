// catalog_conformance.h: the behaviour every catalog backend must show.
// A backend's test instantiates it with a factory returning a migrated,
// empty catalog.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "catalog/catalog.h"

namespace vidgate::catalog::conformance {

using CatalogFactory = std::function<std::unique_ptr<Catalog>()>;

class CatalogConformance : public ::testing::TestWithParam<CatalogFactory> {
 protected:
  void SetUp() override {
    catalog_ = GetParam()();
    ASSERT_NE(catalog_, nullptr);
  }

  int64_t RegisterQueued(const std::string& key, double now = 100) {
    auto id = catalog_->Register(NewVideo{"n/" + key, key, State::kQueued, now}, {});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(id->has_value());
    return id->value_or(0);
  }

  static OutboxEvent Event(const std::string& id, std::vector<std::string> sinks) {
    return OutboxEvent{id, "vidgate.video.processed", {{"id", id}}, std::move(sinks)};
  }

  std::unique_ptr<Catalog> catalog_;
};

TEST_P(CatalogConformance, MigrateIsIdempotent) {
  ASSERT_TRUE(catalog_->Migrate().ok());
  auto v = catalog_->SchemaVersion();
  ASSERT_TRUE(v.ok());
  EXPECT_GE(*v, 1);
}

// Every migration written is applied (one was once left out of the list).
TEST_P(CatalogConformance, TheSchemaHasEveryMigration) { EXPECT_EQ(*catalog_->SchemaVersion(), 7); }

TEST_P(CatalogConformance, ActiveKeyIsRegisteredOnce) {
  auto first =
      catalog_->Register(NewVideo{"clip", "uploads/clip.mp4", State::kAwaitingMetadata, 1}, {});
  ASSERT_TRUE(first.ok() && first->has_value());
  auto again =
      catalog_->Register(NewVideo{"clip", "uploads/clip.mp4", State::kAwaitingMetadata, 2}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  // Once terminal, the same key is a new video.
  VideoChange done;
  done.video_id = **first;
  done.now = 3;
  done.state = State::kProcessed;
  ASSERT_TRUE(catalog_->Apply(done).ok());
  auto third =
      catalog_->Register(NewVideo{"clip", "uploads/clip.mp4", State::kAwaitingMetadata, 4}, {});
  ASSERT_TRUE(third.ok() && third->has_value());
  EXPECT_NE(**third, **first);
  auto found = catalog_->FindVideoByName("clip");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, **third);
}

TEST_P(CatalogConformance, AFolderNeverNestsInAnotherVideosFolder) {
  auto reserve = [&](int64_t id, const std::string& folder) {
    VideoChange c;
    c.video_id = id;
    c.now = 5;
    c.location = folder;
    return catalog_->Apply(c);
  };
  const int64_t a = RegisterQueued("uploads/a.mp4");
  const int64_t nested = RegisterQueued("uploads/a/clip.mp4");
  const int64_t other = RegisterQueued("uploads/ab.mp4");
  const int64_t odd = RegisterQueued("uploads/x.mp4");
  ASSERT_TRUE(reserve(a, "processed/a").ok());
  // Inside a's folder, or a's folder itself: taken.
  EXPECT_EQ(reserve(nested, "processed/a/clip").code(), Code::kAlreadyExists);
  EXPECT_EQ(reserve(nested, "processed/a").code(), Code::kAlreadyExists);
  EXPECT_EQ(*catalog_->FolderClashes("processed/a/clip", nested),
            std::vector<std::string>{"processed/a"});
  EXPECT_TRUE(catalog_->FolderClashes("processed/a", a)->empty());  // its own
  // A name that only starts the same way is no clash.
  ASSERT_TRUE(reserve(other, "processed/ab").ok());
  EXPECT_TRUE(reserve(nested, "processed/a-2/clip").ok());
  // Holding another video's folder is a clash too.
  EXPECT_EQ(*catalog_->FolderClashes("processed", odd),
            (std::vector<std::string>{"processed/a", "processed/a-2/clip", "processed/ab"}));
  // LIKE's and SQL's special characters are plain characters here.
  ASSERT_TRUE(reserve(odd, "processed/%_\\'\xc3\xa9").ok());
  EXPECT_TRUE(catalog_->FolderClashes("processed/%", a)->empty());
  EXPECT_TRUE(catalog_->FolderClashes("processed/_", a)->empty());
  EXPECT_EQ(catalog_->FolderClashes("processed/%_\\'\xc3\xa9/x", a)->size(), 1u);
}

TEST_P(CatalogConformance, ActiveKeysIncludeMovesInProgress) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  VideoChange c;
  c.video_id = id;
  c.now = 2;
  c.sidecar_key = "uploads/a.json";
  c.pending_key = "failed/a.mp4";
  c.pending_sidecar_key = "failed/a.json";
  ASSERT_TRUE(catalog_->Apply(c).ok());
  auto keys = catalog_->ActiveKeys();
  ASSERT_TRUE(keys.ok());
  std::sort(keys->begin(), keys->end());
  EXPECT_EQ(*keys, (std::vector<std::string>{"failed/a.json", "failed/a.mp4", "uploads/a.json",
                                             "uploads/a.mp4"}));
  VideoChange done;
  done.video_id = id;
  done.now = 3;
  done.state = State::kProcessed;
  ASSERT_TRUE(catalog_->Apply(done).ok());
  EXPECT_TRUE(catalog_->ActiveKeys()->empty());
}

TEST_P(CatalogConformance, ListIsNewestFirstAndFilters) {
  int64_t a = RegisterQueued("uploads/a.mp4", 1);
  int64_t b = RegisterQueued("uploads/b.mp4", 2);
  auto all = catalog_->ListVideos(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, b);
  EXPECT_EQ((*all)[1].id, a);
  EXPECT_EQ(catalog_->ListVideos(State::kProcessed)->size(), 0u);
  EXPECT_EQ(catalog_->ListVideos(State::kQueued)->size(), 2u);
  EXPECT_EQ(FindVideo(*catalog_, std::to_string(a))->current_key, "uploads/a.mp4");
  EXPECT_EQ(FindVideo(*catalog_, "id:" + std::to_string(a))->current_key, "uploads/a.mp4");
  EXPECT_EQ(FindVideo(*catalog_, "nope").status().code(), Code::kNotFound);
  // A list reads no documents; one video has them all.
  VideoChange c;
  c.video_id = a;
  c.now = 3;
  c.qc = nlohmann::json{{"verdict", "pass"}, {"series", {{"luma", {1, 2, 3}}}}};
  c.metadata = nlohmann::json{{"title", "A"}};
  ASSERT_TRUE(catalog_->Apply(c).ok());
  const auto listed = catalog_->ListVideos(std::nullopt);
  ASSERT_TRUE(listed.ok());
  for (const auto& v : *listed) {
    EXPECT_TRUE(v.qc.is_null() && v.metadata.is_null() && v.probe.is_null());
  }
  EXPECT_EQ(catalog_->GetVideo(a)->qc["verdict"], "pass");
  EXPECT_EQ(catalog_->GetVideo(a)->metadata["title"], "A");
}

TEST_P(CatalogConformance, AnAllDigitNameIsNeverShadowedByAnId) {
  const int64_t first = RegisterQueued("uploads/first.mp4");  // named "n/uploads/first.mp4"
  auto digits =
      catalog_->Register(NewVideo{std::to_string(first),
                                  "uploads/" + std::to_string(first) + ".mp4", State::kQueued, 3},
                         {});
  ASSERT_TRUE(digits.ok() && digits->has_value());
  const std::string ref = std::to_string(first);
  auto ambiguous = FindVideo(*catalog_, ref);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), Code::kInvalidArgument);
  EXPECT_NE(ambiguous.status().message().find("id:" + ref), std::string::npos);
  EXPECT_NE(ambiguous.status().message().find("name:" + ref), std::string::npos);
  EXPECT_EQ(FindVideo(*catalog_, "id:" + ref)->id, first);
  EXPECT_EQ(FindVideo(*catalog_, "name:" + ref)->id, **digits);
  // A number nobody is named is an id; a number that is no id, a name.
  EXPECT_EQ(FindVideo(*catalog_, std::to_string(**digits))->id, **digits);
  EXPECT_EQ(FindVideo(*catalog_, "id:x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FindVideo(*catalog_, "id:999999").status().code(), Code::kNotFound);
}

TEST_P(CatalogConformance, ClaimStartsAnAttemptAndHoldsTheLease) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  auto claim = catalog_->ClaimNext("w1", 100, 30, 5);
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  ASSERT_TRUE(claim->has_value());
  EXPECT_EQ((*claim)->video.id, id);
  EXPECT_EQ((*claim)->attempt_number, 1);
  EXPECT_EQ((*claim)->video.state, State::kProcessing);
  EXPECT_FALSE((*claim)->interrupted);
  // Nobody else gets it while the lease holds.
  EXPECT_FALSE(catalog_->ClaimNext("w2", 110, 30, 5)->has_value());
  EXPECT_TRUE(catalog_->RenewLease(id, "w1", 200).ok());
  EXPECT_EQ(catalog_->RenewLease(id, "w2", 200).code(), Code::kFailedPrecondition);
}

TEST_P(CatalogConformance, ExpiredLeaseIsTakenBackAndRecordedInterrupted) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  ASSERT_TRUE(catalog_->ClaimNext("w1", 100, 30, 5)->has_value());
  auto claim = catalog_->ClaimNext("w2", 131, 30, 5);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_TRUE((*claim)->interrupted);
  EXPECT_EQ((*claim)->attempt_number, 2);
  auto attempts = catalog_->Attempts(id);
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].outcome, "interrupted");
  EXPECT_TRUE((*attempts)[0].retryable);
  EXPECT_EQ((*attempts)[1].outcome, "running");
  // The old holder is fenced out.
  VideoChange late;
  late.video_id = id;
  late.now = 140;
  late.state = State::kProcessed;
  late.lease_owner = "w1";
  EXPECT_EQ(catalog_->Apply(late).code(), Code::kFailedPrecondition);
  EXPECT_EQ(catalog_->GetVideo(id)->state, State::kProcessing);
}

TEST_P(CatalogConformance, ExpectedStateGuardsAChange) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  ASSERT_TRUE(catalog_->ClaimNext("w1", 100, 30, 5)->has_value());
  // A stale view (the video was still awaiting its metadata) changes nothing.
  VideoChange stale;
  stale.video_id = id;
  stale.now = 101;
  stale.state = State::kQueued;
  stale.job = VideoChange::Job::kSchedule;
  stale.job_available_at = 101;
  stale.expect_state = State::kAwaitingMetadata;
  EXPECT_EQ(catalog_->Apply(stale).code(), Code::kFailedPrecondition);
  EXPECT_EQ(catalog_->GetVideo(id)->state, State::kProcessing);
  EXPECT_FALSE(catalog_->ClaimNext("w2", 102, 30, 5)->has_value());
  VideoChange missing;
  missing.video_id = 9999;
  missing.now = 1;
  missing.expect_state = State::kQueued;
  EXPECT_EQ(catalog_->Apply(missing).code(), Code::kNotFound);
}

TEST_P(CatalogConformance, ExhaustedClaimStartsNoAttempt) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  ASSERT_TRUE(catalog_->ClaimNext("w1", 100, 30, 1)->has_value());
  auto claim = catalog_->ClaimNext("w2", 200, 30, 1);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_TRUE((*claim)->exhausted);
  EXPECT_EQ(catalog_->Attempts(id)->size(), 1u);
}

TEST_P(CatalogConformance, ScheduledRetryWaitsForItsTime) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  ASSERT_TRUE(catalog_->ClaimNext("w1", 100, 30, 5)->has_value());
  VideoChange fail;
  fail.video_id = id;
  fail.now = 101;
  fail.state = State::kRetryWait;
  fail.current_key = "failed/a.mp4";
  fail.job = VideoChange::Job::kSchedule;
  fail.job_available_at = 160;
  fail.end_attempt = AttemptEnd{"failed", "disk on fire", true};
  fail.lease_owner = "w1";
  ASSERT_TRUE(catalog_->Apply(fail).ok());
  EXPECT_FALSE(catalog_->ClaimNext("w1", 150, 30, 5)->has_value());
  auto pending = catalog_->PendingWork();
  EXPECT_EQ(pending->jobs, 1);
  EXPECT_DOUBLE_EQ(pending->next_due.value_or(0), 160);
  EXPECT_DOUBLE_EQ(catalog_->GetVideo(id)->next_attempt_at, 160);
  ASSERT_TRUE(catalog_->RetryNow(id, 151).ok());
  auto claim = catalog_->ClaimNext("w1", 152, 30, 5);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->attempt_number, 2);
  auto attempts = catalog_->Attempts(id);
  EXPECT_EQ((*attempts)[0].error, "disk on fire");
}

TEST_P(CatalogConformance, OutboxDeliversOncePerSink) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  VideoChange done;
  done.video_id = id;
  done.now = 200;
  done.state = State::kProcessed;
  done.job = VideoChange::Job::kRemove;
  done.events.push_back(Event("e1", {"log", "webhook:x"}));
  ASSERT_TRUE(catalog_->Apply(done).ok());
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 2);
  auto due = catalog_->TakeDueDeliveries(200, 10, 60);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].document["id"], "e1");
  // Taken deliveries are hidden from other dispatchers for a while.
  EXPECT_TRUE(catalog_->TakeDueDeliveries(201, 10, 60)->empty());
  ASSERT_TRUE(catalog_->MarkDelivered((*due)[0].id, 202).ok());
  ASSERT_TRUE(catalog_->MarkDeliveryFailed((*due)[1].id, 205, "HTTP 503", false).ok());
  auto again = catalog_->TakeDueDeliveries(205, 10, 60);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);
  ASSERT_TRUE(catalog_->MarkDeliveryFailed((*again)[0].id, 0, "HTTP 503", true).ok());
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 0);
  auto records = catalog_->Notifications(id);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_GT((*records)[0].delivered_at, 0);
  EXPECT_TRUE((*records)[1].gave_up);
  EXPECT_EQ((*records)[1].last_error, "HTTP 503");
}

TEST_P(CatalogConformance, ASinkThatFailsMovesItsWholeBacklogOneTry) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  VideoChange c;
  c.video_id = id;
  c.now = 200;
  for (int i = 0; i < 5; ++i) c.events.push_back(Event("e" + std::to_string(i), {"log", "hook"}));
  ASSERT_TRUE(catalog_->Apply(c).ok());
  // One lane per sink: each takes only its own.
  auto hook = catalog_->TakeDueDeliveries(200, 2, 60, "hook");
  ASSERT_EQ(hook->size(), 2u);
  for (const auto& d : *hook) EXPECT_EQ(d.sink, "hook");
  // The first fails: the sink's due backlog (not what another lane holds)
  // counts a try and waits; the log's deliveries are untouched.
  ASSERT_TRUE(catalog_->MarkDeliveryFailed((*hook)[0].id, 210, "timed out", false).ok());
  EXPECT_EQ(*catalog_->MarkSinkFailed("hook", 200, 210, "not sent: hook failed", 2), 3);
  EXPECT_TRUE(catalog_->TakeDueDeliveries(209, 10, 60, "hook")->empty());
  EXPECT_EQ(catalog_->TakeDueDeliveries(209, 10, 60, "log")->size(), 5u);
  // At the second try, the backlog is given up (max 2 tries).
  EXPECT_EQ(*catalog_->MarkSinkFailed("hook", 211, 220, "still down", 2), 4);
  auto records = *catalog_->Notifications(id);
  int given_up = 0;
  for (const auto& r : records) given_up += r.sink == "hook" && r.gave_up;
  EXPECT_EQ(given_up, 4);  // the one still held (taken at 200, hold 60) waits for its lane
  // Deliveries to a sink that is no longer configured are given up.
  EXPECT_EQ(*catalog_->GiveUpUnknownSinks({"log"}, "no such sink"), 1);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 5);  // the log's
}

TEST_P(CatalogConformance, RegisterWritesEventsInTheSameTransaction) {
  auto id = catalog_->Register(NewVideo{"x", "uploads/x.mp4", State::kAwaitingMetadata, 1},
                               {Event("e2", {"log"})});
  ASSERT_TRUE(id.ok() && id->has_value());
  EXPECT_EQ(catalog_->Notifications(**id)->size(), 1u);
  EXPECT_EQ(catalog_->PendingWork()->awaiting_notice, 1);
}

TEST_P(CatalogConformance, OutputsAndJsonColumnsRoundTrip) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  VideoChange c;
  c.video_id = id;
  c.now = 5;
  c.metadata = nlohmann::json{{"title", "T \xC3\xA9"}};
  c.probe = nlohmann::json{{"format", {{"name", "mp4"}}}};
  c.outputs.push_back(Output{"processed/a/renditions/main.mp4", 1234, "h264", 640, 360, 2.5, ""});
  ASSERT_TRUE(catalog_->Apply(c).ok());
  auto v = catalog_->GetVideo(id);
  EXPECT_EQ(v->metadata["title"], "T \xC3\xA9");
  EXPECT_EQ(v->probe["format"]["name"], "mp4");
  auto outs = catalog_->Outputs(id);
  ASSERT_EQ(outs->size(), 1u);
  EXPECT_EQ((*outs)[0].codec, "h264");
  EXPECT_DOUBLE_EQ((*outs)[0].duration, 2.5);
}

// Fixity: the original's SHA-256, each output's, and the filed folder's
// files, replaced as a whole when the video is filed again.
TEST_P(CatalogConformance, ChecksumsRoundTrip) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  const std::string hex(64, 'a');
  VideoChange c;
  c.video_id = id;
  c.now = 5;
  c.sha256 = hex;
  c.outputs.push_back(
      Output{"processed/a/vidgate/renditions/main.mp4", 12, "h264", 2, 2, 1, std::string(64, 'b')});
  c.checksums = std::vector<FileChecksum>{{"vidgate/report.json", 3, std::string(64, 'c')},
                                          {"a.mp4", 10, hex},
                                          {"a \xE2\x82\xAC%.json", 2, std::string(64, 'd')}};
  ASSERT_TRUE(catalog_->Apply(c).ok());
  EXPECT_EQ(catalog_->GetVideo(id)->sha256, hex);
  EXPECT_EQ((*catalog_->Outputs(id))[0].sha256, std::string(64, 'b'));
  auto files = catalog_->Checksums(id);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "a \xE2\x82\xAC%.json");  // byte order
  EXPECT_EQ((*files)[1].path, "a.mp4");
  EXPECT_EQ((*files)[1].size, 10);
  EXPECT_EQ((*files)[2].sha256, std::string(64, 'c'));
  VideoChange again;
  again.video_id = id;
  again.now = 6;
  again.checksums = std::vector<FileChecksum>{{"a.mp4", 10, hex}};
  ASSERT_TRUE(catalog_->Apply(again).ok());
  EXPECT_EQ(catalog_->Checksums(id)->size(), 1u);
  EXPECT_TRUE(catalog_->Checksums(id + 100)->empty());
}

// Exact duplicates are looked for among filed videos whose original is
// still in their folder: not among those in progress, nor one whose
// original went back to uploads/ (run again).
TEST_P(CatalogConformance, FiledWithSha256FindsFiledSameBytes) {
  const std::string hex(64, 'e');
  auto file = [&](const std::string& key, State state, const std::string& location,
                  const std::string& current) {
    int64_t id = RegisterQueued(key);
    VideoChange c;
    c.video_id = id;
    c.now = 5;
    c.sha256 = hex;
    c.state = state;
    if (!location.empty()) c.location = location;
    c.current_key = current;
    EXPECT_TRUE(catalog_->Apply(c).ok());
    return id;
  };
  const int64_t processed =
      file("uploads/p.mp4", State::kProcessed, "processed/p", "processed/p/p.mp4");
  const int64_t rejected =
      file("uploads/r.mp4", State::kRejected, "unable_to_process/r", "unable_to_process/r/r.mp4");
  file("uploads/q.mp4", State::kProcessing, "", "uploads/q.mp4");
  file("uploads/g.mp4", State::kRejected, "unable_to_process/g", "uploads/g.mp4");  // run again
  const int64_t asking = file("uploads/n.mp4", State::kProcessing, "", "uploads/n.mp4");
  auto found = catalog_->FiledWithSha256(hex, asking);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].id, processed);
  EXPECT_EQ((*found)[1].id, rejected);
  EXPECT_EQ((*found)[0].sha256, hex);
  EXPECT_EQ(catalog_->FiledWithSha256(hex, processed)->size(), 1u);
  EXPECT_TRUE(catalog_->FiledWithSha256(std::string(64, 'f'), asking)->empty());
  EXPECT_TRUE(catalog_->FiledWithSha256("", asking)->empty());
}

// Near duplicates: a fingerprint and its index entries, found only for
// filed videos, replaced as a whole.
TEST_P(CatalogConformance, FingerprintsAreIndexedForFiledVideos) {
  auto filed = [&](const std::string& name, State state) {
    const int64_t id = RegisterQueued("uploads/" + name + ".mp4");
    VideoChange c;
    c.video_id = id;
    c.now = 5;
    c.state = state;
    if (state != State::kProcessing) {
      c.location = "processed/" + name;
      c.current_key = "processed/" + name + "/" + name + ".mp4";
    }
    c.fingerprint = FingerprintRecord{"00000000000000ff", {{7, 0}, {65543, 0}, {9, 4}}};
    EXPECT_TRUE(catalog_->Apply(c).ok());
    return id;
  };
  const int64_t a = filed("a", State::kProcessed);
  const int64_t busy = filed("busy", State::kProcessing);
  const int64_t asking = RegisterQueued("uploads/new.mp4");
  EXPECT_EQ(*catalog_->FingerprintOf(a), "00000000000000ff");
  EXPECT_EQ(*catalog_->FingerprintOf(busy), "00000000000000ff");
  EXPECT_EQ(*catalog_->FingerprintOf(asking), "");
  auto hits = catalog_->FingerprintHits({7, 9, 12345}, asking, 100);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u) << "only the filed video's";
  for (const auto& h : *hits) {
    EXPECT_EQ(h.video_id, a);
    EXPECT_EQ(h.window, h.key == 7 ? 0 : 4);
  }
  EXPECT_TRUE(catalog_->FingerprintHits({7}, a, 100)->empty()) << "not its own";
  EXPECT_EQ(catalog_->FingerprintHits({7, 9}, asking, 1)->size(), 1u);
  // Many keys at once (more than one statement takes).
  std::vector<int64_t> many(1000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int64_t>(i);
  EXPECT_EQ(catalog_->FingerprintHits(many, asking, 100)->size(), 2u);
  VideoChange again;
  again.video_id = a;
  again.now = 6;
  again.fingerprint = FingerprintRecord{"0000000000000001", {{11, 2}}};
  ASSERT_TRUE(catalog_->Apply(again).ok());
  EXPECT_TRUE(catalog_->FingerprintHits({7, 9}, asking, 100)->empty());
  EXPECT_EQ(catalog_->FingerprintHits({11}, asking, 100)->size(), 1u);
}

// Lists leave the documents out but show their digest: the title, the QC
// verdict and the probed duration, kept as the documents change.
TEST_P(CatalogConformance, ListsShowTheDocumentsDigest) {
  int64_t id = RegisterQueued("uploads/a.mp4");
  VideoChange c;
  c.video_id = id;
  c.now = 5;
  c.metadata = nlohmann::json{{"title", "Harbour \xC3\xA9"}};
  c.probe = nlohmann::json{{"format", {{"name", "mp4"}, {"duration", 12.5}}}};
  c.qc = nlohmann::json{{"verdict", "warn"}};
  ASSERT_TRUE(catalog_->Apply(c).ok());
  auto page = catalog_->FindVideos(VideoQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_TRUE((*page)[0].metadata.is_null()) << "no document in a list";
  EXPECT_EQ((*page)[0].title, "Harbour \xC3\xA9");
  EXPECT_EQ((*page)[0].verdict, "warn");
  EXPECT_DOUBLE_EQ((*page)[0].duration, 12.5);
  // A title that is no string, a report without a verdict: none.
  VideoChange odd;
  odd.video_id = id;
  odd.now = 6;
  odd.metadata = nlohmann::json{{"title", 42}};
  odd.qc = nlohmann::json::object();
  ASSERT_TRUE(catalog_->Apply(odd).ok());
  auto again = catalog_->ListVideos(std::nullopt);
  EXPECT_EQ((*again)[0].title, "");
  EXPECT_EQ((*again)[0].verdict, "");
  EXPECT_DOUBLE_EQ((*again)[0].duration, 12.5);
}

TEST_P(CatalogConformance, NoticesAreRecordedOncePerFingerprint) {
  auto first = catalog_->RecordNotice("uploads/x.json", "v1", Event("n1", {"log"}), 1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*catalog_->RecordNotice("uploads/x.json", "v1", Event("n2", {"log"}), 2));
  EXPECT_TRUE(*catalog_->RecordNotice("uploads/x.json", "v2", Event("n3", {"log"}), 3));
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 2);
}

// Two processes judge the same sidecar from the same reading: the first
// records its notice, the second's change (made from the old reading) is
// refused, so the notice goes out once.
TEST_P(CatalogConformance, ANoticeFromAStaleReadingIsRefused) {
  auto id = catalog_->Register(NewVideo{"n", "uploads/n.mp4", State::kAwaitingMetadata, 1}, {});
  ASSERT_TRUE(id.ok() && id->has_value());
  auto notice = [&](const std::string& event_id, const std::string& fingerprint) {
    VideoChange c;
    c.video_id = **id;
    c.now = 5;
    c.expect_state = State::kAwaitingMetadata;
    c.expect_notice_sent = false;
    c.expect_sidecar_fingerprint = "";
    c.metadata_notice_sent = true;
    c.sidecar_fingerprint = fingerprint;
    c.events.push_back(Event(event_id, {"log"}));
    return catalog_->Apply(c);
  };
  ASSERT_TRUE(notice("first", "").ok());
  Status second = notice("second", "");
  EXPECT_EQ(second.code(), Code::kFailedPrecondition) << second.ToString();
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 1);
  // A sidecar judged meanwhile (its fingerprint recorded) refuses it too.
  VideoChange reset;
  reset.video_id = **id;
  reset.now = 6;
  reset.metadata_notice_sent = false;
  reset.sidecar_fingerprint = "uploads/n.json:2:1.0:";
  ASSERT_TRUE(catalog_->Apply(reset).ok());
  EXPECT_EQ(notice("third", "x").code(), Code::kFailedPrecondition);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 1);
}

TEST_P(CatalogConformance, AnAlarmChangesOnceAndQueuesItsEventOnce) {
  const nlohmann::json rule = {{"metric", "failed_attempts"}};
  auto fired = catalog_->SetAlarm("a", true, 3, rule, Event("t1", {"log"}), 10);
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_TRUE(*fired);
  // Still firing: no second event, the figure and the check are recorded.
  EXPECT_FALSE(*catalog_->SetAlarm("a", true, 5, rule, Event("t2", {"log"}), 20));
  auto alarms = catalog_->Alarms();
  ASSERT_TRUE(alarms.ok());
  ASSERT_EQ(alarms->size(), 1u);
  EXPECT_TRUE((*alarms)[0].firing);
  EXPECT_DOUBLE_EQ((*alarms)[0].since, 10);
  EXPECT_DOUBLE_EQ((*alarms)[0].checked_at, 20);
  EXPECT_DOUBLE_EQ((*alarms)[0].value, 5);
  EXPECT_EQ((*alarms)[0].detail, rule);
  EXPECT_TRUE(*catalog_->SetAlarm("a", false, 0, rule, Event("r1", {"log"}), 30));
  EXPECT_FALSE(*catalog_->SetAlarm("a", false, 0, rule, Event("r2", {"log"}), 40));
  // An alarm that never fired is resolved: clearing it sends nothing.
  EXPECT_FALSE(*catalog_->SetAlarm("b", false, 0, rule, Event("r3", {"log"}), 40));
  alarms = catalog_->Alarms();
  ASSERT_EQ(alarms->size(), 1u);
  EXPECT_FALSE((*alarms)[0].firing);
  EXPECT_DOUBLE_EQ((*alarms)[0].since, 30);
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 2);  // t1 and r1
}

TEST_P(CatalogConformance, AnAlarmSeenByManyAtOnceIsSentOnce) {
  for (bool firing : {true, false}) {
    std::atomic<int> changed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto id = std::string(firing ? "t" : "r") + std::to_string(i);
        auto r = catalog_->SetAlarm("race", firing, i, {}, Event(id, {"log"}), 10 + i);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        if (r.ok() && *r) ++changed;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(changed.load(), 1) << (firing ? "triggered" : "resolved");
  }
  EXPECT_EQ(catalog_->PendingWork()->deliveries, 2);
}

TEST_P(CatalogConformance, FindVideosPagesNewestFirstAndSearches) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(RegisterQueued("uploads/v" + std::to_string(i) + ".mp4", i));
  VideoChange titled;
  titled.video_id = ids[1];
  titled.now = 9;
  titled.metadata = nlohmann::json{{"title", "Harbour At Dawn"}};
  titled.state = State::kProcessed;
  titled.job = VideoChange::Job::kRemove;
  ASSERT_TRUE(catalog_->Apply(titled).ok());

  VideoQuery page;
  page.limit = 2;
  auto first = catalog_->FindVideos(page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, ids[4]);
  EXPECT_EQ((*first)[1].id, ids[3]);
  EXPECT_TRUE((*first)[0].metadata.is_null());  // a page reads no documents
  page.before_id = (*first)[1].id;
  auto second = catalog_->FindVideos(page);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*second)[0].id, ids[2]);
  page.before_id = (*second)[1].id;
  EXPECT_EQ(catalog_->FindVideos(page)->size(), 1u);

  VideoQuery by_state;
  by_state.state = State::kProcessed;
  ASSERT_EQ(catalog_->FindVideos(by_state)->size(), 1u);
  EXPECT_EQ((*catalog_->FindVideos(by_state))[0].id, ids[1]);

  VideoQuery search;
  search.text = "harbour";  // the title, case ignored
  ASSERT_EQ(catalog_->FindVideos(search)->size(), 1u);
  search.text = "n/uploads/v3";  // the name
  ASSERT_EQ(catalog_->FindVideos(search)->size(), 1u);
  EXPECT_EQ((*catalog_->FindVideos(search))[0].id, ids[3]);
  // The user's wildcards are literal.
  for (const char* literal : {"%", "_", "\\", "'"}) {
    search.text = literal;
    auto none = catalog_->FindVideos(search);
    ASSERT_TRUE(none.ok()) << literal << ": " << none.status().ToString();
    EXPECT_EQ(none->size(), 0u) << literal;
  }
}

TEST_P(CatalogConformance, StatsCountTheFleetAndTheWindow) {
  int64_t a = RegisterQueued("uploads/a.mp4", 100);
  RegisterQueued("uploads/b.mp4", 110);
  ASSERT_TRUE(catalog_
                  ->Register(NewVideo{"c", "uploads/c.mp4", State::kAwaitingMetadata, 120},
                             {Event("m1", {"log"})})
                  .ok());
  auto claim = catalog_->ClaimNext("w1", 130, 60, 5);  // takes a (due first)
  ASSERT_TRUE(claim.ok() && claim->has_value());
  auto stats = catalog_->Stats(140, 3600);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->videos.size(), std::size(kAllStates));
  EXPECT_EQ(stats->Count(State::kQueued), 1);
  EXPECT_EQ(stats->Count(State::kProcessing), 1);
  EXPECT_EQ(stats->Count(State::kAwaitingMetadata), 1);
  EXPECT_EQ(stats->Count(State::kProcessed), 0);
  EXPECT_EQ(stats->workers_busy, 1);
  EXPECT_DOUBLE_EQ(stats->oldest_queued_seconds, 30);  // b, due at 110
  EXPECT_EQ(stats->outbox_backlog, 1);
  EXPECT_EQ(stats->events["vidgate.video.processed"], 1);  // Event()'s type
  EXPECT_TRUE(stats->attempts.empty());

  VideoChange done;
  done.video_id = a;
  done.now = 150;
  done.state = State::kProcessed;
  done.job = VideoChange::Job::kRemove;
  done.end_attempt = AttemptEnd{"succeeded", "", false};
  ASSERT_TRUE(catalog_->Apply(done).ok());
  stats = catalog_->Stats(160, 3600);
  EXPECT_EQ(stats->attempts["succeeded"], 1);
  EXPECT_EQ(stats->workers_busy, 0);
  EXPECT_EQ(stats->Count(State::kProcessed), 1);
  // Outside the window, an attempt and an event no longer count; the states do.
  stats = catalog_->Stats(150 + 3600, 3600);
  EXPECT_TRUE(stats->attempts.empty());
  EXPECT_TRUE(stats->events.empty());
  EXPECT_EQ(stats->Count(State::kProcessed), 1);
  // A lease that ran out is queued work again, waiting since it was due.
  auto b_claim = catalog_->ClaimNext("w2", 200, 10, 5);
  ASSERT_TRUE(b_claim.ok() && b_claim->has_value());
  stats = catalog_->Stats(205, 3600);
  EXPECT_EQ(stats->workers_busy, 1);
  stats = catalog_->Stats(300, 3600);
  EXPECT_EQ(stats->workers_busy, 0);
  EXPECT_GT(stats->oldest_queued_seconds, 0);
}

// The change feed: every change of state is a log line naming the state it
// entered; events come in the outbox's order; the head is where new ones
// start.
TEST_P(CatalogConformance, TheFeedHasEveryChangeOfStateAndEveryEvent) {
  auto head = catalog_->FeedHead();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto id =
      catalog_->Register(NewVideo{"a/clip", "uploads/a/clip.mp4", State::kAwaitingMetadata, 1},
                         {Event("e1", {"log"})});
  ASSERT_TRUE(id.ok() && id->has_value());
  VideoChange queued;
  queued.video_id = **id;
  queued.now = 2;
  queued.state = State::kQueued;
  queued.job = VideoChange::Job::kSchedule;
  queued.job_available_at = 2;
  queued.events.push_back(Event("e2", {"log"}));
  ASSERT_TRUE(catalog_->Apply(queued).ok());
  ASSERT_TRUE(catalog_->ClaimNext("w", 3, 30, 5)->has_value());
  auto log = catalog_->LogAfter(head->first, 100);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].state, "awaiting_metadata");
  EXPECT_EQ((*log)[0].name, "a/clip");
  EXPECT_EQ((*log)[0].video_id, **id);
  EXPECT_EQ((*log)[1].state, "queued");
  EXPECT_EQ((*log)[1].message, "now queued");
  EXPECT_EQ((*log)[2].state, "processing");
  EXPECT_DOUBLE_EQ((*log)[2].at, 3);
  EXPECT_LT((*log)[0].id, (*log)[1].id);
  EXPECT_EQ(catalog_->LogAfter((*log)[0].id, 1)->front().id, (*log)[1].id);
  auto events = catalog_->EventsAfter(head->second, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].document["id"], "e1");
  EXPECT_EQ((*events)[1].document["id"], "e2");
  auto now = catalog_->FeedHead();
  EXPECT_EQ(now->first, log->back().id);
  EXPECT_EQ(now->second, events->back().seq);
  EXPECT_TRUE(catalog_->LogAfter(now->first, 100)->empty());
  EXPECT_TRUE(catalog_->EventsAfter(now->second, 100)->empty());
}

}  // namespace vidgate::catalog::conformance
