// lambda.h: `vidgate lambda`, vidgate as an AWS Lambda function (a custom
// runtime: the binary is the bootstrap). Two kinds of invocation:
//   - an SQS batch of S3 event notifications: the keys are taken in (as
//     news, through intake's idempotent path), then queued videos are
//     processed while the function has time; the answer's
//     batchItemFailures names the messages that could not be taken in (no
//     notification, or the catalog or store failed), so SQS retries just
//     those and sends them to its dead-letter queue in the end;
//   - EventBridge's scheduled event (the sweep): a listing (uploads missed,
//     metadata time-outs), then due retries and interrupted attempts, then
//     the outbox.
// A video still being processed when the time is nearly up is released (its
// attempt not counted) and taken by a later invocation: never lost.
#pragma once

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/wiring.h"
#include "aws/lambda_runtime.h"
#include "pipeline/intake.h"

namespace vidgate::app {

// The work of one invocation, and its answer. `stopping` is set when the
// time is nearly up.
class LambdaHandler {
 public:
  // `wiring` and `ctx` are borrowed.
  LambdaHandler(Wiring* wiring, const Context* ctx);

  // kInvalidArgument for an event that is neither kind (the invocation
  // fails); otherwise the answer (for SQS: {"batchItemFailures": [...]}).
  Result<nlohmann::json> Handle(const aws::Invocation& invocation);

 private:
  // The catalog's backlog as an EMF line (with [metrics] emf), once per
  // invocation, for the dashboard.
  void ReportPending();
  // Processes queued work until there is none or `deadline` (seconds since
  // the epoch) is near; how many attempts ran.
  int Work(double deadline);

  Wiring* w_;
  const Context* ctx_;
  // Kept across invocations (a warm function): what a listing saw is
  // remembered, so a file settles over two sweeps as over two scans.
  pipeline::Intake intake_;
};

int LambdaCommand(Context& ctx);

}  // namespace vidgate::app
