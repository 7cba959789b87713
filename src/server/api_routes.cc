// The JSON API's reads: the video list, one video's whole story, and the
// fleet's figures. Every answer comes from the shared catalog, so any
// process of a fleet answers for all of it.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <string_view>

#include "catalog/document.h"
#include "common/util.h"
#include "pipeline/alarms.h"
#include "pipeline/naming.h"
#include "pipeline/rerun.h"
#include "server/assets.h"
#include "server/internal/http_util.h"

namespace vidgate::server::internal {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

// A positive decimal id, or nullopt.
std::optional<int64_t> ParseId(std::string_view text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

void ListVideos(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res) {
  catalog::VideoQuery query;
  query.limit = kDefaultPageSize;
  if (req.has_param("state") && !req.get_param_value("state").empty()) {
    auto state = catalog::ParseState(req.get_param_value("state"));
    if (!state.ok()) return Error(res, 400, "bad_request", "state: " + state.status().message());
    query.state = *state;
  }
  query.text = req.get_param_value("q");
  if (req.has_param("limit")) {
    auto limit = ParseId(req.get_param_value("limit"));
    if (!limit || *limit > kMaxPageSize) {
      return Error(res, 400, "bad_request",
                   "limit must be a whole number from 1 to " + std::to_string(kMaxPageSize));
    }
    query.limit = static_cast<int>(*limit);
  }
  if (req.has_param("cursor") && !req.get_param_value("cursor").empty()) {
    auto cursor = ParseId(req.get_param_value("cursor"));
    if (!cursor) {
      return Error(res, 400, "bad_request", "cursor must be the next_cursor of a previous page");
    }
    query.before_id = *cursor;
  }
  // One more than asked tells whether another page follows.
  const int asked = query.limit;
  query.limit = asked + 1;
  auto videos = deps.catalog->FindVideos(query);
  if (!videos.ok()) return Error(res, videos.status());
  nlohmann::json out = {{"videos", nlohmann::json::array()}, {"next_cursor", nullptr}};
  for (int i = 0; i < static_cast<int>(videos->size()) && i < asked; ++i) {
    out["videos"].push_back(catalog::VideoSummary((*videos)[i]));
  }
  if (static_cast<int>(videos->size()) > asked) {
    out["next_cursor"] = std::to_string((*videos)[asked - 1].id);
  }
  Reply(res, 200, out);
}

void GetVideo(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res) {
  const std::string ref = req.matches[1];
  auto id = ParseId(ref);
  if (!id) return Error(res, 404, "not_found", "no video " + ref + " (ids are whole numbers)");
  auto video = deps.catalog->GetVideo(*id);
  if (!video.ok()) return Error(res, video.status());
  auto document = catalog::VideoDocument(*deps.catalog, *video);
  if (!document.ok()) return Error(res, document.status());
  Reply(res, 200, *document);
}

// The video `ref` names (an id), or an error answer already given.
std::optional<catalog::Video> VideoOr404(const ServerDeps& deps, const std::string& ref,
                                         httplib::Response& res) {
  auto id = ParseId(ref);
  if (!id) {
    Error(res, 404, "not_found", "no video " + ref + " (ids are whole numbers)");
    return std::nullopt;
  }
  auto video = deps.catalog->GetVideo(*id);
  if (!video.ok()) {
    Error(res, video.status());
    return std::nullopt;
  }
  return *video;
}

std::string ContentTypeOf(std::string_view key) {
  const size_t dot = key.rfind('.');
  std::string ext = dot == std::string_view::npos ? "" : std::string(key.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, const char*> kTypes[] = {
      {"mp4", "video/mp4"},         {"m4v", "video/mp4"},
      {"m4s", "video/iso.segment"}, {"m3u8", "application/vnd.apple.mpegurl"},
      {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
      {"png", "image/png"},         {"vtt", "text/vtt; charset=utf-8"},
      {"json", "application/json"}, {"mov", "video/quicktime"},
      {"webm", "video/webm"},       {"mkv", "video/x-matroska"},
      {"ts", "video/mp2t"},         {"mxf", "application/mxf"},
  };
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

// Streams the object `key` from the store: Content-Type, Content-Length, an
// ETag (If-None-Match answers 304) and byte ranges (httplib answers a Range
// with 206 from the same provider), never holding the object whole.
void ServeObject(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res,
                 const std::string& key, const std::string& download_name = "") {
  auto info = deps.store->Stat(key);
  if (!info.ok()) return Error(res, info.status());
  const std::string etag =
      "\"" + (info->etag.empty() ? fmt::format("{}-{}", info->size, info->mtime) : info->etag) +
      "\"";
  res.set_header("ETag", etag);
  res.set_header("Accept-Ranges", "bytes");
  // Uploaded bytes on the dashboard's origin: never sniffed into a page,
  // and a document opened from here runs sandboxed.
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", "sandbox");
  res.set_header("Cache-Control", "private, no-cache");
  if (!download_name.empty()) {
    // RFC 6266's UTF-8 form: the name percent-encoded, no quoting pitfalls.
    std::string encoded;
    for (unsigned char c : download_name) {
      if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
        encoded.push_back(static_cast<char>(c));
      } else {
        encoded += fmt::format("%{:02X}", c);
      }
    }
    res.set_header("Content-Disposition", "inline; filename*=UTF-8''" + encoded);
  }
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  // Ranges as asked (httplib refused a malformed header before routing).
  // One that starts past the end is refused (416), one that ends past it is
  // cut at the end; a suffix range (first -1, last its length) stays as
  // asked: httplib caps it at the size.
  httplib::Ranges ranges;
  if (req.has_header("Range") &&
      !httplib::detail::parse_range_header(req.get_header_value("Range"), ranges)) {
    ranges.clear();
  }
  // Several ranges are answered whole (RFC 9110 allows it): httplib 0.11
  // frames a multipart answer from a provider wrongly (lengths against an
  // empty body), and each range would read the object again.
  if (ranges.size() > 1) ranges.clear();
  for (auto& [first, last] : ranges) {
    if (first >= 0 && last >= info->size) last = info->size - 1;
    const bool satisfiable =
        first < 0 ? last > 0 : first < info->size && (last < 0 || last >= first);
    if (!satisfiable) {
      res.set_header("Content-Range", fmt::format("bytes */{}", info->size));
      return Error(res, 416, "range_not_satisfiable",
                   fmt::format("the range asked is outside the object's {} bytes", info->size));
    }
  }
  const std::string type = ContentTypeOf(key);
  if (info->size == 0) {
    res.set_content("", type);
    return;
  }
  // httplib answers the ranges (206, multipart for several) from the
  // provider; the request object is its own, not const (only our view is).
  const_cast<httplib::Ranges&>(req.ranges) = std::move(ranges);
  storage::Store* store = deps.store;
  spdlog::logger* log = deps.log;
  res.set_content_provider(
      static_cast<size_t>(info->size), type,
      [store, log, key](size_t offset, size_t length, httplib::DataSink& sink) {
        Status s = store->ReadRange(key, static_cast<int64_t>(offset), static_cast<int64_t>(length),
                                    [&](std::string_view piece) {
                                      if (!sink.write(piece.data(), piece.size())) {
                                        return Cancelled("the client went away");
                                      }
                                      return Status();
                                    });
        if (!s.ok() && s.code() != Code::kCancelled) {
          log->warn("server: serving {}: {}", key, s.message());
        }
        return s.ok();  // false drops the connection: a short body is never taken as whole
      });
}

// One of vidgate's own files of a filed video: `relative` under its
// vidgate/ folder, each segment a plain name (no "..", no empty segment).
void ServeOwnFile(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res,
                  const std::string& ref, const std::string& relative) {
  auto video = VideoOr404(deps, ref, res);
  if (!video) return;
  if (video->location.empty() || !catalog::IsTerminal(video->state)) {
    return Error(res, 404, "not_found",
                 "video " + ref + " is not filed yet (it is " +
                     std::string(catalog::StateName(video->state)) + ")");
  }
  size_t start = 0;
  while (start <= relative.size()) {
    const size_t end = std::min(relative.find('/', start), relative.size());
    const std::string_view part = std::string_view(relative).substr(start, end - start);
    if (part.empty() || part == "." || part == ".." ||
        part.find_first_of(std::string_view("\0\\", 2)) != std::string_view::npos) {
      return Error(res, 400, "bad_request",
                   "output path '" + relative + "' is not a plain relative path");
    }
    start = end + 1;
  }
  ServeObject(deps, req, res, pipeline::OwnKey(video->location, relative));
}

// One video again: a waiting one now, one set aside from its kept original.
// The answer's body, or an error status.
Result<nlohmann::json> RetryOne(const ServerDeps& deps, const catalog::Video& video) {
  using catalog::State;
  nlohmann::json out = {{"id", video.id}, {"name", video.name}};
  if (video.state == State::kRejected || video.state == State::kUnableToProcess) {
    auto rerun = pipeline::RerunFromKeptOriginal(*deps.store, *deps.catalog, *deps.clock, video);
    if (!rerun.ok()) return rerun.status();
    out["action"] = "rerun";
    out["key"] = rerun->video_key;
    return out;
  }
  Status s = deps.catalog->RetryNow(video.id, deps.clock->Now());
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPrecondition(video.name + " is " + std::string(catalog::StateName(video.state)) +
                              "; only a video waiting for a retry, rejected or unable_to_process "
                              "can be retried");
  }
  if (!s.ok()) return s;
  out["action"] = "retry_now";
  return out;
}

void RetryVideo(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res) {
  auto video = VideoOr404(deps, req.matches[1], res);
  if (!video) return;
  auto done = RetryOne(deps, *video);
  if (!done.ok()) return Error(res, done.status());
  Reply(res, 200, *done);
}

// POST /api/retry?state=S[&since=TIME]: every video in S (retry_wait,
// rejected or unable_to_process) last changed at or after TIME, again.
void RetryMany(const ServerDeps& deps, const httplib::Request& req, httplib::Response& res) {
  using catalog::State;
  auto state = catalog::ParseState(req.get_param_value("state"));
  if (!state.ok() || (*state != State::kRetryWait && *state != State::kRejected &&
                      *state != State::kUnableToProcess)) {
    return Error(res, 400, "bad_request",
                 "state must be retry_wait, rejected or unable_to_process");
  }
  double since = 0;
  if (req.has_param("since")) {
    auto at = ParseIso8601(req.get_param_value("since"));
    if (!at) {
      return Error(res, 400, "bad_request", "since must be a time such as 2026-11-30T13:00:00Z");
    }
    since = *at;
  }
  catalog::VideoQuery query;
  query.state = *state;
  query.limit = kMaxPageSize;
  nlohmann::json failed = nlohmann::json::array();
  int64_t queued = 0;
  for (;;) {
    auto page = deps.catalog->FindVideos(query);
    if (!page.ok()) return Error(res, page.status());
    for (const auto& v : *page) {
      if (v.updated_at < since) continue;
      // A page's row has every key and folder a retry needs (no documents).
      auto done = RetryOne(deps, v);
      if (done.ok()) {
        ++queued;
      } else {
        failed.push_back({{"id", v.id}, {"name", v.name}, {"error", done.status().message()}});
      }
    }
    if (static_cast<int>(page->size()) < query.limit) break;
    query.before_id = page->back().id;
  }
  Reply(res, 200, {{"queued", queued}, {"failed", failed}});
}

void GetStats(const ServerDeps& deps, httplib::Response& res) {
  constexpr double kWindow = 3600;
  auto stats = deps.catalog->Stats(deps.clock->Now(), kWindow);
  if (!stats.ok()) return Error(res, stats.status());
  nlohmann::json videos = nlohmann::json::object();
  int64_t total = 0;
  for (const auto& [state, n] : stats->videos) {
    videos[std::string(catalog::StateName(state))] = n;
    total += n;
  }
  const pipeline::WindowFigures f = pipeline::FiguresOf(*stats);
  Reply(res, 200,
        {{"videos", videos},
         {"total", total},
         {"oldest_queued_seconds", stats->oldest_queued_seconds},
         {"workers_busy", stats->workers_busy},
         {"outbox_backlog", stats->outbox_backlog},
         {"last_hour",
          {{"window_seconds", kWindow},
           {"processed", f.processed},
           {"rejected", f.rejected},
           {"failed_attempts", f.failed_attempts},
           {"unable_to_process", f.unable_to_process},
           {"metadata_missing", f.metadata_missing},
           {"metadata_invalid", f.metadata_invalid},
           {"failure_ratio", f.failure_ratio}}}});
}

// The alarms firing now, as the fleet set them (each with its rule).
void GetAlarms(const ServerDeps& deps, httplib::Response& res) {
  auto records = deps.catalog->Alarms();
  if (!records.ok()) return Error(res, records.status());
  nlohmann::json alarms = nlohmann::json::array();
  for (const auto& r : *records) {
    if (!r.firing) continue;
    nlohmann::json a = r.detail.is_object() ? r.detail : nlohmann::json::object();
    a["name"] = r.name;
    a["value"] = r.value;
    a["since"] = FormatTime(r.since);
    a["checked_at"] = FormatTime(r.checked_at);
    alarms.push_back(std::move(a));
  }
  Reply(res, 200, {{"alarms", alarms}});
}

}  // namespace

void AddApiRoutes(httplib::Server& http, const ServerDeps& deps) {
  http.Get("/api/videos", [deps](const httplib::Request& req, httplib::Response& res) {
    ListVideos(deps, req, res);
  });
  http.Get(R"(/api/videos/([^/]+))", [deps](const httplib::Request& req, httplib::Response& res) {
    GetVideo(deps, req, res);
  });
  // Files, streamed from the store.
  http.Get(R"(/api/videos/([^/]+)/original)",
           [deps](const httplib::Request& req, httplib::Response& res) {
             auto video = VideoOr404(deps, req.matches[1], res);
             if (!video) return;
             const std::string& key = video->current_key;
             ServeObject(deps, req, res, key, key.substr(key.rfind('/') + 1));
           });
  http.Get(R"(/api/videos/([^/]+)/poster)",
           [deps](const httplib::Request& req, httplib::Response& res) {
             ServeOwnFile(deps, req, res, req.matches[1], "thumbnails/poster.jpg");
           });
  http.Get(R"(/api/videos/([^/]+)/sprite)",
           [deps](const httplib::Request& req, httplib::Response& res) {
             ServeOwnFile(deps, req, res, req.matches[1], "thumbnails/sprite.jpg");
           });
  http.Get(R"(/api/videos/([^/]+)/thumbnails/([0-9]{1,4}))",
           [deps](const httplib::Request& req, httplib::Response& res) {
             ServeOwnFile(deps, req, res, req.matches[1],
                          fmt::format("thumbnails/{:04d}.jpg", std::stoi(req.matches[2])));
           });
  http.Get(R"(/api/videos/([^/]+)/outputs/(.+))",
           [deps](const httplib::Request& req, httplib::Response& res) {
             ServeOwnFile(deps, req, res, req.matches[1], req.matches[2]);
           });
  http.Post(
      R"(/api/videos/([^/]+)/retry)",
      [deps](const httplib::Request& req, httplib::Response& res) { RetryVideo(deps, req, res); });
  http.Post("/api/retry", [deps](const httplib::Request& req, httplib::Response& res) {
    RetryMany(deps, req, res);
  });
  http.Get("/api/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    // What this API answers, checked against its real answers in the tests.
    auto document = assets::Find("openapi.json");
    if (!document) return Error(res, 404, "not_found", "this build has no OpenAPI document");
    res.set_content(document->data(), document->size(), "application/json");
  });
  http.Get("/api/alarms",
           [deps](const httplib::Request&, httplib::Response& res) { GetAlarms(deps, res); });
  http.Get("/api/stats",
           [deps](const httplib::Request&, httplib::Response& res) { GetStats(deps, res); });
}

}  // namespace vidgate::server::internal
