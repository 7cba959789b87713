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

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using EasyPtr = std::unique_ptr<CURL, EasyFree>;

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

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
// A secret file larger than this is a wrong path, not a secret.
constexpr size_t kMaxSecretFileSize = 64 * 1024;

// Keeps the first kMaxBodySnippet bytes of the response body, drops the rest.
size_t KeepSnippet(char* data, size_t size, size_t count, void* user) {
  auto* snippet = static_cast<std::string*>(user);
  size_t n = size * count;
  if (snippet->size() < kMaxBodySnippet) {
    snippet->append(data, std::min(n, kMaxBodySnippet - snippet->size()));
  }
  return n;
}

// The snippet on one line: control characters become spaces, ends trimmed.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  size_t begin = s.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(' ');
  return s.substr(begin, end - begin + 1);
}

// What of a webhook URL is shown: tokens ride in user names, passwords,
// long path segments (Slack, Discord), query strings and fragments.
const UrlRedaction kHideWebhookSecrets{.hide_user = true, .hide_path_segments_from = 16};

// libcurl's progress callback: non-zero aborts the transfer.
int AbortIfCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

// Appends one header line to `list`.
Status AppendHeader(SlistPtr& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) return Internal("cannot build the webhook request headers: out of memory");
  (void)list.release();  // `head` is the same list, extended (or a new one if it was empty)
  list.reset(head);
  return Status::Ok();
}

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

Result<std::string> ReadSecretFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open secret file", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};

  std::string contents;
  std::array<char, 4096> buf{};
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read secret file", path);
    }
    if (n == 0) break;
    contents.append(buf.data(), static_cast<size_t>(n));
    if (contents.size() > kMaxSecretFileSize) {
      return InvalidArgument(
          fmt::format("secret file '{}' is larger than {} bytes", path, kMaxSecretFileSize));
    }
  }
  while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
    contents.pop_back();
  }
  if (contents.empty()) return InvalidArgument(fmt::format("secret file '{}' is empty", path));
  return contents;
}

}  // namespace

CurlGlobal::CurlGlobal() {
  CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    status_ = Internal(fmt::format("cannot initialise libcurl: {}", curl_easy_strerror(rc)));
  }
}

CurlGlobal::~CurlGlobal() {
  if (status_.ok()) curl_global_cleanup();
}

Result<std::unique_ptr<WebhookSink>> WebhookSink::Create(WebhookOptions options) {
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
      new WebhookSink(std::move(options), std::move(display_url), std::move(signing_key)));
}

WebhookSink::WebhookSink(WebhookOptions options, std::string display_url, std::string signing_key)
    : options_(std::move(options)),
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

  SlistPtr headers;
  VG_RETURN_IF_ERROR(
      AppendHeader(headers, "Content-Type: application/cloudevents+json; charset=utf-8"));
  // The event id is a JSON string and may hold anything; keep the header line one line.
  VG_RETURN_IF_ERROR(
      AppendHeader(headers, "X-Vidgate-Event-Id: " + OneLine(id_it->get<std::string>())));
  if (!options_.secret.empty()) {
    VG_RETURN_IF_ERROR(AppendHeader(
        headers, "X-Vidgate-Signature: sha256=" + HmacSha256Hex(options_.secret, body)));
    // Standard Webhooks: the id and the time are signed with the body, so a
    // receiver can refuse a replay.
    const std::string id = OneLine(id_it->get<std::string>());
    const std::string timestamp = std::to_string(static_cast<int64_t>(std::floor(clock_->Now())));
    VG_RETURN_IF_ERROR(AppendHeader(headers, "webhook-id: " + id));
    VG_RETURN_IF_ERROR(AppendHeader(headers, "webhook-timestamp: " + timestamp));
    VG_RETURN_IF_ERROR(AppendHeader(
        headers, "webhook-signature: v1," +
                     Base64Encode(HmacSha256(signing_key_, id + "." + timestamp + "." + body))));
  }
  VG_RETURN_IF_ERROR(AppendHeader(headers, "Expect:"));  // no 100-continue round trip

  EasyPtr curl(curl_easy_init());
  if (!curl) return Internal("cannot create a libcurl handle: out of memory");
  std::array<char, CURL_ERROR_SIZE> error{};
  std::string snippet;
  auto timeout_ms = std::max(1L, static_cast<long>(std::ceil(options_.timeout_seconds * 1000)));

  CURL* h = curl.get();
  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode r) {
    if (rc == CURLE_OK) rc = r;
  };
  set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data()));
  set(curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()));
  set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
  // A signed body goes to the configured URL only: never follow a redirect.
  set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms));
  set(curl_easy_setopt(h, CURLOPT_USERAGENT, "vidgate"));
  set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  set(curl_easy_setopt(h, CURLOPT_POST, 1L));
  set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data()));
  set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())));
  // Checked about once a second and on every transfer: Cancel() cuts the
  // request short.
  set(curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L));
  set(curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, AbortIfCancelled));
  set(curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_));
  set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, KeepSnippet));
  set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &snippet));
  if (rc != CURLE_OK) {
    return Internal(fmt::format("cannot set up the request to webhook {}: {}", display_url_,
                                curl_easy_strerror(rc)));
  }

  if (cancelled_) return Cancelled(fmt::format("webhook {}: vidgate is stopping", display_url_));
  rc = curl_easy_perform(h);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    return Cancelled(fmt::format("webhook {}: cut short, vidgate is stopping", display_url_));
  }
  if (rc != CURLE_OK) {
    std::string text = error[0] != '\0' ? OneLine(error.data()) : curl_easy_strerror(rc);
    std::string message = fmt::format("webhook {}: {}", display_url_, text);
    if (rc == CURLE_OPERATION_TIMEDOUT) return DeadlineExceeded(std::move(message));
    return Unavailable(std::move(message));
  }
  long http_status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http_status);
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  std::string message = fmt::format("webhook {} answered HTTP {}", display_url_, http_status);
  if (http_status >= 300 && http_status < 400) {
    message += " (a redirect: not followed, a signed delivery goes only to the configured URL)";
  } else if (std::string line = OneLine(std::move(snippet)); !line.empty()) {
    message += ": " + line;
  }
  return Unavailable(std::move(message));
}

Result<std::string> ResolveSecret(std::string_view spec) {
  if (spec.starts_with("env:")) {
    std::string name(spec.substr(4));
    if (name.empty()) return InvalidArgument("secret \"env:\" names no environment variable");
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return InvalidArgument(fmt::format("environment variable {} is not set", name));
    }
    if (*value == '\0')
      return InvalidArgument(fmt::format("environment variable {} is empty", name));
    return std::string(value);
  }
  if (spec.starts_with("file:")) {
    std::string path(spec.substr(5));
    if (path.empty()) return InvalidArgument("secret \"file:\" names no file");
    return ReadSecretFile(path);
  }
  return std::string(spec);
}

}  // namespace vidgate::notify
