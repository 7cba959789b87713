// webhook_sink.h: a Sink that POSTs each notification to an HTTP endpoint.
//
// Example (app):
//   VG_ASSIGN_OR_RETURN(std::string secret, ResolveSecret(config.secret));
//   VG_ASSIGN_OR_RETURN(auto sink, notify::WebhookSink::Create(
//       {.url = config.url, .secret = secret, .timeout_seconds = 10}, &http_client));
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"
#include "notify/sink.h"

namespace vidgate::notify {

// WebhookOptions configures one [[notify.webhook]] entry.
struct WebhookOptions {
  std::string url;              // http:// or https:// endpoint
  std::string secret;           // resolved value (see ResolveSecret); empty = no signature
  double timeout_seconds = 10;  // whole request, connect included; > 0
  // Told apart in the sink's id when two webhooks look alike once their
  // secrets are hidden ("webhook:URL #label").
  std::string label;
  const Clock* clock = nullptr;  // for webhook-timestamp; nullptr = the system clock
};

// WebhookSink POSTs the event's compact JSON (invalid UTF-8 replaced by
// U+FFFD) with
//   Content-Type: application/cloudevents+json; charset=utf-8
//   X-Vidgate-Event-Id: <event id>
//   X-Vidgate-Signature: sha256=<lower-case hex HMAC-SHA256(secret, body)>
// and, as Standard Webhooks (standardwebhooks.com) receivers expect,
//   webhook-id: <event id>
//   webhook-timestamp: <seconds since the epoch>
//   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
// where the key is the secret's bytes, or for a "whsec_<base64>" secret the
// decoded bytes; the signatures only when the secret is non-empty. Redirects
// are never followed: a signed body goes to the configured URL only, and a
// 3xx answer is a failed try. Any 2xx answer is delivery.
//
// Errors of Deliver (messages name the URL with its user, password, query
// values and fragment hidden, never the secret):
//   kUnavailable       a non-2xx answer ("webhook URL answered HTTP 503", then
//                      the start of the response body if any), a connection
//                      or TLS failure (curl's text).
//   kDeadlineExceeded  no complete answer within timeout_seconds.
//   kInvalidArgument   the event is not a JSON object with a string "id".
//   kInternal          libcurl could not be set up (out of memory).
//   kCancelled         Cancel() was called (the request in flight is cut).
//
// Thread-safe: the sink is immutable; requests go through the net::Client
// given to Create (which must outlive the sink), so connections are reused.
class WebhookSink final : public Sink {
 public:
  // Create checks the options: kInvalidArgument if the URL does not parse, is
  // not http(s), timeout_seconds is not a positive number, or a "whsec_"
  // secret is not base64.
  static Result<std::unique_ptr<WebhookSink>> Create(WebhookOptions options, net::Client* client);

  // "webhook:" followed by the URL with its secrets hidden (see above), and
  // " #label" when a label is set.
  const std::string& id() const override { return id_; }

  Status Deliver(const nlohmann::json& event) override;
  double max_seconds() const override { return options_.timeout_seconds; }
  void Cancel() override { cancelled_ = true; }

 private:
  WebhookSink(WebhookOptions options, net::Client* client, std::string display_url,
              std::string signing_key);

  const WebhookOptions options_;
  net::Client* const client_;
  const std::string display_url_;  // the URL for messages: no secrets
  const std::string signing_key_;  // Standard Webhooks' HMAC key
  const std::string id_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace vidgate::notify
