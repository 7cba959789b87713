#include "app/lambda.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common/util.h"
#include "pipeline/intake.h"
#include "pipeline/worker.h"

namespace vidgate::app {
namespace {

// How long before the deadline work stops: enough to release an attempt,
// answer, and flush a little of the outbox.
double Margin(double total_seconds) { return std::clamp(total_seconds * 0.1, 2.0, 15.0); }

// An invocation that names no deadline (Lambda always does; an emulator may
// leave the header out) gets this much time: work is still done, and an
// attempt still running then is released. Under a shorter real timeout the
// attempt's lease runs out instead, and it is taken again.
constexpr double kBudgetWithoutDeadline = 60;

}  // namespace

LambdaHandler::LambdaHandler(Wiring* wiring, const Context* ctx)
    : w_(wiring),
      ctx_(ctx),
      intake_({wiring->store.get(), wiring->catalog.get(), wiring->events.get(), &wiring->clock,
               ctx->log.get(), wiring->observer.get()},
              wiring->runner_options.intake) {}

int LambdaHandler::Work(double deadline) {
  const double now = w_->clock.Now();
  const double stop_at = deadline - Margin(deadline - now);
  std::atomic<bool> stopping{stop_at <= now};
  // Sets `stopping` at stop_at, so an attempt in progress is released.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread timer([&] {
    std::unique_lock lock(mu);
    const auto wait = std::chrono::duration<double>(std::max(0.0, stop_at - w_->clock.Now()));
    if (!cv.wait_for(lock, wait, [&] { return done; })) stopping = true;
  });
  pipeline::WorkerOptions wo = w_->runner_options.worker;
  wo.owner = w_->runner_options.owner_prefix + ":lambda";
  pipeline::Worker worker({w_->store.get(), w_->catalog.get(), w_->media.get(), w_->events.get(),
                           &w_->clock, ctx_->log.get(), w_->observer.get()},
                          wo, &stopping);
  int ran = 0;
  while (!stopping.load()) {
    auto claimed = worker.RunOnce();
    if (!claimed.ok()) {
      ctx_->log->error("lambda: {}", claimed.status().message());
      break;
    }
    if (!*claimed) break;
    ++ran;
  }
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  timer.join();
  // What is due in the outbox, while there is time.
  if (w_->clock.Now() < stop_at) {
    if (auto delivered = w_->dispatcher->RunOnce(); !delivered.ok()) {
      ctx_->log->warn("lambda: notifications: {}", delivered.status().message());
    }
  }
  return ran;
}

Result<nlohmann::json> LambdaHandler::Handle(const aws::Invocation& invocation) {
  double deadline = invocation.deadline;
  if (deadline <= 0) {
    deadline = w_->clock.Now() + kBudgetWithoutDeadline;
    ctx_->log->warn("lambda: invocation {} names no deadline; it is given {:g} s",
                    invocation.request_id, kBudgetWithoutDeadline);
  }
  const nlohmann::json event = nlohmann::json::parse(invocation.body, nullptr, false);
  if (!event.is_object()) return InvalidArgument("the invocation's event is not a JSON object");

  // EventBridge's schedule: the sweep.
  if (JsonString(event, "source") == "aws.events" ||
      JsonString(event, "detail-type") == "Scheduled Event") {
    // The schedule is the alarms' clock too: every rule, each sweep, first
    // (a store that fails the scan is when they matter).
    if (auto sent = w_->alarms->EvaluateAll(); !sent.ok()) {
      ctx_->log->warn("lambda: alarms: {}", sent.status().message());
    }
    auto scanned = intake_.Scan();
    if (!scanned.ok()) return scanned.status();
    const int attempts = Work(deadline);
    ReportPending();
    return nlohmann::json{{"swept", true},
                          {"registered", scanned->registered},
                          {"queued", scanned->queued},
                          {"attempts", attempts}};
  }

  // An SQS batch.
  if (!event.contains("Records") || !event["Records"].is_array()) {
    return InvalidArgument(
        "the invocation's event is neither an SQS batch nor EventBridge's scheduled event");
  }
  VG_ASSIGN_OR_RETURN(storage::S3Location where, storage::ParseS3Url(ctx_->config.storage.url));
  nlohmann::json failures = nlohmann::json::array();
  std::vector<std::string> keys;
  std::vector<std::string> taken_ids;
  for (const auto& record : event["Records"]) {
    const std::string id = JsonString(record, "messageId");
    if (!record.is_object() || JsonString(record, "eventSource") != "aws:sqs" || id.empty()) {
      return InvalidArgument("an SQS batch holds a record that is no SQS message");
    }
    auto found = StoreKeysOf(JsonString(record, "body"), where.bucket, where.prefix);
    if (!found.ok()) {
      ctx_->log->warn("lambda: message {} is given back to the queue: {}", id,
                      found.status().message());
      failures.push_back({{"itemIdentifier", id}});
      continue;
    }
    keys.insert(keys.end(), found->begin(), found->end());
    taken_ids.push_back(id);
  }
  if (auto taken = intake_.Take(keys); !taken.ok()) {
    // Nothing of this batch is known to be taken in: every message again.
    ctx_->log->error("lambda: {}", taken.status().message());
    for (const auto& id : taken_ids) failures.push_back({{"itemIdentifier", id}});
    return nlohmann::json{{"batchItemFailures", failures}};
  }
  Work(deadline);
  ReportPending();
  return nlohmann::json{{"batchItemFailures", failures}};
}

void LambdaHandler::ReportPending() {
  if (w_->emf == nullptr) return;
  if (auto pending = w_->catalog->PendingWork(); pending.ok()) {
    w_->emf->WorkPending(pending->jobs, pending->deliveries, pending->awaiting_notice);
  }
}

int LambdaCommand(Context& ctx) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    return Fail(FailedPrecondition("AWS_LAMBDA_RUNTIME_API is not set: `vidgate lambda` runs "
                                   "inside AWS Lambda (or under its runtime emulator)"),
                kExitUsage);
  }
  aws::LambdaRuntime runtime(api, ctx.http);
  auto wired = Wire(ctx);
  if (!wired.ok()) {
    (void)runtime.InitError("Vidgate.Config", wired.status().message());
    return Fail(wired.status(), BackendExit(wired.status()));
  }
  if (Status s = (*wired)->store->Prepare(); !s.ok()) {
    (void)runtime.InitError("Vidgate.Store", s.message());
    return Fail(s, BackendExit(s));
  }
  ctx.log->info("vidgate lambda: store {}, catalog {}", ctx.config.storage.url,
                catalog::RedactUrl(ctx.config.database.url));
  LambdaHandler handler(wired->get(), &ctx);
  for (;;) {
    auto invocation = runtime.Next();
    if (!invocation.ok()) {
      // The runtime API is the function's lifeline: without it there is no
      // work and nobody to answer.
      return Fail(invocation.status(), kExitBackend);
    }
    auto answer = handler.Handle(*invocation);
    Status sent = answer.ok() ? runtime.Respond(invocation->request_id, answer->dump())
                              : runtime.Fail(invocation->request_id,
                                             answer.status().code() == Code::kInvalidArgument
                                                 ? "Vidgate.BadEvent"
                                                 : "Vidgate.Unavailable",
                                             answer.status().message());
    if (!sent.ok()) ctx.log->warn("lambda: {}", sent.message());
  }
}

}  // namespace vidgate::app
