// observer.h: what the pipeline tells metrics about (CloudWatch EMF lines
// now, Prometheus with the server): each finished attempt with its stage
// times and bytes, and each event it records. Called on the worker and
// intake threads; implementations must be thread-safe and quick (no I/O
// that can block for long).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vidgate::pipeline {

struct AttemptReport {
  std::string video;  // NAME
  int attempt = 0;
  // processed, rejected, failed (another attempt is scheduled),
  // unable_to_process, released (vidgate stopped), started_over (the
  // original changed while it was read), lost_lease.
  std::string outcome;
  double fetch_seconds = 0;    // the original to local disk
  double process_seconds = 0;  // decode, QC, renditions, thumbnails
  double publish_seconds = 0;  // outputs to the store, filing, the catalog
  int64_t bytes_in = 0;        // the original's size
  int64_t bytes_out = 0;       // the outputs written (processed only)
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void AttemptFinished(const AttemptReport& report) = 0;
  // An event was committed to the outbox (its CloudEvents type).
  virtual void EventRecorded(std::string_view type) = 0;
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

}  // namespace vidgate::pipeline
