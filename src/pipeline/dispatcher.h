// dispatcher.h: delivers the notification outbox to the sinks, at least
// once, with back-off between tries of a failing sink.
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "notify/sink.h"
#include "pipeline/retry.h"

namespace vidgate::pipeline {

struct DeliveryPolicy {
  int max_attempts = 12;  // per sink, first one included
  BackoffPolicy backoff{1, 60};
  double hold_seconds = 60;  // how long a taken delivery is hidden from other dispatchers
};

class Dispatcher {
 public:
  // `sinks` by id; borrowed, must outlive the dispatcher.
  Dispatcher(catalog::Catalog* catalog, std::map<std::string, notify::Sink*> sinks,
             const Clock* clock, spdlog::logger* log, DeliveryPolicy policy);

  // Delivers what is due now. Returns how many deliveries were tried.
  Result<int> RunOnce();

 private:
  // Nothing if delivered; else when the failed delivery is tried again.
  Result<std::optional<double>> DeliverOne(const catalog::Delivery& delivery);

  catalog::Catalog* catalog_;
  std::map<std::string, notify::Sink*> sinks_;
  const Clock* clock_;
  spdlog::logger* log_;
  DeliveryPolicy policy_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace vidgate::pipeline
