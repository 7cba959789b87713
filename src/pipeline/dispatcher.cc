#include "pipeline/dispatcher.h"

#include <future>

namespace vidgate::pipeline {

Dispatcher::Dispatcher(catalog::Catalog* catalog, std::map<std::string, notify::Sink*> sinks,
                       const Clock* clock, spdlog::logger* log, DeliveryPolicy policy,
                       Observer* observer)
    : catalog_(catalog),
      sinks_(std::move(sinks)),
      clock_(clock),
      log_(log),
      policy_(policy),
      observer_(observer) {
  for (const auto& [id, sink] : sinks_) down_until_[id] = 0;
}

Dispatcher::~Dispatcher() {
  if (!lanes_.empty()) Stop(std::chrono::steady_clock::now());
}

Result<int> Dispatcher::GiveUpUnknownSinks() {
  std::vector<std::string> known;
  for (const auto& [id, sink] : sinks_) known.push_back(id);
  return catalog_->GiveUpUnknownSinks(known, "the sink is no longer configured");
}

Result<int> Dispatcher::RunOnce() {
  VG_ASSIGN_OR_RETURN(int unknown, GiveUpUnknownSinks());
  std::vector<std::future<Result<int>>> rounds;
  for (const auto& [id, sink] : sinks_) {
    rounds.push_back(std::async(std::launch::async, [this, &id = id, sink = sink]() -> Result<int> {
      int tried = 0;
      for (;;) {
        VG_ASSIGN_OR_RETURN(int n, RunSink(id, sink));
        if (n == 0) return tried;
        tried += n;
      }
    }));
  }
  int tried = unknown;
  Status first_error;
  for (auto& r : rounds) {
    Result<int> n = r.get();
    if (n.ok()) {
      tried += *n;
    } else if (first_error.ok()) {
      first_error = n.status();
    }
  }
  VG_RETURN_IF_ERROR(first_error);
  return tried;
}

Result<int> Dispatcher::RunSink(const std::string& id, notify::Sink* sink) {
  double& down_until = down_until_.at(id);
  if (clock_->Now() < down_until) return 0;
  // The batch is hidden from other processes for twice the sink's time-out
  // (plus 5 s of slack): a send starts only within the first time-out, so it
  // ends while hidden; and a process that dies holding a batch delays it by
  // that much, however large the batch.
  const double max_seconds = sink->max_seconds();
  const double taken_at = clock_->Now();
  VG_ASSIGN_OR_RETURN(
      auto due, catalog_->TakeDueDeliveries(taken_at, policy_.batch, 2 * max_seconds + 5, id));
  for (size_t i = 0; i < due.size(); ++i) {
    const catalog::Delivery& d = due[i];
    if (i > 0 && clock_->Now() - taken_at > max_seconds) {
      // A slow sink: the rest go back, due now, for the next take.
      for (size_t j = i; j < due.size(); ++j) {
        VG_RETURN_IF_ERROR(catalog_->DeferDelivery(due[j].id, clock_->Now()));
      }
      return static_cast<int>(i);
    }
    Status s = sink->Deliver(d.document);
    if (s.ok()) {
      VG_RETURN_IF_ERROR(catalog_->MarkDelivered(d.id, clock_->Now()));
      if (observer_ != nullptr) observer_->DeliveryTried(id, "delivered");
      continue;
    }
    if (s.code() == Code::kCancelled) {
      // Shutting down: what was not sent is released as it was.
      for (size_t j = i; j < due.size(); ++j) {
        VG_RETURN_IF_ERROR(catalog_->DeferDelivery(due[j].id, clock_->Now()));
      }
      return static_cast<int>(i);
    }
    const int attempt = d.attempts + 1;
    const bool give_up = s.code() == Code::kInvalidArgument || attempt >= policy_.max_attempts;
    double unit = 0;
    {
      std::lock_guard lock(rng_mu_);
      unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    }
    const double now = clock_->Now();
    const double next = now + BackoffDelay(policy_.backoff, attempt, unit);
    VG_RETURN_IF_ERROR(catalog_->MarkDeliveryFailed(d.id, next, s.message(), give_up));
    if (observer_ != nullptr) observer_->DeliveryTried(id, give_up ? "gave_up" : "failed");
    if (give_up) {
      log_->error("notification {} to {} given up after {} tries: {}", d.document.value("id", ""),
                  d.sink, attempt, s.message());
    } else {
      log_->warn("notification {} to {} failed (try {} of {}): {}", d.document.value("id", ""),
                 d.sink, attempt, policy_.max_attempts, s.message());
    }
    if (s.code() == Code::kInvalidArgument) continue;  // this event's fault, not the sink's
    // The sink is down: the rest of this batch is released, and everything
    // due to it counts this try and waits with it, in order.
    for (size_t j = i + 1; j < due.size(); ++j) {
      VG_RETURN_IF_ERROR(catalog_->DeferDelivery(due[j].id, now));
    }
    down_until = next;
    VG_ASSIGN_OR_RETURN(
        int waiting,
        catalog_->MarkSinkFailed(id, now, next, "not sent: " + s.message(), policy_.max_attempts));
    if (waiting > 0) {
      log_->warn("{} more notifications to {} wait for its next try", waiting, id);
    }
    return static_cast<int>(i + 1);
  }
  return static_cast<int>(due.size());
}

void Dispatcher::Start() {
  // Deliveries to a sink no longer configured (removed, or its id changed)
  // would wait for a lane that never comes, and hold --until-idle forever.
  auto orphans = GiveUpUnknownSinks();
  if (!orphans.ok()) {
    log_->error("notify: {}", orphans.status().message());
  } else if (*orphans > 0) {
    log_->warn("{} notifications to sinks no longer configured were given up", *orphans);
  }
  for (const auto& [id, sink] : sinks_) {
    lanes_.emplace_back([this, &id = id, sink = sink] { Lane(id, sink); });
  }
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void Dispatcher::Lane(const std::string& id, notify::Sink* sink) {
  uint64_t seen = 0;
  for (;;) {
    const bool stopping = stopping_.load();
    if (stopping) {
      std::lock_guard lock(mu_);
      if (!flush_until_ || std::chrono::steady_clock::now() >= *flush_until_) return;
    }
    Result<int> n = RunSink(id, sink);
    if (!n.ok()) log_->error("notify {}: {}", id, n.status().message());
    if (n.ok() && *n > 0) continue;
    if (stopping) return;  // flushed: nothing more is due
    // Nothing due: wait for new events, or poll for retries coming due.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [&] { return wakes_ != seen || stopping_.load(); });
    seen = wakes_;
  }
}

void Dispatcher::Stop(std::chrono::steady_clock::time_point flush_until) {
  {
    std::lock_guard lock(mu_);
    flush_until_ = flush_until;
  }
  stopping_ = true;
  cv_.notify_all();
  // Past the deadline, requests still in flight are cut short.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(done_mu);
    if (!done_cv.wait_until(lock, flush_until, [&] { return done; })) {
      for (const auto& [id, sink] : sinks_) sink->Cancel();
    }
  });
  for (auto& lane : lanes_) lane.join();
  lanes_.clear();
  {
    std::lock_guard lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  watchdog.join();
}

}  // namespace vidgate::pipeline
