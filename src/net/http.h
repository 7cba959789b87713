// http.h: the one HTTP client every outbound call goes through (webhooks,
// S3, SQS, SNS, the credential endpoints, the Lambda runtime), on libcurl.
//
// An answer with any HTTP status is a Response, not an error: what a status
// means is the caller's to say (HttpStatus gives the usual mapping). Errors
// are transport failures only. Redirects are never followed: a signed
// request goes where it was signed for, or nowhere.
//
// Example:
//   net::CurlGlobal curl;  // once, in main, before any thread starts
//   net::Client client;
//   net::Request r;
//   r.method = "POST";
//   r.url = "https://example.com/hook";
//   r.body = json_text;
//   VG_ASSIGN_OR_RETURN(net::Response answer, client.Send(r));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace vidgate::net {

// Calls curl_global_init on construction and curl_global_cleanup on
// destruction (only if the init succeeded). Create exactly one, in main,
// while no other thread runs, and let it outlive every Client.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
  // ok if libcurl initialised, else kInternal naming the curl error.
  Status status() const { return status_; }

 private:
  Status status_;
};

using Header = std::pair<std::string, std::string>;

struct Response;

struct Request {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL, already percent-encoded; sent as is ("/../" too)
  std::vector<Header> headers;
  // The body: `body`, or when `read_body` is set, `body_size` bytes pulled
  // from it (it fills up to `size` bytes of `buffer` and says how many it
  // wrote; an error, or 0 before body_size, fails the request with that
  // error). Content-Length is always sent: never a chunked upload (S3
  // refuses them).
  std::string_view body;
  std::function<Result<size_t>(char* buffer, size_t size)> read_body;
  int64_t body_size = 0;
  // Where the response body goes: kept in Response::body up to
  // `max_body_bytes` (the rest is dropped and body_truncated set), or when
  // `write_body` is set, handed to it piece by piece (an error aborts the
  // request with that error). Only bodies of 2xx answers go to write_body;
  // others are kept in Response::body.
  size_t max_body_bytes = 8 << 20;
  std::function<Status(std::string_view piece)> write_body;
  // Called once a 2xx answer's status and headers are in, before its body
  // reaches write_body (so a caller can refuse an answer that is not the one
  // it asked for); an error aborts the request with that error.
  std::function<Status(const Response&)> on_answer;
  // Whole request, connect included; 0 = no limit (then a transfer that
  // moves nothing for `stall_seconds` is ended instead).
  double timeout_seconds = 30;
  double connect_timeout_seconds = 10;
  double stall_seconds = 30;
  // Checked about once a second and on every transfer: set, it cuts the
  // request short with kCancelled.
  const std::atomic<bool>* cancel = nullptr;
  // What messages call the target: the URL with its secrets hidden. Empty:
  // the URL's scheme and host only.
  std::string display;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // names in lower case, in order
  std::string body;
  bool body_truncated = false;

  std::string HeaderValue(std::string_view name) const;
};

// Errors of Send (messages start with the request's display name):
//   kUnavailable       no connection, a reset one, DNS or TLS failure.
//   kDeadlineExceeded  timeout_seconds or stall_seconds ran out.
//   kCancelled         `cancel` was set.
//   kInvalidArgument   the URL is not one curl can use.
//   kInternal          libcurl could not be set up.
//   whatever read_body or write_body returned, if they failed.
// Thread-safe. Keeps idle connections for reuse between calls (a small pool
// of curl handles). Requires a live CurlGlobal.
class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<Response> Send(const Request& request);

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// `text` fit for one line of a message or a header: control characters
// (CR and LF included) become spaces, the ends are trimmed.
std::string OneLine(std::string_view text);

// The usual meaning of an HTTP error status, for callers that have no
// better one: 400/411/413/414 kInvalidArgument, 401/403 kPermissionDenied,
// 404/410 kNotFound, 409/412 kFailedPrecondition, 408/429/5xx kUnavailable
// (retryable), anything else kUnavailable. `message` becomes the Status's.
Status HttpStatus(long status, std::string message);

// Whether a failed call is worth another try at once: kUnavailable and
// kDeadlineExceeded.
bool Transient(const Status& status);

// Back-off between tries of one call: try n (1-based) waits a random time
// in [0, min(max_seconds, base_seconds * 2^(n-1))] ("full jitter").
struct RetryPolicy {
  int max_tries = 4;
  double base_seconds = 0.2;
  double max_seconds = 5;
};

// Runs `call` until it returns ok or a Status that is not Transient, or
// max_tries calls have been made; sleeps between them through `sleep`
// (tests pass a fake). Stops early with kCancelled if `cancel` is set.
// Returns the last Status.
Status Retry(const RetryPolicy& policy, const std::function<Status()>& call,
             const std::function<void(double seconds)>& sleep = {},
             const std::atomic<bool>* cancel = nullptr);

}  // namespace vidgate::net
