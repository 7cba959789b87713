// dispatcher.h: delivers the notification outbox to the sinks, at least
// once, with back-off between tries of a failing sink.
//
// Each sink has a lane of its own (a thread), so a slow or silent webhook
// never holds back another sink, the log included. A lane takes a small
// batch of its sink's due deliveries, hidden from other processes for twice
// the sink's time-out plus 5 s, and delivers them in order, starting no send
// after the first time-out (the rest go back for the next take). When a delivery fails, the sink is
// taken to be down: every delivery due to it counts that failed try at once and waits out the same
// back-off, so a sink that is down costs one time-out per round, whatever its
// backlog, and gives up after max_attempts rounds.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "notify/sink.h"
#include "pipeline/observer.h"
#include "pipeline/retry.h"

namespace vidgate::pipeline {

struct DeliveryPolicy {
  int max_attempts = 12;  // per sink, first one included
  BackoffPolicy backoff{1, 60};
  int batch = 16;  // deliveries a lane takes at once
};

class Dispatcher {
 public:
  // `sinks` by id; borrowed, must outlive the dispatcher.
  // `observer` (may be null) hears of every delivery tried.
  Dispatcher(catalog::Catalog* catalog, std::map<std::string, notify::Sink*> sinks,
             const Clock* clock, spdlog::logger* log, DeliveryPolicy policy,
             Observer* observer = nullptr);
  ~Dispatcher();  // stops the lanes, if started, without a flush
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Delivers what is due now, every sink side by side, until each has nothing
  // due; gives up deliveries to sinks no longer configured. Returns how many
  // deliveries were tried. For tests and one-shot use; `run` uses lanes.
  Result<int> RunOnce();

  // Starts one lane per sink, each delivering whatever becomes due for it.
  void Start();
  // Tells the lanes that new events are in the outbox.
  void Wake();
  // Stops the lanes: they go on delivering what is due until `flush_until`,
  // then a request still in flight is cut short (Sink::Cancel; its
  // deliveries are released, no try counted) and the lanes are joined.
  void Stop(std::chrono::steady_clock::time_point flush_until);

 private:
  // One round for one sink: takes a batch and delivers it in order. Returns
  // how many deliveries were tried.
  Result<int> RunSink(const std::string& id, notify::Sink* sink);
  void Lane(const std::string& id, notify::Sink* sink);
  // Gives up what waits for a sink that is not in `sinks_`; how many.
  Result<int> GiveUpUnknownSinks();

  catalog::Catalog* catalog_;
  std::map<std::string, notify::Sink*> sinks_;
  const Clock* clock_;
  spdlog::logger* log_;
  DeliveryPolicy policy_;
  Observer* observer_;
  // Per sink: a sink that failed is left alone until its next try, so new
  // events neither cost it another time-out nor jump its backlog. Each
  // entry is touched by its own lane only.
  std::map<std::string, double> down_until_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakes_ = 0;                                                // guarded by mu_
  std::atomic<bool> stopping_{false};                                 // lanes: stop after the flush
  std::optional<std::chrono::steady_clock::time_point> flush_until_;  // guarded by mu_
  std::vector<std::thread> lanes_;
};

}  // namespace vidgate::pipeline
