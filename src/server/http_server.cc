#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>

#include "common/util.h"
#include "server/internal/http_util.h"
#include "server/metrics.h"

namespace vidgate::server {
namespace {

using internal::Error;

constexpr int kListenBacklog = 1024;

// The largest body of a call other than an upload (retry takes none).
constexpr uint64_t kLargestCallBody = 64 << 10;

// The session cookie's name, and its value: a key derived from the token
// that opens reads only, so the token itself is never kept in a browser
// cookie (HttpOnly: no script reads it).
constexpr const char* kReadCookie = "vidgate_read";
std::string ReadKey(const std::string& token) { return HmacSha256Hex(token, "vidgate read"); }

// The request says a body follows.
bool DeclaresBody(const httplib::Request& req) {
  return req.has_header("Transfer-Encoding") ||
         req.get_header_value<uint64_t>("Content-Length") > 0;
}

// Sends the answer in `res` as it is, then closes the connection: a
// provider that writes it whole and then reports failure.
void CloseAfterAnswer(httplib::Response& res) {
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  const std::string type = res.get_header_value("Content-Type");
  res.headers.erase("Content-Type");
  res.set_header("Connection", "close");
  res.set_content_provider(body->size(), type.empty() ? "application/json" : type.c_str(),
                           [body](size_t, size_t, httplib::DataSink& sink) {
                             sink.write(body->data(), body->size());
                             return false;
                           });
}

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
  }
  return "";
}

// Compares the token presented with the one configured in constant time:
// both are hashed first, so neither their bytes nor their lengths show in
// the time taken.
bool SameToken(const std::string& given, const std::string& expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

bool Changes(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// The host part of a Host header or an Origin's authority.
std::string HostOnly(std::string authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string::npos ? authority : authority.substr(1, close - 1);
  }
  const size_t colon = authority.rfind(':');
  return colon == std::string::npos ? authority : authority.substr(0, colon);
}

bool LoopbackName(const std::string& host) {
  auto parsed = ParseListen(host + ":0");
  return parsed.ok() && parsed->loopback;
}

}  // namespace

namespace internal {

namespace {

// The answer an error of the catalog or the store gets: one table for the
// status and its code word.
struct HttpError {
  int status;
  const char* code;
};

HttpError HttpErrorOf(Code code) {
  switch (code) {
    case Code::kOk:
      return {200, "ok"};
    case Code::kInvalidArgument:
      return {400, "bad_request"};
    case Code::kNotFound:
      return {404, "not_found"};
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
      return {409, "conflict"};
    case Code::kPermissionDenied:
      return {403, "forbidden"};
    case Code::kDeadlineExceeded:
      return {504, "timeout"};
    case Code::kUnavailable:
    case Code::kCancelled:
    case Code::kResourceExhausted:
      return {503, "unavailable"};
    case Code::kInternal:
      break;
  }
  return {500, "internal"};
}

}  // namespace

int HttpStatusOf(const Status& status) { return HttpErrorOf(status.code()).status; }
std::string ErrorCodeOf(const Status& status) { return HttpErrorOf(status.code()).code; }

}  // namespace internal

