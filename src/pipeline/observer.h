// observer.h: what the pipeline tells metrics about (CloudWatch EMF lines
// now, Prometheus with the server): each finished attempt with its stage
// times and bytes, and each event it records. Called on the worker and
// intake threads; implementations must be thread-safe and quick (no I/O
// that can block for long).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vidgate::pipeline {

struct AttemptReport {
  std::string video;  // NAME
  int attempt = 0;
  // processed, rejected, failed (another attempt is scheduled),
  // unable_to_process, released (vidgate stopped), started_over (the
  // original changed while it was read), lost_lease.
  std::string outcome;
  double fetch_seconds = 0;    // the original to local disk
  double process_seconds = 0;  // probe, decode, QC, renditions, thumbnails
  double probe_seconds = 0;    // the probe alone (part of process_seconds)
  double publish_seconds = 0;  // outputs to the store, filing, the catalog
  int64_t bytes_in = 0;        // the original's size
  int64_t bytes_out = 0;       // the outputs written (processed only)
  // From the video's registration to the end of this attempt.
  double since_registered_seconds = 0;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void AttemptFinished(const AttemptReport& report) = 0;
  // An event was committed to the outbox (its CloudEvents type).
  virtual void EventRecorded(std::string_view type) = 0;
  // A delivery to `sink` was tried: "delivered", "failed" (to be tried
  // again) or "gave_up".
  virtual void DeliveryTried(std::string_view sink, std::string_view result) {
    (void)sink;
    (void)result;
  }
  // The catalog's backlog, told about once a minute by each running process
  // (what a fleet scales on): videos queued, processing or waiting for a
  // retry; notifications still being delivered; videos awaiting metadata
  // whose notice is not out yet.
  virtual void WorkPending(int64_t jobs, int64_t deliveries, int64_t awaiting_notice) {
    (void)jobs;
    (void)deliveries;
    (void)awaiting_notice;
  }
};

// Tells every observer in turn (metrics for CloudWatch and for Prometheus).
class ObserverFanOut final : public Observer {
 public:
  explicit ObserverFanOut(std::vector<Observer*> observers) : observers_(std::move(observers)) {}
  void AttemptFinished(const AttemptReport& report) override {
    for (Observer* o : observers_) o->AttemptFinished(report);
  }
  void EventRecorded(std::string_view type) override {
    for (Observer* o : observers_) o->EventRecorded(type);
  }
  void DeliveryTried(std::string_view sink, std::string_view result) override {
    for (Observer* o : observers_) o->DeliveryTried(sink, result);
  }
  void WorkPending(int64_t jobs, int64_t deliveries, int64_t awaiting_notice) override {
    for (Observer* o : observers_) o->WorkPending(jobs, deliveries, awaiting_notice);
  }

 private:
  std::vector<Observer*> observers_;
};

}  // namespace vidgate::pipeline
