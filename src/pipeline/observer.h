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
};

}  // namespace vidgate::pipeline
