#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

#include "pipeline/alarms.h"

namespace vidgate::server {
namespace {

// Stage times run from milliseconds (a probe) to an hour (a long encode).
const prometheus::Histogram::BucketBoundaries& StageBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  return kBuckets;
}

// From upload to processed: seconds to a day (a video waiting for retries).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400};
  return kBuckets;
}

}  // namespace

Metrics::Metrics(catalog::Catalog* catalog, const Clock* clock)
    : catalog_(catalog), clock_(clock), registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  attempts_ = &prometheus::BuildCounter()
                   .Name("vidgate_attempts_total")
                   .Help(
                       "Attempts this process finished, by outcome (processed, rejected, "
                       "failed, unable_to_process, released, started_over, lost_lease).")
                   .Register(r);
  events_ = &prometheus::BuildCounter()
                 .Name("vidgate_events_total")
                 .Help("Events this process put in the notification outbox, by CloudEvents type.")
                 .Register(r);
  notifications_ = &prometheus::BuildCounter()
                        .Name("vidgate_notifications_total")
                        .Help(
                            "Deliveries this process tried, by sink and result (delivered, "
                            "failed, gave_up).")
                        .Register(r);
  auto& bytes = prometheus::BuildCounter()
                    .Name("vidgate_bytes_total")
                    .Help("Bytes of originals read (in) and outputs written (out) by this process.")
                    .Register(r);
  bytes_in_ = &bytes.Add({{"direction", "in"}});
  bytes_out_ = &bytes.Add({{"direction", "out"}});
  auto& stage_seconds = prometheus::BuildHistogram()
                            .Name("vidgate_stage_duration_seconds")
                            .Help(
                                "Time per attempt in each stage: fetch, probe, analyse_encode "
                                "(one decode for QC, renditions and pictures), publish.")
                            .Register(r);
  processed_latency_ = &prometheus::BuildHistogram()
                            .Name("vidgate_upload_to_processed_seconds")
                            .Help("From a video's registration to its processed outcome.")
                            .Register(r)
                            .Add({}, LatencyBuckets());
  videos_ = &prometheus::BuildGauge()
                 .Name("vidgate_videos")
                 .Help("Videos in the catalog, by state (the whole fleet).")
                 .Register(r);
  oldest_queued_ = &prometheus::BuildGauge()
                        .Name("vidgate_oldest_queued_job_age_seconds")
                        .Help("How long the job due first has waited unclaimed (the whole fleet).")
                        .Register(r)
                        .Add({});
  workers_busy_ = &prometheus::BuildGauge()
                       .Name("vidgate_workers_busy")
                       .Help("Jobs under a live lease: workers busy across the fleet.")
                       .Register(r)
                       .Add({});
  outbox_backlog_ = &prometheus::BuildGauge()
                         .Name("vidgate_outbox_backlog")
                         .Help("Notification deliveries neither delivered nor given up.")
                         .Register(r)
                         .Add({});
  alarms_ = &prometheus::BuildGauge()
                 .Name("vidgate_alarm_firing")
                 .Help("1 while an [[alarm]] rule fires, 0 once it resolved (the whole fleet).")
                 .Register(r);
  scrape_ok_ = &prometheus::BuildGauge()
                    .Name("vidgate_catalog_up")
                    .Help("1 when this scrape could read the catalog, else 0.")
                    .Register(r)
                    .Add({});
  // Every outcome and state is present from the start, at 0: a rate over a
  // series that appears late misses its first increase.
  for (const char* outcome : {"processed", "rejected", "failed", "unable_to_process"}) {
    attempts_->Add({{"outcome", outcome}});
  }
  for (catalog::State s : catalog::kAllStates) {
    videos_->Add({{"state", std::string(catalog::StateName(s))}});
  }
  for (std::string_view type :
       {pipeline::kMetadataMissing, pipeline::kMetadataInvalid, pipeline::kVideoProcessed,
        pipeline::kVideoFailed, pipeline::kVideoRejected, pipeline::kVideoUnable,
        pipeline::kAlarmTriggered, pipeline::kAlarmResolved}) {
    events_->Add({{"type", std::string(type)}});
  }
  fetch_seconds_ = &stage_seconds.Add({{"stage", "fetch"}}, StageBuckets());
  probe_seconds_ = &stage_seconds.Add({{"stage", "probe"}}, StageBuckets());
  analyse_encode_seconds_ = &stage_seconds.Add({{"stage", "analyse_encode"}}, StageBuckets());
  publish_seconds_ = &stage_seconds.Add({{"stage", "publish"}}, StageBuckets());
}

Metrics::~Metrics() = default;

void Metrics::AttemptFinished(const pipeline::AttemptReport& report) {
  attempts_->Add({{"outcome", report.outcome}}).Increment();
  bytes_in_->Increment(static_cast<double>(report.bytes_in));
  bytes_out_->Increment(static_cast<double>(report.bytes_out));
  fetch_seconds_->Observe(report.fetch_seconds);
  probe_seconds_->Observe(report.probe_seconds);
  analyse_encode_seconds_->Observe(std::max(0.0, report.process_seconds - report.probe_seconds));
  publish_seconds_->Observe(report.publish_seconds);
  if (report.outcome == "processed") processed_latency_->Observe(report.since_registered_seconds);
}

void Metrics::EventRecorded(std::string_view type) {
  events_->Add({{"type", std::string(type)}}).Increment();
}

void Metrics::DeliveryTried(std::string_view sink, std::string_view result) {
  notifications_->Add({{"sink", std::string(sink)}, {"result", std::string(result)}}).Increment();
}

std::string Metrics::Scrape() {
  std::lock_guard lock(scrape_mu_);
  auto stats = catalog_->Stats(clock_->Now(), 3600);
  auto alarms = catalog_->Alarms();
  scrape_ok_->Set(stats.ok() && alarms.ok() ? 1 : 0);
  if (alarms.ok()) {
    for (const auto& a : *alarms) {
      const std::string severity =
          a.detail.is_object() ? a.detail.value("severity", "warning") : "warning";
      // A rule whose severity changed leaves no series behind at its old one.
      auto& [shown, gauge] = alarm_series_[a.name];
      if (gauge != nullptr && shown != severity) alarms_->Remove(gauge);
      if (gauge == nullptr || shown != severity) {
        gauge = &alarms_->Add({{"alarm", a.name}, {"severity", severity}});
        shown = severity;
      }
      gauge->Set(a.firing ? 1 : 0);
    }
  }
  if (stats.ok()) {
    for (const auto& [state, n] : stats->videos) {
      videos_->Add({{"state", std::string(catalog::StateName(state))}}).Set(static_cast<double>(n));
    }
    oldest_queued_->Set(stats->oldest_queued_seconds);
    workers_busy_->Set(static_cast<double>(stats->workers_busy));
    outbox_backlog_->Set(static_cast<double>(stats->outbox_backlog));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace vidgate::server
