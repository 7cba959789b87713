// metrics.h: the Prometheus figures GET /metrics serves.
//
// Two kinds, kept apart on purpose:
// - what this process did: counters and histograms, heard as a
//   pipeline::Observer (Prometheus sums them over the fleet's processes);
// - what the fleet is: gauges read from the shared catalog at each scrape,
//   so every process of a fleet reports the same figures.
// The metric types and the text exposition are prometheus-cpp's core.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "pipeline/observer.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace vidgate::server {

class Metrics final : public pipeline::Observer {
 public:
  Metrics(catalog::Catalog* catalog, const Clock* clock);
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void AttemptFinished(const pipeline::AttemptReport& report) override;
  void EventRecorded(std::string_view type) override;
  void DeliveryTried(std::string_view sink, std::string_view result) override;

  // The text exposition (version 0.0.4), the fleet's gauges read first.
  // When the catalog does not answer, vidgate_catalog_up is 0 and the
  // fleet's gauges keep their last reading.
  std::string Scrape();

 private:
  catalog::Catalog* catalog_;
  const Clock* clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* attempts_;
  prometheus::Family<prometheus::Counter>* events_;
  prometheus::Family<prometheus::Counter>* notifications_;
  prometheus::Counter* bytes_in_;
  prometheus::Counter* bytes_out_;
  // One per stage, made once (a family lookup per observation is work the
  // labels never need).
  prometheus::Histogram* fetch_seconds_;
  prometheus::Histogram* probe_seconds_;
  prometheus::Histogram* analyse_encode_seconds_;
  prometheus::Histogram* publish_seconds_;
  prometheus::Histogram* processed_latency_;
  prometheus::Family<prometheus::Gauge>* videos_;
  prometheus::Gauge* oldest_queued_;
  prometheus::Gauge* workers_busy_;
  prometheus::Gauge* outbox_backlog_;
  prometheus::Family<prometheus::Gauge>* alarms_;
  // Each alarm's series and the severity it is labelled with.
  std::map<std::string, std::pair<std::string, prometheus::Gauge*>> alarm_series_;
  prometheus::Gauge* scrape_ok_;
  std::mutex scrape_mu_;  // one scrape sets the gauges at a time
};

}  // namespace vidgate::server
