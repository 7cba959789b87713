#include "pipeline/dispatcher.h"

#include <future>
#include <vector>

namespace vidgate::pipeline {

Dispatcher::Dispatcher(catalog::Catalog* catalog, std::map<std::string, notify::Sink*> sinks,
                       const Clock* clock, spdlog::logger* log, DeliveryPolicy policy)
    : catalog_(catalog), sinks_(std::move(sinks)), clock_(clock), log_(log), policy_(policy) {}

Result<int> Dispatcher::RunOnce() {
  VG_ASSIGN_OR_RETURN(auto due,
                      catalog_->TakeDueDeliveries(clock_->Now(), 64, policy_.hold_seconds));
  // One thread per sink, so a slow webhook does not hold up the others. After
  // a failure the rest of that sink's batch waits as long as the failed one,
  // without counting a try.
  std::map<std::string, std::vector<const catalog::Delivery*>> by_sink;
  for (const auto& d : due) by_sink[d.sink].push_back(&d);
  std::vector<std::future<Status>> results;
  for (auto& [sink, deliveries] : by_sink) {
    results.push_back(std::async(std::launch::async, [this, list = deliveries] {
      for (size_t i = 0; i < list.size(); ++i) {
        Result<std::optional<double>> retry_at = DeliverOne(*list[i]);
        if (!retry_at.ok()) return retry_at.status();
        if (!*retry_at) continue;
        // Due with the failed one, and after it, so events keep their order.
        for (size_t j = i + 1; j < list.size(); ++j) {
          VG_RETURN_IF_ERROR(catalog_->DeferDelivery(list[j]->id, **retry_at));
        }
        break;
      }
      return Status();
    }));
  }
  Status first_error;
  for (auto& r : results) {
    Status s = r.get();
    if (first_error.ok() && !s.ok()) first_error = s;
  }
  VG_RETURN_IF_ERROR(first_error);
  return static_cast<int>(due.size());
}

Result<std::optional<double>> Dispatcher::DeliverOne(const catalog::Delivery& d) {
  auto it = sinks_.find(d.sink);
  const int attempt = d.attempts + 1;
  Status s = it == sinks_.end() ? InvalidArgument("sink '" + d.sink + "' is no longer configured")
                                : it->second->Deliver(d.document);
  if (s.ok()) {
    VG_RETURN_IF_ERROR(catalog_->MarkDelivered(d.id, clock_->Now()));
    return std::optional<double>();
  }
  const bool give_up = s.code() == Code::kInvalidArgument || attempt >= policy_.max_attempts;
  double unit = 0;
  {
    std::lock_guard lock(rng_mu_);
    unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  const double next = clock_->Now() + BackoffDelay(policy_.backoff, attempt, unit);
  VG_RETURN_IF_ERROR(catalog_->MarkDeliveryFailed(d.id, next, s.message(), give_up));
  if (give_up) {
    log_->error("notification {} to {} given up after {} tries: {}", d.document.value("id", ""),
                d.sink, attempt, s.message());
  } else {
    log_->warn("notification {} to {} failed (try {} of {}): {}", d.document.value("id", ""),
               d.sink, attempt, policy_.max_attempts, s.message());
  }
  return std::optional<double>(next);
}

}  // namespace vidgate::pipeline
