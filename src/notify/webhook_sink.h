// webhook_sink.h: a Sink that POSTs each notification to an HTTP endpoint,
// the libcurl guard app/main owns, and the resolution of secret specs.
//
// Example (app/main):
//   notify::CurlGlobal curl;  // before any thread starts
//   VG_RETURN_IF_ERROR(curl.status());
//   VG_ASSIGN_OR_RETURN(std::string secret, notify::ResolveSecret(config.secret));
//   VG_ASSIGN_OR_RETURN(auto sink, notify::WebhookSink::Create(
//       {.url = config.url, .secret = secret, .timeout_seconds = 10}));
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "notify/sink.h"

namespace vidgate::notify {

// CurlGlobal calls curl_global_init on construction and curl_global_cleanup on
// destruction (only if the init succeeded). Create exactly one, in app/main,
// while no other thread runs, and let it outlive every WebhookSink call.
// Neither copyable nor movable.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;

  // status is ok if libcurl initialised, else kInternal naming the curl error.
  Status status() const { return status_; }

 private:
  Status status_;
};

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
// Thread-safe: the sink is immutable and each Deliver uses its own curl easy
// handle (no connection reuse across calls). Requires a live CurlGlobal.
class WebhookSink final : public Sink {
 public:
  // Create checks the options: kInvalidArgument if the URL does not parse, is
  // not http(s), timeout_seconds is not a positive number, or a "whsec_"
  // secret is not base64.
  static Result<std::unique_ptr<WebhookSink>> Create(WebhookOptions options);

  // "webhook:" followed by the URL with its secrets hidden (see above), and
  // " #label" when a label is set.
  const std::string& id() const override { return id_; }

  Status Deliver(const nlohmann::json& event) override;
  double max_seconds() const override { return options_.timeout_seconds; }
  void Cancel() override { cancelled_ = true; }

 private:
  WebhookSink(WebhookOptions options, std::string display_url, std::string signing_key);

  const WebhookOptions options_;
  const std::string display_url_;  // the URL for messages: no secrets
  const std::string signing_key_;  // Standard Webhooks' HMAC key
  const std::string id_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::atomic<bool> cancelled_{false};
};

// ResolveSecret turns a configured secret spec into its value:
//   "env:NAME"   the value of environment variable NAME; kInvalidArgument
//                "environment variable NAME is not set" if it is missing, or
//                "... is empty" if it is empty (asking for a secret and
//                getting none is a mistake).
//   "file:PATH"  the file's contents without trailing "\n"/"\r" characters;
//                kNotFound if it does not exist, kPermissionDenied if it may
//                not be read, kInvalidArgument if it is a directory or empty.
//   otherwise    the spec itself, literally (so "" means no secret).
// Messages name the variable or the path, never the value. Reads the
// environment: do not call while another thread calls setenv.
Result<std::string> ResolveSecret(std::string_view spec);

}  // namespace vidgate::notify
