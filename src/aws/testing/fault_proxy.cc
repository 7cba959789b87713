#include "aws/testing/fault_proxy.h"

#include <algorithm>
#include <chrono>

#include "aws/sigv4.h"

namespace vidgate::aws::testing {
namespace {

std::string ErrorXml(const std::string& code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
         "</Code><Message>refused by the test's fault proxy</Message></Error>";
}

bool IsHopByHop(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n == "connection" || n == "keep-alive" || n == "transfer-encoding" ||
         n == "content-length" || n == "host" || n == "expect" || n == "proxy-connection" ||
         n == "upgrade" || n == "te" || n == "trailer";
}

}  // namespace

FaultProxy::FaultProxy(std::string target) : target_(std::move(target)) {}

FaultProxy::~FaultProxy() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

bool FaultProxy::Start() {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_.Get(".*", handler);
  server_.Put(".*", handler);
  server_.Post(".*", handler);
  server_.Delete(".*", handler);
  server_.set_payload_max_length(1ULL << 34);
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return false;
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

std::string FaultProxy::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::FailWrites(const std::string& path_prefix, int status, const std::string& code) {
  std::lock_guard lock(mu_);
  write_rules_.push_back({path_prefix, status, code});
}

void FaultProxy::FailNext(int count, int status, const std::string& code) {
  std::lock_guard lock(mu_);
  fail_next_ = count;
  fail_next_status_ = status;
  fail_next_code_ = code;
}

void FaultProxy::Clear() {
  std::lock_guard lock(mu_);
  write_rules_.clear();
  fail_next_ = 0;
}

std::vector<std::string> FaultProxy::SessionTokensSeen() {
  std::lock_guard lock(mu_);
  return session_tokens_;
}

void FaultProxy::Handle(const httplib::Request& req, httplib::Response& res) {
  // httplib's server cuts every answer by the request's Range on the way
  // out. S3's 206 is that range already (cut again, it would lose its first
  // bytes), so the answer goes back as upstream made it; the Range header
  // still goes upstream.
  const_cast<httplib::Ranges&>(req.ranges).clear();
  {
    std::lock_guard lock(mu_);
    if (const std::string token = req.get_header_value("X-Amz-Security-Token");
        !token.empty() &&
        std::find(session_tokens_.begin(), session_tokens_.end(), token) == session_tokens_.end()) {
      session_tokens_.push_back(token);
    }
    auto fail = [&](int status, const std::string& code) {
      ++failed_;
      res.status = status;
      if (req.method != "HEAD") res.set_content(ErrorXml(code), "application/xml");
    };
    if (fail_next_ > 0) {
      --fail_next_;
      fail(fail_next_status_, fail_next_code_);
      return;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      for (const auto& r : write_rules_) {
        if (req.path.starts_with(r.path_prefix)) {
          fail(r.status, r.code);
          return;
        }
      }
    }
  }
  httplib::Client upstream(target_);
  upstream.set_url_encode(false);  // the target goes on as it came, already encoded
  upstream.set_read_timeout(120, 0);
  upstream.set_write_timeout(120, 0);
  httplib::Headers headers;
  for (const auto& [k, v] : req.headers) {
    if (!IsHopByHop(k) && k != "REMOTE_ADDR" && k != "REMOTE_PORT" && k != "LOCAL_ADDR" &&
        k != "LOCAL_PORT") {
      // httplib's server hands header values over percent-decoded: the
      // copy source goes on encoded again, as S3 wants it.
      headers.emplace(k, k == "x-amz-copy-source" ? UriEncode(v, /*keep_slash=*/true) : v);
    }
  }
  // The target, encoded again from what the server decoded (httplib does
  // not keep the raw request line).
  std::string target = UriEncode(req.path, /*keep_slash=*/true);
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += (query.empty() ? "?" : "&") + UriEncode(k) + "=" + UriEncode(v);
  }
  target += query;
  httplib::Result answer(nullptr, httplib::Error::Unknown);
  const std::string content_type = req.get_header_value("Content-Type");
  if (req.method == "GET") {
    answer = upstream.Get(target, headers);
  } else if (req.method == "HEAD") {
    answer = upstream.Head(target, headers);
  } else if (req.method == "PUT") {
    answer = upstream.Put(target, headers, req.body, content_type);
  } else if (req.method == "POST") {
    answer = upstream.Post(target, headers, req.body, content_type);
  } else if (req.method == "DELETE") {
    answer = upstream.Delete(target, headers, req.body, content_type);
  }
  if (!answer) {
    res.status = 502;
    return;
  }
  res.status = answer->status;
  for (const auto& [k, v] : answer->headers) {
    if (!IsHopByHop(k)) res.set_header(k, v);
  }
  if (req.method == "HEAD") {
    // The size of what HEAD describes, without a body.
    const std::string length = answer->get_header_value("Content-Length");
    const std::string type = answer->get_header_value("Content-Type");
    res.set_content_provider(length.empty() ? 0 : std::stoull(length),
                             type.empty() ? "application/octet-stream" : type,
                             [](size_t, size_t, httplib::DataSink&) { return true; });
    return;
  }
  res.body = answer->body;
}

}  // namespace vidgate::aws::testing
