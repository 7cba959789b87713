#include "net/http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "common/secrets.h"

namespace vidgate::net {
namespace {

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using EasyPtr = std::unique_ptr<CURL, EasyFree>;

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

// Idle handles kept for their open connections.
constexpr size_t kMaxIdleHandles = 16;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One transfer's state, reached from curl's callbacks.
struct Transfer {
  const Request* request = nullptr;
  CURL* handle = nullptr;
  Response response;
  Status callback_error;  // what read_body/write_body returned, if they failed
  size_t body_offset = 0;
  int64_t sent = 0;
  bool answer_checked = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new answer (after 100 Continue)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->response.headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && !t->answer_checked && t->request->on_answer) {
    t->answer_checked = true;
    t->response.status = status;
    if (Status s = t->request->on_answer(t->response); !s.ok()) {
      t->callback_error = std::move(s);
      return CURL_WRITEFUNC_ERROR;
    }
  }
  if (t->request->write_body && status >= 200 && status < 300) {
    Status s = t->request->write_body(std::string_view(data, n));
    if (!s.ok()) {
      t->callback_error = std::move(s);
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  std::string& body = t->response.body;
  const size_t room =
      t->request->max_body_bytes - std::min(t->request->max_body_bytes, body.size());
  body.append(data, std::min(n, room));
  if (n > room) t->response.body_truncated = true;
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const Request& r = *t->request;
  size_t want = size * count;
  if (!r.read_body) {
    const size_t n = std::min(want, r.body.size() - t->body_offset);
    std::copy_n(r.body.data() + t->body_offset, n, buffer);
    t->body_offset += n;
    return n;
  }
  const int64_t left = r.body_size - t->sent;
  if (left <= 0) return 0;
  want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(want)));
  Result<size_t> n = r.read_body(buffer, want);
  if (!n.ok()) {
    t->callback_error = n.status();
    return CURL_READFUNC_ABORT;
  }
  if (*n == 0 || *n > want) {
    t->callback_error = Internal(
        fmt::format("{}: the body ended after {} of {} bytes", r.display, t->sent, r.body_size));
    return CURL_READFUNC_ABORT;
  }
  t->sent += static_cast<int64_t>(*n);
  return *n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->request->cancel != nullptr && t->request->cancel->load() ? 1 : 0;
}

long Millis(double seconds) {
  if (!(seconds > 0)) return 0;
  return std::max(1L, static_cast<long>(std::ceil(seconds * 1000)));
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

std::string OneLine(std::string_view in) {
  std::string s(in);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  size_t begin = s.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(' ') - begin + 1);
}

std::string Response::HeaderValue(std::string_view name) const {
  const std::string lower = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return "";
}

struct Client::Pool {
  std::mutex mu;
  std::vector<EasyPtr> idle;
};

Client::Client() : pool_(std::make_unique<Pool>()) {}
Client::~Client() = default;

Result<Response> Client::Send(const Request& request_in) {
  Request request = request_in;  // cheap: the body is a view or a callback
  if (request.display.empty()) {
    request.display = RedactUrl(request.url, UrlRedaction{.hide_user = true});
  }
  const Request& r = request;
  EasyPtr easy;
  {
    std::lock_guard lock(pool_->mu);
    if (!pool_->idle.empty()) {
      easy = std::move(pool_->idle.back());
      pool_->idle.pop_back();
    }
  }
  if (easy) {
    curl_easy_reset(easy.get());  // keeps its connections
  } else {
    easy.reset(curl_easy_init());
    if (!easy) return Internal(fmt::format("{}: cannot create a libcurl handle", r.display));
  }

  SlistPtr headers;
  auto append = [&headers](const std::string& line) {
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head == nullptr) return false;
    (void)headers.release();
    headers.reset(head);
    return true;
  };
  bool ok = true;
  for (const auto& [name, value] : r.headers) {
    // A header line is one line, whatever a caller put in it.
    ok = ok && append(name + ": " + OneLine(value));
  }
  ok = ok && append("Expect:");  // no 100-continue round trip
  if (!ok) return Internal(fmt::format("{}: cannot build the request headers", r.display));

