#include "notify/webhook_sink.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "common/secrets.h"
#include "common/util.h"

namespace vidgate::notify {
namespace {

struct UrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlFree>;

struct CurlStringFree {
  void operator()(char* s) const { curl_free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringFree>;

// How much of a non-2xx response body goes into the error message.
constexpr size_t kMaxBodySnippet = 200;

// What of a webhook URL is shown: tokens ride in user names, passwords,
// long path segments (Slack, Discord), query strings and fragments.
const UrlRedaction kHideWebhookSecrets{.hide_user = true, .hide_path_segments_from = 16};

// Returns the URL without user:password, or kInvalidArgument if it is not an
// http(s) URL curl can parse.
Result<std::string> DisplayUrl(const std::string& url) {
  UrlPtr handle(curl_url());
  if (!handle) return Internal("cannot parse the webhook url: out of memory");
  CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc != CURLUE_OK) {
    return InvalidArgument(fmt::format("webhook url \"{}\" is not a valid URL: {}",
                                       RedactUrl(url, kHideWebhookSecrets), curl_url_strerror(rc)));
  }
  char* raw = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) {
    return InvalidArgument(
        fmt::format("webhook url \"{}\" has no scheme", RedactUrl(url, kHideWebhookSecrets)));
  }
  CurlString scheme(raw);
  std::string_view s(scheme.get());
  if (s != "http" && s != "https") {
    return InvalidArgument(
        fmt::format("webhook url must start with http:// or https://, not {}://", s));
  }
  // Tokens ride in user names, passwords, query strings and fragments.
  return RedactUrl(url, kHideWebhookSecrets);
}

}  // namespace

Result<std::unique_ptr<WebhookSink>> WebhookSink::Create(WebhookOptions options,
                                                         net::Client* client) {
  if (client == nullptr) return Internal("webhook sink created without an HTTP client");
  if (!std::isfinite(options.timeout_seconds) || options.timeout_seconds <= 0) {
    return InvalidArgument(fmt::format("webhook timeout_seconds must be a positive number, not {}",
                                       options.timeout_seconds));
  }
  VG_ASSIGN_OR_RETURN(std::string display_url, DisplayUrl(options.url));
  // Standard Webhooks' "whsec_<base64>" secrets sign with the decoded bytes;
  // any other secret signs with its own bytes.
  std::string signing_key = options.secret;
  if (options.secret.starts_with("whsec_")) {
    auto decoded = Base64Decode(std::string_view(options.secret).substr(6));
    if (!decoded.ok() || decoded->empty()) {
      return InvalidArgument("webhook secret starts with whsec_ but the rest is not base64");
    }
    signing_key = std::move(decoded).value();
  }
  return std::unique_ptr<WebhookSink>(
      new WebhookSink(std::move(options), client, std::move(display_url), std::move(signing_key)));
}

WebhookSink::WebhookSink(WebhookOptions options, net::Client* client, std::string display_url,
                         std::string signing_key)
    : options_(std::move(options)),
      client_(client),
      display_url_(std::move(display_url)),
      signing_key_(std::move(signing_key)),
      id_("webhook:" + display_url_ + (options_.label.empty() ? "" : " #" + options_.label)),
      clock_(options_.clock != nullptr ? options_.clock : &system_clock_) {}

Status WebhookSink::Deliver(const nlohmann::json& event) {
  if (!event.is_object()) {
    return InvalidArgument(
        fmt::format("cannot send to webhook {}: the event is not a JSON object", display_url_));
  }
  auto id_it = event.find("id");
  if (id_it == event.end() || !id_it->is_string()) {
    return InvalidArgument(
        fmt::format("cannot send to webhook {}: the event has no string \"id\"", display_url_));
  }
  const std::string body = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  net::Request request;
  request.method = "POST";
  request.url = options_.url;
  request.display = "webhook " + display_url_;
  request.body = body;
  request.timeout_seconds = options_.timeout_seconds;
  request.connect_timeout_seconds = options_.timeout_seconds;
  request.stall_seconds = 0;
  request.max_body_bytes = kMaxBodySnippet;
  request.cancel = &cancelled_;
  auto& headers = request.headers;
  headers.emplace_back("Content-Type", "application/cloudevents+json; charset=utf-8");
  // The event id is a JSON string and may hold anything; keep the header line one line.
  const std::string id = net::OneLine(id_it->get<std::string>());
  headers.emplace_back("X-Vidgate-Event-Id", id);
  if (!options_.secret.empty()) {
    headers.emplace_back("X-Vidgate-Signature", "sha256=" + HmacSha256Hex(options_.secret, body));
    // Standard Webhooks: the id and the time are signed with the body, so a
    // receiver can refuse a replay.
    const std::string timestamp = std::to_string(static_cast<int64_t>(std::floor(clock_->Now())));
    headers.emplace_back("webhook-id", id);
    headers.emplace_back("webhook-timestamp", timestamp);
    headers.emplace_back(
        "webhook-signature",
        "v1," + Base64Encode(HmacSha256(signing_key_, id + "." + timestamp + "." + body)));
  }

  Result<net::Response> answer = client_->Send(request);
  if (!answer.ok()) return answer.status();
  const long http_status = answer->status;
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  std::string message = fmt::format("webhook {} answered HTTP {}", display_url_, http_status);
  if (http_status >= 300 && http_status < 400) {
    message += " (a redirect: not followed, a signed delivery goes only to the configured URL)";
  } else if (std::string line = net::OneLine(std::move(answer->body)); !line.empty()) {
    message += ": " + line;
  }
  return Unavailable(std::move(message));
}

}  // namespace vidgate::notify
