// wiring.h: the composition root. Builds the program's parts once from the
// configuration (store, catalog, sinks, the outbox dispatcher, the media
// stage, the SQS feed, metrics) for `run` and `lambda` alike.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/emf_metrics.h"
#include "app/sqs_feed.h"
#include "aws/sqs_client.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "notify/sink.h"
#include "pipeline/alarms.h"
#include "pipeline/dispatcher.h"
#include "pipeline/events.h"
#include "pipeline/media_stage.h"
#include "pipeline/observer.h"
#include "pipeline/runner.h"
#include "server/metrics.h"
#include "storage/store.h"

namespace vidgate::app {

// The store storage.url names, reached as the [storage] keys say.
Result<std::unique_ptr<storage::Store>> OpenStore(const Context& ctx);
// The catalog database.url names, migrated, with database.password read
// from its source (Secrets Manager for an ARN).
Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(const Context& ctx);

struct Wiring {
  SystemClock clock;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<catalog::Catalog> catalog;
  std::vector<std::unique_ptr<notify::Sink>> sinks;
  std::unique_ptr<pipeline::EventFactory> events;
  std::unique_ptr<pipeline::Dispatcher> dispatcher;
  std::unique_ptr<pipeline::MediaStage> media;
  std::unique_ptr<aws::SqsClient> sqs;  // with intake.sqs_queue_url
  std::unique_ptr<SqsFeed> feed;
  std::unique_ptr<EmfMetrics> emf;                     // with metrics.emf
  std::unique_ptr<server::Metrics> metrics;            // Prometheus, for /metrics
  std::unique_ptr<pipeline::ObserverFanOut> observer;  // tells both
  std::unique_ptr<pipeline::AlarmEvaluator> alarms;    // the [[alarm]] rules
  pipeline::RunnerOptions runner_options;

  pipeline::RunnerDeps RunnerDeps(const Context& ctx) {
    return {store.get(), catalog.get(), media.get(), events.get(),   dispatcher.get(),
            &clock,      ctx.log.get(), feed.get(),  observer.get(), alarms.get()};
  }
};

// kInvalidArgument for settings that cannot be wired (a secret that cannot
// be resolved, a bad sink); the store's and the catalog's errors otherwise.
Result<std::unique_ptr<Wiring>> Wire(const Context& ctx);

}  // namespace vidgate::app
