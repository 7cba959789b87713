// runner.h: `vidgate run`: intake, a pool of workers and the outbox
// dispatcher, each on its own thread, until stopped (or idle, with
// --until-idle).
#pragma once

#include <spdlog/logger.h>

#include <atomic>

#include "pipeline/alarms.h"
#include "pipeline/change_feed.h"
#include "pipeline/dispatcher.h"
#include "pipeline/intake.h"
#include "pipeline/observer.h"
#include "pipeline/worker.h"

namespace vidgate::pipeline {

struct RunnerOptions {
  int workers = 1;
  double poll_seconds = 2;
  bool until_idle = false;
  std::string owner_prefix;  // "host:pid:random"; each worker adds ":n"
  WorkerOptions worker;      // owner is set per thread
  IntakeOptions intake;
  // How often the catalog's backlog goes to the observer (a fleet scales on
  // it; CloudWatch's finest standard resolution is a minute).
  double pending_report_seconds = 60;
  // A store that answers "unavailable" at start (S3 slowing down, a network
  // not up yet) is asked again for this long before run gives up.
  double start_patience_seconds = 60;
};

struct RunnerDeps {
  storage::Store* store;
  catalog::Catalog* catalog;
  MediaStage* media;
  const EventFactory* events;
  Dispatcher* dispatcher;
  const Clock* clock;
  spdlog::logger* log;
  ChangeFeed* feed;    // nullptr: intake lists every poll_seconds, and that is all
  Observer* observer;  // nullptr: nobody measures
  // Evaluated on the intake thread as its rules come due; nullptr: none.
  AlarmEvaluator* alarms = nullptr;
};

class Runner {
 public:
  Runner(RunnerDeps deps, RunnerOptions options) : deps_(deps), options_(std::move(options)) {}

  // Runs until `stop` becomes true (then releases in-flight attempts and
  // flushes what it can of the outbox) or, with until_idle, until nothing is
  // pending. An error only if the store cannot be prepared (a store that
  // is unavailable is asked again for start_patience_seconds first).
  Status Run(const std::atomic<bool>& stop);

  // Seconds since the intake loop last turned, on the steady clock (a step
  // of the wall clock changes nothing); negative before Run. It turns at
  // least every 10 s, so a large figure means it is stuck (health).
  double SecondsSinceLastTurn() const;

 private:
  // store->Prepare(), asked again while it is unavailable (see
  // start_patience_seconds).
  Status PrepareStore(const std::atomic<bool>& stop);
  RunnerDeps deps_;
  RunnerOptions options_;
  std::atomic<int64_t> last_turn_ns_{-1};  // steady_clock, since its epoch
};

}  // namespace vidgate::pipeline
