// http_server.h: the HTTP server `vidgate run` serves on server.listen.
//   GET /healthz, /readyz      health, for container platforms (always open)
//   GET /metrics               Prometheus text exposition (metrics.h)
//   /api/...                   the JSON API (api_routes.cc)
// Errors are {"error":{"code","message"}}.
//
// Who may call (server.token):
// - with a token, every call that changes something needs
//   "Authorization: Bearer TOKEN" (401 without it, 403 with another one),
//   and so does every read when the address is not loopback;
// - without one, only a loopback address is served, and a call that changes
//   something must not come from another web site (its Origin header, when
//   present, must be this server);
// - on a loopback address the Host header must name loopback too, so a web
//   page whose name was rebound to 127.0.0.1 cannot read the API.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "storage/store.h"

namespace spdlog {
class logger;
}
namespace httplib {
class Server;
}

namespace vidgate::server {

class Metrics;
namespace internal {
struct StreamGate;
}

struct ServerDeps {
  catalog::Catalog* catalog;
  storage::Store* store;
  spdlog::logger* log;
  const Clock* clock;
  // Seconds since the intake loop last turned (a steady clock); negative:
  // not yet.
  std::function<double()> since_last_turn;
  Metrics* metrics = nullptr;  // null: no /metrics
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // "HOST:PORT"; port 0 takes a free one
  std::string token;                      // resolved server.token; "" = none
  // POST /api/videos takes videos up to this size (larger: 413, nothing kept).
  int64_t max_upload_bytes = int64_t{10} << 30;
  std::vector<std::string> required_metadata;  // metadata.required
  // How long an upload's answer waits for intake to give the video its id
  // (201 with it; 202 with none after that).
  double upload_id_wait_seconds = 10;
  // /healthz fails after this long without a turn (a listing of a huge bucket
  // may hold the loop for a while).
  double stall_seconds = 300;
  // A client that sends or takes nothing for this long is cut off (a
  // stalled upload, a half-sent request): its thread goes back to the pool.
  double io_timeout_seconds = 30;
};

class HttpServer {
 public:
  HttpServer(ServerDeps deps, ServerOptions options);
  ~HttpServer();  // stops serving
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and serves on threads of its own. kInvalidArgument for a listen
  // address that is malformed, or not loopback while there is no token;
  // kUnavailable when it cannot be bound (in use): one sentence naming
  // server.listen.
  Status Start();
  // "HOST:PORT" as bound.
  std::string address() const { return address_; }
  void Stop();

 private:
  ServerDeps deps_;
  ServerOptions options_;
  std::unique_ptr<internal::StreamGate> streams_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string address_;
};

// "HOST:PORT" split, or kInvalidArgument; loopback: a numeric address in
// 127.0.0.0/8, ::1, or localhost (no other name: it could resolve anywhere).
struct ListenAddress {
  std::string host;
  int port = 0;
  bool loopback = false;
};
Result<ListenAddress> ParseListen(const std::string& listen);

}  // namespace vidgate::server
