#include "pipeline/dispatcher.h"

namespace vidgate::pipeline {

Dispatcher::Dispatcher(catalog::Catalog* catalog, std::map<std::string, notify::Sink*> sinks,
                       const Clock* clock, spdlog::logger* log, DeliveryPolicy policy)
    : catalog_(catalog), sinks_(std::move(sinks)), clock_(clock), log_(log), policy_(policy) {}

Result<int> Dispatcher::RunOnce() {
  VG_ASSIGN_OR_RETURN(auto due,
                      catalog_->TakeDueDeliveries(clock_->Now(), 64, policy_.hold_seconds));
  for (const auto& d : due) {
    auto it = sinks_.find(d.sink);
    const int attempt = d.attempts + 1;
    Status s = it == sinks_.end() ? InvalidArgument("sink '" + d.sink + "' is no longer configured")
                                  : it->second->Deliver(d.document);
    if (s.ok()) {
      VG_RETURN_IF_ERROR(catalog_->MarkDelivered(d.id, clock_->Now()));
      continue;
    }
    const bool give_up = s.code() == Code::kInvalidArgument || attempt >= policy_.max_attempts;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double next = clock_->Now() + BackoffDelay(policy_.backoff, attempt, unit(rng_));
    VG_RETURN_IF_ERROR(catalog_->MarkDeliveryFailed(d.id, next, s.message(), give_up));
    if (give_up) {
      log_->error("notification {} to {} given up after {} tries: {}", d.document.value("id", ""),
                  d.sink, attempt, s.message());
    } else {
      log_->warn("notification {} to {} failed (try {} of {}): {}", d.document.value("id", ""),
                 d.sink, attempt, policy_.max_attempts, s.message());
    }
  }
  return static_cast<int>(due.size());
}

}  // namespace vidgate::pipeline