Result<ListenAddress> ParseListen(const std::string& listen) {
  const std::string what = "server.listen '" + listen + "'";
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return InvalidArgument(what + " is not HOST:PORT (e.g. 127.0.0.1:8080)");
  }
  ListenAddress a;
  a.host = listen.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || end != port.data() + port.size() || a.port < 0 || a.port > 65535) {
    return InvalidArgument(what + " has no port from 0 to 65535");
  }
  in_addr v4{};
  a.loopback = a.host == "localhost" || a.host == "::1" ||
               (::inet_pton(AF_INET, a.host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
  return a;
}

HttpServer::HttpServer(ServerDeps deps, ServerOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }  // before the gate the routes hold goes

Status HttpServer::Start() {
  VG_ASSIGN_OR_RETURN(ListenAddress at, ParseListen(options_.listen));
  // The HTTP library percent-decodes header values, so a token holding '%'
  // (or bytes a header cannot carry) would never match what clients send.
  for (unsigned char c : options_.token) {
    if (c == '%' || c <= ' ' || c >= 0x7F) {
      return InvalidArgument(
          "server.token holds '%', a space or a byte a header cannot carry; use plain letters, "
          "digits and -._~+/= (e.g. openssl rand -hex 32)");
    }
  }
  if (!at.loopback && options_.token.empty()) {
    return InvalidArgument("server.listen '" + options_.listen +
                           "' is not a loopback address and server.token is not set: anyone who "
                           "reaches it could read the catalog and change it; set server.token "
                           "(e.g. \"env:VIDGATE_API_TOKEN\"), listen on 127.0.0.1:PORT, or pass "
                           "--no-server");
  }
  http_ = std::make_unique<httplib::Server>();
  // A client that stalls is cut off, and holds one thread meanwhile.
  const auto io_seconds = static_cast<time_t>(options_.io_timeout_seconds);
  const auto io_micros =
      static_cast<time_t>((options_.io_timeout_seconds - static_cast<double>(io_seconds)) * 1e6);
  http_->set_read_timeout(io_seconds, io_micros);
  http_->set_write_timeout(io_seconds, io_micros);
  // httplib waits this long for a connection's next request, also after
  // answering a broken one with 400: never longer than a stall is allowed.
  http_->set_keep_alive_timeout(
      std::clamp<time_t>(static_cast<time_t>(std::ceil(options_.io_timeout_seconds)), 1, 5));

  const bool loopback = at.loopback;
  auto gate = [this, loopback](const httplib::Request& req, httplib::Response& res) {
    // httplib cuts every answer by the request's Range, even an error's or
    // a JSON document's; only the file routes serve ranges, and they read
    // the header themselves (ServeObject).
    const_cast<httplib::Ranges&>(req.ranges).clear();
    if (req.method == "POST" && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      // RFC 9112: such a request has no body. httplib would wait for one
      // until its read time-out and answer 400 (`curl -X POST URL`).
      const_cast<httplib::Headers&>(req.headers).emplace("Content-Length", "0");
    }
    if (req.path != "/api/videos" &&
        (req.has_header("Transfer-Encoding") ||
         req.get_header_value<uint64_t>("Content-Length") > kLargestCallBody)) {
      // Only an upload is large; any other call's body is read whole, and
      // httplib reads a chunked body without a limit.
      Error(res, 413, "too_large",
            "this call takes no body larger than 64 KiB, and none in chunks (only an upload, "
            "POST /api/videos, does)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path == "/healthz" || req.path == "/readyz" ||
        (req.method == "DELETE" && req.path == "/api/session")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    // The dashboard's page and files hold no data (the API it reads asks
    // for the token), so a browser can load them; on loopback the Host is
    // still checked.
    const bool page = req.method == "GET" && (req.path == "/" || req.path.starts_with("/assets/"));
    if (loopback && !LoopbackName(HostOnly(req.get_header_value("Host")))) {
      Error(res, 403, "forbidden",
            "this server listens on loopback; the Host header must name it (127.0.0.1, "
            "localhost or [::1])");
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool changes = Changes(req.method);
    if (!options_.token.empty() && (changes || !loopback) && !page) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string scheme = "Bearer ";
      std::string given;
      if (auth.size() > scheme.size() && auth.compare(0, scheme.size(), scheme) == 0) {
        given = auth.substr(scheme.size());
      } else if (!changes && req.path.starts_with("/api/")) {
        // The dashboard's pictures and player cannot send a header: a read
        // may carry the session cookie POST /api/session set instead. It
        // holds a key that only reads (a change never takes a cookie: it
        // goes along with requests other sites make).
        const std::string read_key = CookieValue(req.get_header_value("Cookie"), kReadCookie);
        if (!read_key.empty()) {
          if (!SameToken(read_key, ReadKey(options_.token))) {
            Error(res, 403, "bad_token", "the session cookie is not this server's; sign in again");
            return httplib::Server::HandlerResponse::Handled;
          }
          return httplib::Server::HandlerResponse::Unhandled;
        }
      }
      if (given.empty()) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"vidgate\"");
        Error(
            res, 401, "unauthorized",
            std::string(changes ? "this call changes something" : "reading from another machine") +
                " needs the header 'Authorization: Bearer TOKEN' with server.token");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!SameToken(given, options_.token)) {
        Error(res, 403, "bad_token", "the bearer token is not server.token");
        return httplib::Server::HandlerResponse::Handled;
      }
    } else if (changes && req.has_header("Origin")) {
      // Without a token anyone local may change things, but no other web
      // site through a browser: its Origin must be this server.
      const std::string origin = req.get_header_value("Origin");
      const size_t scheme_end = origin.find("://");
      const std::string authority =
          scheme_end == std::string::npos ? "" : origin.substr(scheme_end + 3);
      if (authority != req.get_header_value("Host")) {
        Error(res, 403, "forbidden",
              "a call that changes something from another web site (Origin " + origin +
                  ") is refused; set server.token to allow other clients");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  };
  http_->set_pre_routing_handler([gate](const httplib::Request& req, httplib::Response& res) {
    const auto handled = gate(req, res);
    // Refused before its body was read: httplib would keep the connection
    // and read that body as the next requests. The answer is sent, then the
    // connection closed.
    if (handled == httplib::Server::HandlerResponse::Handled && DeclaresBody(req)) {
      CloseAfterAnswer(res);
    }
    return handled;
  });

  internal::AddHealthRoutes(*http_, deps_, options_);
  if (deps_.metrics != nullptr) {
    http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(deps_.metrics->Scrape(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  internal::AddApiRoutes(*http_, deps_);
  internal::AddDashboardRoutes(*http_);
  // The dashboard's session (see kReadCookie): set with the token, cleared
  // by anyone (it only forgets).
  http_->Post("/api/session", [this](const httplib::Request&, httplib::Response& res) {
    if (!options_.token.empty()) {
      res.set_header("Set-Cookie", std::string(kReadCookie) + "=" + ReadKey(options_.token) +
                                       "; Path=/api/; HttpOnly; SameSite=Strict");
    }
    res.status = 204;
  });
  http_->Delete("/api/session", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Set-Cookie", std::string(kReadCookie) +
                                     "=; Path=/api/; HttpOnly; SameSite=Strict; Max-Age=0");
    res.status = 204;
  });
  internal::AddUploadRoute(*http_, deps_, options_);
  streams_ = std::make_unique<internal::StreamGate>();
  internal::AddEventsRoute(*http_, deps_, streams_.get());
  // Each request holds a thread while it lasts (an event stream, a slow
  // upload): enough of them that those never starve the rest, and event
  // streams are capped below this.
  http_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  // The largest body: an upload, its metadata and the multipart framing.
  http_->set_payload_max_length(static_cast<size_t>(options_.max_upload_bytes) + (2 << 20));
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    // httplib fills the ranges of a malformed Range header before it gives
    // up on it (416): they would cut this answer too.
    const_cast<httplib::Ranges&>(req.ranges).clear();
    if (res.status == 404 && res.body.empty()) {
      Error(res, 404, "not_found", "no such path: " + req.path);
    } else if (res.status == 405) {
      Error(res, 405, "method_not_allowed", req.method + " is not served on " + req.path);
    } else if (res.status == 413 && res.body.empty()) {
      Error(res, 413, "too_large", "the request is larger than this server takes");
    } else if (res.status == 416 && res.body.empty()) {
      // httplib refuses a malformed Range before any route sees it.
      Error(res, 416, "range_not_satisfiable",
            "the Range header is not one this server reads (bytes=FIRST-LAST, FIRST- or -LENGTH)");
    } else if (res.status == 400 && res.body.empty()) {
      Error(res, 400, "bad_request", "the request could not be read");
    }
  });
  http_->set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        deps_.log->error("server: {} {}: {}", req.method, req.path, what);
        Error(res, 500, "internal", "the server failed on this request; see the log");
      });

  // httplib listens with a backlog of 5: a burst of clients (a dashboard's
  // pictures, a load balancer's probes) overflowed it, and some found their
  // connection dropped. The socket is noted as it is made and, once bound,
  // listened on again with a deep backlog (Linux takes the new length).
  // SO_REUSEADDR only: a restart rebinds at once, but a second process on
  // the same port is refused (httplib's default, SO_REUSEPORT, would let
  // both listen and split the requests between them).
  std::atomic<int> listening{-1};
  auto reuse_address = [](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  };
  http_->set_socket_options([&listening, reuse_address](socket_t sock) {
    reuse_address(sock);
    listening = sock;
  });
  int port = at.port;
  if (port == 0) {
    port = http_->bind_to_any_port(at.host);
  } else if (!http_->bind_to_port(at.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    http_.reset();
    return Unavailable("cannot serve on server.listen '" + options_.listen +
                       "' (in use, or no such address): set another, or pass --no-server");
  }
  address_ = (at.host.find(':') != std::string::npos ? "[" + at.host + "]" : at.host) + ":" +
             std::to_string(port);
  http_->set_socket_options(reuse_address);  // `listening` goes away
  if (listening >= 0) ::listen(listening, kListenBacklog);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status();
}

void HttpServer::Stop() {
  if (streams_) streams_->stopping = true;
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vidgate::server
