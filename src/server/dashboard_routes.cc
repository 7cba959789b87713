// The dashboard: GET / and GET /assets/NAME, the files of web/ listed in
// web/assets.txt, built into the binary (nothing to install beside it, no
// network at run time). They hold no data: the page reads the API, which
// asks for the token when one is set.

#include <string_view>

#include "server/assets.h"
#include "server/internal/http_util.h"

namespace vidgate::server::internal {
namespace {

std::string_view TypeOf(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".map", "application/json"},
      {".json", "application/json"},
      {".png", "image/png"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

void Serve(const httplib::Request& req, httplib::Response& res, std::string_view name) {
  auto bytes = web::Find(name);
  if (!bytes) return Error(res, 404, "not_found", "no such file: " + req.path);
  // Made from the bytes at build time: the same build serves the same tag,
  // a new one another, so browsers revalidate cheaply and never keep a
  // stale page.
  const std::string tag = "\"" + std::string(web::TagOf(name)) + "\"";
  res.set_header("ETag", tag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (name.ends_with(".html")) {
    // Not framed by another site (its buttons change things), no referrer
    // leaves with the page's URLs.
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
                   "form-action 'self'");
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (req.get_header_value("If-None-Match") == tag) {
    res.status = 304;
    return;
  }
  res.set_content(bytes->data(), bytes->size(), std::string(TypeOf(name)).c_str());
}

}  // namespace

void AddDashboardRoutes(httplib::Server& http) {
  http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    Serve(req, res, "index.html");
  });
  http.Get(R"(/assets/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    // Only names of the list were built in: anything else (.., %2F, NUL)
    // is simply not found.
    Serve(req, res, req.matches[1].str());
  });
}

}  // namespace vidgate::server::internal