  Transfer t;
  t.request = &r;
  t.handle = easy.get();
  std::array<char, CURL_ERROR_SIZE> error{};
  CURL* h = easy.get();
  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode c) {
    if (rc == CURLE_OK) rc = c;
  };
  set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data()));
  set(curl_easy_setopt(h, CURLOPT_URL, r.url.c_str()));
  set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  // The path goes as given: curl would squash "/../" and "/./", and an S3
  // key may hold them (the signature covers the path as given).
  set(curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L));
  set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(h, CURLOPT_USERAGENT, "vidgate"));
  set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, Millis(r.timeout_seconds)));
  set(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, Millis(r.connect_timeout_seconds)));
  if (r.stall_seconds > 0) {
    set(curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L));
    set(curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                         std::max(1L, static_cast<long>(std::ceil(r.stall_seconds)))));
  }
  set(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader));
  set(curl_easy_setopt(h, CURLOPT_HEADERDATA, &t));
  set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody));
  set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &t));
  set(curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L));
  set(curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress));
  set(curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t));
  const int64_t body_size = r.read_body ? r.body_size : static_cast<int64_t>(r.body.size());
  if (r.method == "HEAD") {
    set(curl_easy_setopt(h, CURLOPT_NOBODY, 1L));
  } else if (r.method == "GET" || (r.method == "DELETE" && body_size == 0)) {
    if (r.method != "GET") set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str()));
  } else {
    // A body of known size, sent as an upload: Content-Length, never chunked.
    set(curl_easy_setopt(h, CURLOPT_UPLOAD, 1L));
    set(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str()));
    set(curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size)));
    set(curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead));
    set(curl_easy_setopt(h, CURLOPT_READDATA, &t));
  }
  if (rc != CURLE_OK) {
    return Internal(
        fmt::format("{}: cannot set up the request: {}", r.display, curl_easy_strerror(rc)));
  }
  if (r.cancel != nullptr && r.cancel->load()) {
    return Cancelled(fmt::format("{}: vidgate is stopping", r.display));
  }

  rc = curl_easy_perform(h);
  if (!t.callback_error.ok()) return t.callback_error;
  if (rc != CURLE_OK) {
    // The handle may hold a broken connection: not pooled.
    const std::string text = error[0] != '\0' ? OneLine(error.data()) : curl_easy_strerror(rc);
    const std::string message = fmt::format("{}: {}", r.display, text);
    switch (rc) {
      case CURLE_ABORTED_BY_CALLBACK:
        return Cancelled(fmt::format("{}: cut short, vidgate is stopping", r.display));
      case CURLE_OPERATION_TIMEDOUT:
        return DeadlineExceeded(message);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgument(message);
      case CURLE_OUT_OF_MEMORY:
      case CURLE_FAILED_INIT:
        return Internal(message);
      default:
        return Unavailable(message);
    }
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.response.status);
  {
    std::lock_guard lock(pool_->mu);
    if (pool_->idle.size() < kMaxIdleHandles) pool_->idle.push_back(std::move(easy));
  }
  return std::move(t.response);
}

Status HttpStatus(long status, std::string message) {
  switch (status) {
    case 400:
    case 411:
    case 413:
    case 414:
      return InvalidArgument(std::move(message));
    case 401:
    case 403:
      return PermissionDenied(std::move(message));
    case 404:
    case 410:
      return NotFound(std::move(message));
    case 409:
    case 412:
      return FailedPrecondition(std::move(message));
    default:
      return Unavailable(std::move(message));
  }
}

bool Transient(const Status& status) {
  return status.code() == Code::kUnavailable || status.code() == Code::kDeadlineExceeded;
}

Status Retry(const RetryPolicy& policy, const std::function<Status()>& call,
             const std::function<void(double)>& sleep, const std::atomic<bool>* cancel) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Status last;
  for (int n = 1;; ++n) {
    last = call();
    if (last.ok() || !Transient(last) || n >= policy.max_tries) return last;
    if (cancel != nullptr && cancel->load()) return last;
    const double cap = std::min(policy.max_seconds, policy.base_seconds * std::pow(2.0, n - 1));
    const double wait = std::uniform_real_distribution<double>(0.0, cap)(rng);
    if (sleep) {
      sleep(wait);
    } else {
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
  }
}

}  // namespace vidgate::net
