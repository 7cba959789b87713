#include "server/health_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace vidgate::server {
namespace {

void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void Error(httplib::Response& res, int status, const std::string& code,
           const std::string& message) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace

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

HealthServer::HealthServer(ServerDeps deps, ServerOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

HealthServer::~HealthServer() { Stop(); }

Status HealthServer::Start() {
  VG_ASSIGN_OR_RETURN(ListenAddress at, ParseListen(options_.listen));
  if (!at.loopback) {
    return InvalidArgument("server.listen '" + options_.listen +
                           "' is not a loopback address: serving other machines needs "
                           "server.token, which arrives with the HTTP API; use 127.0.0.1:PORT "
                           "or --no-server");
  }
  http_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: a restart rebinds at once, but a second process on
  // the same port is refused (httplib's default, SO_REUSEPORT, would let
  // both listen and split the requests between them).
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Routes();
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
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status();
}

void HealthServer::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void HealthServer::Routes() {
  http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const double idle = deps_.since_last_turn ? deps_.since_last_turn() : -1;
    if (idle > options_.stall_seconds) {
      Reply(res, 503,
            {{"status", "stalled"},
             {"message", fmt::format("the intake loop has not turned for {:.0f} s", idle)}});
      return;
    }
    Reply(res, 200, {{"status", "ok"}});
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json checks = nlohmann::json::object();
    bool ready = true;
    auto pending = deps_.catalog->PendingWork();
    checks["catalog"] = pending.ok() ? "ok" : pending.status().message();
    ready &= pending.ok();
    // A key that is never there: "not found" is the store answering.
    auto probe = deps_.store->Stat(".vidgate/readyz");
    const bool store_ok = probe.ok() || probe.status().code() == Code::kNotFound;
    checks["store"] = store_ok ? "ok" : probe.status().message();
    ready &= store_ok;
    const double idle = deps_.since_last_turn ? deps_.since_last_turn() : -1;
    if (idle < 0) {
      checks["intake"] = "not started yet";
      ready = false;
    } else if (idle > options_.stall_seconds) {
      checks["intake"] = "stalled";
      ready = false;
    } else {
      checks["intake"] = "ok";
    }
    Reply(res, ready ? 200 : 503,
          {{"status", ready ? "ready" : "unavailable"}, {"checks", checks}});
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      Error(res, 404, "not_found", "no such path: " + req.path);
    } else if (res.status == 405) {
      Error(res, 405, "method_not_allowed", req.method + " is not served on " + req.path);
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
}

}  // namespace vidgate::server
