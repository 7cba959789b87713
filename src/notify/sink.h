// sink.h: where notifications go.
//
// A Sink delivers one CloudEvents 1.0 document (structured mode, see the
// "Contract: notifications" section of ARCHITECTURE.md) to one destination: the
// log, a webhook, later SNS, Slack or e-mail. The outbox dispatcher owns the
// sinks, calls Deliver for each undelivered notification and decides from the
// returned code whether to back off and try again:
//
//   ok                  delivered; the notification is done for this sink.
//   kUnavailable        the destination failed or refused (network error, any
//                       non-2xx HTTP answer); try again later with back-off.
//   kDeadlineExceeded   the destination did not answer in time; try again.
//   kInvalidArgument    the event itself can never be delivered (not a JSON
//                       object, no string "id"); do not retry.
//   kCancelled          Cancel() was called: not delivered, no try counted.
//
// Any HTTP status, 4xx included, counts as "try later": endpoints get
// misconfigured (a bad route, a rotated secret, auth) and fixed again, and
// delivery is at least once. The dispatcher's retry limit bounds the attempts.
//
// Example:
//   std::vector<std::unique_ptr<notify::Sink>> sinks;
//   sinks.push_back(std::make_unique<notify::LogSink>(logger));
//   for (auto& sink : sinks) {
//     Status s = sink->Deliver(event);
//     if (!s.ok()) outbox.Reschedule(event["id"], sink->id(), s);
//   }
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace vidgate::notify {

// Sink is the interface every notification destination implements. It holds
// no data and cannot be copied. Implementations document whether Deliver may
// be called from several threads at once (LogSink and WebhookSink allow it).
class Sink {
 public:
  Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink() = default;

  // id returns a stable name for this destination, e.g. "log" or
  // "webhook:https://example.com/hook". The outbox records delivery per sink
  // under this name, so it must not change between runs for the same
  // configuration. It never contains a secret.
  virtual const std::string& id() const = 0;

  // Deliver sends one CloudEvent. Returns ok once the destination accepted it;
  // otherwise a code from the table at the top of this file, with a message
  // naming the destination (never a secret). The event's "id" is the
  // idempotency key: the same event may be delivered more than once.
  virtual Status Deliver(const nlohmann::json& event) = 0;

  // The longest one Deliver can take, in seconds (a webhook's time-out): the
  // dispatcher hides what it took from other processes for that long.
  virtual double max_seconds() const { return 1; }

  // Makes a Deliver in progress, and every later one, return kCancelled at
  // once (shutdown must not wait on a slow peer). Any thread may call it.
  virtual void Cancel() {}
};

}  // namespace vidgate::notify
