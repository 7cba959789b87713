// health_server.h: the HTTP server `vidgate run` serves on server.listen.
// For now its health endpoints, which container platforms probe:
//   GET /healthz  200 while the process works: its intake loop turned within
//                 stall_seconds (503 when it is stuck);
//   GET /readyz   200 when the catalog and the store answer and intake runs
//                 (503 naming what does not).
// Errors are {"error":{"code","message"}}. The API and /metrics come next
// (their issue); until bearer tokens arrive with them, only loopback
// addresses are served.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "catalog/catalog.h"
#include "common/status.h"
#include "storage/store.h"

namespace spdlog {
class logger;
}
namespace httplib {
class Server;
}

namespace vidgate::server {

struct ServerDeps {
  catalog::Catalog* catalog;
  storage::Store* store;
  spdlog::logger* log;
  // Seconds since the intake loop last turned (a steady clock); negative:
  // not yet.
  std::function<double()> since_last_turn;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // "HOST:PORT"; port 0 takes a free one
  // /healthz fails after this long without a turn (a listing of a huge bucket
  // may hold the loop for a while).
  double stall_seconds = 300;
};

class HealthServer {
 public:
  HealthServer(ServerDeps deps, ServerOptions options);
  ~HealthServer();  // stops serving
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Binds and serves on a thread of its own. kInvalidArgument for a listen
  // address that is malformed or not loopback, kUnavailable when it cannot
  // be bound (in use): one sentence naming server.listen.
  Status Start();
  // "HOST:PORT" as bound.
  std::string address() const { return address_; }
  void Stop();

 private:
  void Routes();

  ServerDeps deps_;
  ServerOptions options_;
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
