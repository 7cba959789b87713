// GET /api/events: Server-Sent Events of every change of state (event
// "video", from the catalog's log) and every notification (event
// "notification", the CloudEvent itself), for as long as the client stays.
//
// Each message's id is a resume point "LOG:EVENT": everything up to it was
// sent. A client that comes back with Last-Event-ID gets what followed it
// (while an id hole waits to fill, a few messages may come again: data.id
// and the CloudEvent's id tell them apart). Without one the stream
// starts with what is new.
//
// PostgreSQL hands out ids as transactions start, so a lower id can commit
// after a higher one was sent, or never (rolled back). Each id space keeps a
// floor below which everything was sent, remembers what was sent above it,
// and steps over a hole that stays open for a few seconds.
#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <set>
#include <thread>

#include "common/util.h"
#include "server/internal/http_util.h"

namespace vidgate::server::internal {
namespace {

constexpr double kHolePatienceSeconds = 5;
constexpr auto kPollEvery = std::chrono::milliseconds(250);
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);
constexpr int kBatch = 200;

class FeedCursor {
 public:
  explicit FeedCursor(int64_t floor) : floor_(floor) {}
  int64_t floor() const { return floor_; }
  // True when `id` was not sent yet (it is now counted as sent).
  bool Take(int64_t id) { return id > floor_ && sent_.insert(id).second; }
  void Settle(std::chrono::steady_clock::time_point now) {
    for (;;) {
      while (!sent_.empty() && *sent_.begin() == floor_ + 1) {
        sent_.erase(sent_.begin());
        ++floor_;
      }
      if (sent_.empty()) {
        hole_since_.reset();
        return;
      }
      if (!hole_since_) hole_since_ = now;
      if (now - *hole_since_ < std::chrono::duration<double>(kHolePatienceSeconds)) return;
      floor_ = *sent_.begin() - 1;  // the hole never filled: step over it
      hole_since_.reset();
    }
  }

 private:
  int64_t floor_;
  std::set<int64_t> sent_;
  std::optional<std::chrono::steady_clock::time_point> hole_since_;
};

// "LOG:EVENT" as two ids, or nullopt.
std::optional<std::pair<int64_t, int64_t>> ParseCursor(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  int64_t a = 0, b = 0;
  auto [ea, ca] = std::from_chars(text.data(), text.data() + colon, a);
  auto [eb, cb] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), b);
  if (ca != std::errc() || cb != std::errc() || ea != text.data() + colon ||
      eb != text.data() + text.size() || a < 0 || b < 0) {
    return std::nullopt;
  }
  return std::make_pair(a, b);
}

struct Stream {
  const ServerDeps* deps;
  StreamGate* gate;
  FeedCursor log;
  FeedCursor events;
  bool greeted = false;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
};

bool Send(httplib::DataSink& sink, const std::string& text) {
  return sink.write(text.data(), text.size());
}

std::string Message(const Stream& s, const char* event, const nlohmann::json& data) {
  return fmt::format("id: {}:{}\nevent: {}\ndata: {}\n\n", s.log.floor(), s.events.floor(), event,
                     data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// One turn: what is new, or a nap. False ends the stream.
bool Turn(Stream& s, httplib::DataSink& sink) {
  if (s.gate->stopping.load()) return false;
  if (!s.greeted) {
    s.greeted = true;
    if (!Send(sink, "retry: 2000\n\n")) return false;
  }
  bool wrote = false;
  auto log = s.deps->catalog->LogAfter(s.log.floor(), kBatch);
  auto events = s.deps->catalog->EventsAfter(s.events.floor(), kBatch);
  if (log.ok()) {
    for (const auto& e : *log) {
      if (!s.log.Take(e.id)) continue;
      s.log.Settle(std::chrono::steady_clock::now());  // the id: resume right after this one
      nlohmann::json data = {
          {"id", e.id},
          {"video_id", e.video_id},
          {"name", e.name},
          {"state", e.state.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.state)},
          {"at", FormatTime(e.at)},
          {"message", e.message}};
      if (!Send(sink, Message(s, "video", data))) return false;
      wrote = true;
    }
  }
  if (events.ok()) {
    for (const auto& e : *events) {
      if (!s.events.Take(e.seq)) continue;
      s.events.Settle(std::chrono::steady_clock::now());
      if (!Send(sink, Message(s, "notification", e.document))) return false;
      wrote = true;
    }
  }
  const auto now = std::chrono::steady_clock::now();
  s.log.Settle(now);
  s.events.Settle(now);
  if (wrote) {
    s.last_write = now;
    return true;
  }
  if (now - s.last_write >= kKeepAliveEvery) {
    // A comment: keeps proxies from closing the stream, and finds a client
    // that left.
    if (!Send(sink, ": keep-alive\n\n")) return false;
    s.last_write = now;
  }
  std::this_thread::sleep_for(kPollEvery);
  return true;
}

}  // namespace

void AddEventsRoute(httplib::Server& http, const ServerDeps& deps, StreamGate* gate) {
  http.Get("/api/events", [&deps, gate](const httplib::Request& req, httplib::Response& res) {
    std::pair<int64_t, int64_t> from;
    std::string last = req.get_header_value("Last-Event-ID");
    if (last.empty()) last = req.get_param_value("after");
    if (!last.empty()) {
      auto cursor = ParseCursor(last);
      if (!cursor) {
        return Error(res, 400, "bad_request",
                     "Last-Event-ID (or after) must be an id this stream sent (LOG:EVENT)");
      }
      from = *cursor;
    } else {
      auto head = deps.catalog->FeedHead();
      if (!head.ok()) return Error(res, head.status());
      from = *head;
    }
    if (gate->open.fetch_add(1) >= gate->max_streams) {
      gate->open.fetch_sub(1);
      res.set_header("Retry-After", "10");
      return Error(
          res, 503, "unavailable",
          fmt::format("this server already streams events to {} clients", gate->max_streams));
    }
    auto stream = std::make_shared<Stream>(
        Stream{&deps, gate, FeedCursor(from.first), FeedCursor(from.second)});
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // nginx: do not hold the stream back
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream](size_t, httplib::DataSink& sink) { return Turn(*stream, sink); },
        [gate](bool) { gate->open.fetch_sub(1); });
  });
}

}  // namespace vidgate::server::internal
