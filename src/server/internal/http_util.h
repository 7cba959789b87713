// http_util.h: what every route of the server shares: JSON answers, the
// error shape, and the routes' signatures.
#pragma once

#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "server/http_server.h"

namespace vidgate::server::internal {

inline void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// {"error":{"code","message"}}; `code` is a short snake_case word.
inline void Error(httplib::Response& res, int status, const std::string& code,
                  const std::string& message) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

// The status an error of the catalog or the store answers with.
int HttpStatusOf(const Status& status);
std::string ErrorCodeOf(const Status& status);
inline void Error(httplib::Response& res, const Status& status) {
  Error(res, HttpStatusOf(status), ErrorCodeOf(status), status.message());
}

// The event streams' bounds: each holds a server thread while it lasts.
struct StreamGate {
  int max_streams = 32;
  std::atomic<int> open{0};
  std::atomic<bool> stopping{false};  // the server is stopping: streams end
};

void AddHealthRoutes(httplib::Server& http, const ServerDeps& deps, const ServerOptions& options);
void AddApiRoutes(httplib::Server& http, const ServerDeps& deps);
void AddUploadRoute(httplib::Server& http, const ServerDeps& deps, const ServerOptions& options);
void AddDashboardRoutes(httplib::Server& http);
// `deps` and `gate` must outlive the server.
void AddEventsRoute(httplib::Server& http, const ServerDeps& deps, StreamGate* gate);

}  // namespace vidgate::server::internal
