// The Prometheus figures: what the pipeline tells becomes counters and
// histograms, the catalog's figures become gauges, and promtool, the
// Prometheus project's own checker, accepts the exposition.
#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/util.h"

namespace vidgate::server {
namespace {

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-metrics-test-" + NewUuid());
    std::filesystem::create_directories(dir_);
    catalog_ = std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
    ASSERT_TRUE(catalog_->Migrate().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The line of `text` that starts with `series` followed by a space; "" if none.
  static std::string Line(const std::string& text, const std::string& series) {
    size_t at = 0;
    while ((at = text.find(series + " ", at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n') return text.substr(at, text.find('\n', at) - at);
      at += series.size();
    }
    return "";
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  FakeClock clock_;
};

TEST_F(MetricsTest, CountsWhatThePipelineTellsAndGaugesTheCatalog) {
  Metrics metrics(catalog_.get(), &clock_);
  pipeline::AttemptReport processed;
  processed.outcome = "processed";
  processed.fetch_seconds = 0.2;
  processed.process_seconds = 3;
  processed.probe_seconds = 0.04;
  processed.publish_seconds = 0.5;
  processed.bytes_in = 1000;
  processed.bytes_out = 400;
  processed.since_registered_seconds = 42;
  metrics.AttemptFinished(processed);
  pipeline::AttemptReport failed = processed;
  failed.outcome = "failed";
  failed.bytes_out = 0;
  metrics.AttemptFinished(failed);
  metrics.EventRecorded("vidgate.metadata.missing");
  metrics.DeliveryTried("webhook:ops", "delivered");
  metrics.DeliveryTried("webhook:ops", "failed");
  ASSERT_TRUE(
      catalog_->Register({"a", "uploads/a.mp4", catalog::State::kQueued, clock_.Now()}, {}).ok());
  ASSERT_TRUE(
      catalog_
          ->Register({"b", "uploads/b.mp4", catalog::State::kAwaitingMetadata, clock_.Now()}, {})
          .ok());
  clock_.Advance(30);

  const std::string text = metrics.Scrape();
  EXPECT_EQ(Line(text, R"(vidgate_attempts_total{outcome="processed"})"),
            R"(vidgate_attempts_total{outcome="processed"} 1)");
  EXPECT_EQ(Line(text, R"(vidgate_attempts_total{outcome="failed"})"),
            R"(vidgate_attempts_total{outcome="failed"} 1)");
  // Present before it ever happens, so a rate sees its first increase.
  EXPECT_EQ(Line(text, R"(vidgate_attempts_total{outcome="unable_to_process"})"),
            R"(vidgate_attempts_total{outcome="unable_to_process"} 0)");
  EXPECT_EQ(Line(text, R"(vidgate_events_total{type="vidgate.metadata.missing"})"),
            R"(vidgate_events_total{type="vidgate.metadata.missing"} 1)");
  EXPECT_EQ(Line(text, R"(vidgate_notifications_total{result="failed",sink="webhook:ops"})"),
            R"(vidgate_notifications_total{result="failed",sink="webhook:ops"} 1)");
  EXPECT_EQ(Line(text, R"(vidgate_bytes_total{direction="in"})"),
            R"(vidgate_bytes_total{direction="in"} 2000)");
  EXPECT_EQ(Line(text, R"(vidgate_bytes_total{direction="out"})"),
            R"(vidgate_bytes_total{direction="out"} 400)");
  EXPECT_EQ(Line(text, R"(vidgate_stage_duration_seconds_count{stage="probe"})"),
            R"(vidgate_stage_duration_seconds_count{stage="probe"} 2)");
  // analyse_encode is the process time without the probe.
  EXPECT_EQ(Line(text, R"(vidgate_stage_duration_seconds_sum{stage="analyse_encode"})"),
            R"(vidgate_stage_duration_seconds_sum{stage="analyse_encode"} 5.92)");
  // Only processed outcomes count towards upload-to-processed.
  EXPECT_EQ(Line(text, "vidgate_upload_to_processed_seconds_count"),
            "vidgate_upload_to_processed_seconds_count 1");
  EXPECT_EQ(Line(text, R"(vidgate_videos{state="queued"})"), R"(vidgate_videos{state="queued"} 1)");
  EXPECT_EQ(Line(text, R"(vidgate_videos{state="awaiting_metadata"})"),
            R"(vidgate_videos{state="awaiting_metadata"} 1)");
  EXPECT_EQ(Line(text, R"(vidgate_videos{state="processed"})"),
            R"(vidgate_videos{state="processed"} 0)");
  EXPECT_EQ(Line(text, "vidgate_oldest_queued_job_age_seconds"),
            "vidgate_oldest_queued_job_age_seconds 30");
  EXPECT_EQ(Line(text, "vidgate_catalog_up"), "vidgate_catalog_up 1");
}

TEST_F(MetricsTest, AnAlarmIsOneSeriesEvenWhenItsSeverityChanges) {
  Metrics metrics(catalog_.get(), &clock_);
  catalog::OutboxEvent event{"t1", "vidgate.alarm.triggered", {{"id", "t1"}}, {}};
  ASSERT_TRUE(catalog_->SetAlarm("stuck", true, 700, {{"severity", "warning"}}, event, 1).ok());
  std::string text = metrics.Scrape();
  EXPECT_EQ(Line(text, R"(vidgate_alarm_firing{alarm="stuck",severity="warning"})"),
            R"(vidgate_alarm_firing{alarm="stuck",severity="warning"} 1)");
  // The rule became critical while it fires: the warning series goes.
  event.id = "t2";
  ASSERT_TRUE(catalog_->SetAlarm("stuck", true, 800, {{"severity", "critical"}}, event, 2).ok());
  text = metrics.Scrape();
  EXPECT_EQ(Line(text, R"(vidgate_alarm_firing{alarm="stuck",severity="critical"})"),
            R"(vidgate_alarm_firing{alarm="stuck",severity="critical"} 1)");
  EXPECT_EQ(text.find(R"(severity="warning")"), std::string::npos) << text;
}

TEST_F(MetricsTest, PromtoolAcceptsTheExposition) {
  Metrics metrics(catalog_.get(), &clock_);
  pipeline::AttemptReport r;
  r.outcome = "rejected";
  metrics.AttemptFinished(r);
  metrics.DeliveryTried("sns:arn:aws:sns:eu-west-1:1:t", "gave_up");
  const std::filesystem::path file = dir_ / "metrics.txt";
  std::ofstream(file) << metrics.Scrape();
  // promtool reads the exposition on stdin and names every problem,
  // naming conventions included; silence and 0 mean it is clean.
  const std::string cmd = "/usr/bin/promtool check metrics < " + file.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace vidgate::server
