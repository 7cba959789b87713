// GET /healthz and /readyz: what container platforms probe.
#include <fmt/format.h>

#include "server/internal/http_util.h"

namespace vidgate::server::internal {

void AddHealthRoutes(httplib::Server& http, const ServerDeps& deps, const ServerOptions& options) {
  const double stall_seconds = options.stall_seconds;
  http.Get("/healthz", [deps, stall_seconds](const httplib::Request&, httplib::Response& res) {
    const double idle = deps.since_last_turn ? deps.since_last_turn() : -1;
    if (idle > stall_seconds) {
      Reply(res, 503,
            {{"status", "stalled"},
             {"message", fmt::format("the intake loop has not turned for {:.0f} s", idle)}});
      return;
    }
    Reply(res, 200, {{"status", "ok"}});
  });
  http.Get("/readyz", [deps, stall_seconds](const httplib::Request&, httplib::Response& res) {
    nlohmann::json checks = nlohmann::json::object();
    bool ready = true;
    auto pending = deps.catalog->PendingWork();
    checks["catalog"] = pending.ok() ? "ok" : pending.status().message();
    ready &= pending.ok();
    // A key that is never there: "not found" is the store answering.
    auto probe = deps.store->Stat(".vidgate/readyz");
    const bool store_ok = probe.ok() || probe.status().code() == Code::kNotFound;
    checks["store"] = store_ok ? "ok" : probe.status().message();
    ready &= store_ok;
    const double idle = deps.since_last_turn ? deps.since_last_turn() : -1;
    if (idle < 0) {
      checks["intake"] = "not started yet";
      ready = false;
    } else if (idle > stall_seconds) {
      checks["intake"] = "stalled";
      ready = false;
    } else {
      checks["intake"] = "ok";
    }
    Reply(res, ready ? 200 : 503,
          {{"status", ready ? "ready" : "unavailable"}, {"checks", checks}});
  });
}

}  // namespace vidgate::server::internal
