#include "aws/s3_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <pugixml.hpp>
#include <sstream>
#include <thread>

#include "common/util.h"

namespace vidgate::aws {
namespace {

constexpr size_t kMaxXmlAnswer = 16 << 20;

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// S3's error document: <Error><Code>..</Code><Message>..</Message></Error>.
struct S3Error {
  std::string code, message;
};
std::optional<S3Error> ParseError(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node e = doc.child("Error");
  if (!e) return std::nullopt;
  return S3Error{e.child_value("Code"), e.child_value("Message")};
}

bool RetryableCode(std::string_view code) {
  return code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "RequestTimeout" || code == "OperationAborted" ||
         code == "ConditionalRequestConflict";
}

}  // namespace

std::string UrlDecodeKey(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One S3 request, as built by a caller and sent (perhaps several times) by Send.
struct S3Client::Call {
  std::string method = "GET";
  std::string key;  // for messages; "" = the bucket
  std::string path;
  std::vector<Header> query;
  std::vector<Header> headers;
  std::string_view body;
  // Or a body streamed from read_body (body_size bytes, SHA-256 payload_hash
  // worked out beforehand), so a big part is never held in memory.
  std::function<Result<size_t>(char* buffer, size_t size)> read_body;
  int64_t body_size = 0;
  std::string payload_hash;
  std::function<Status(std::string_view)> write_body;
  std::function<Status(const net::Response&)> on_answer;
  size_t max_body_bytes = kMaxXmlAnswer;
  // Whether a 200 answer may be an <Error> (CompleteMultipartUpload, copies).
  bool error_in_200 = false;
  // Run before every try (Download moves its Range on).
  std::function<void(Call&)> before_try;
};

S3Client::S3Client(S3Options options, CredentialsProvider* credentials, net::Client* http,
                   const Clock* clock)
    : o_(std::move(options)), credentials_(credentials), http_(http), clock_(clock) {
  std::string base = o_.endpoint;
  if (base.empty()) base = "https://s3." + o_.region + ".amazonaws.com";
  while (base.ends_with('/')) base.pop_back();
  const size_t scheme_end = base.find("://");
  std::string scheme = base.substr(0, scheme_end + 3);
  std::string host = base.substr(scheme_end + 3);
  if (!o_.path_style) host = o_.bucket + "." + host;
  scheme_host_ = scheme + host;
  host_ = host;
}

std::string S3Client::Describe(std::string_view key) const {
  return fmt::format("s3://{}/{}", o_.bucket, key);
}

std::string S3Client::BucketPath() const { return o_.path_style ? "/" + o_.bucket : ""; }

std::string S3Client::ObjectPath(std::string_view key) const {
  return BucketPath() + "/" + UriEncode(key, /*keep_slash=*/true);
}

Result<net::Response> S3Client::SendOnce(Call& c) {
  if (c.before_try) c.before_try(c);
  VG_ASSIGN_OR_RETURN(Credentials creds, credentials_->Get());
  SigningRequest sr;
  sr.method = c.method;
  sr.path = c.path.empty() ? "/" : c.path;
  sr.query = c.query;
  sr.headers = c.headers;
  sr.headers.emplace_back("host", host_);
  sr.payload_hash = c.read_body ? c.payload_hash : Sha256Hex(c.body);
  SigningParams p;
  p.region = o_.region;
  p.service = "s3";
  p.now = clock_->Now();
  p.s3_path = true;
  p.content_sha256_header = true;
  Signed s = SignV4(sr, creds, p);

  net::Request r;
  r.method = c.method;
  r.url = scheme_host_ + sr.path;
  std::string query;
  for (const auto& [k, v] : c.query) {
    query += (query.empty() ? "?" : "&") + UriEncode(k) + (v.empty() ? "=" : "=" + UriEncode(v));
  }
  r.url += query;
  r.display = Describe(c.key);
  r.headers = c.headers;
  for (auto& h : s.headers) r.headers.push_back(h);
  r.body = c.body;
  r.read_body = c.read_body;
  r.body_size = c.body_size;
  r.timeout_seconds = 0;  // big objects take what they take; stalls end them
  r.stall_seconds = o_.stall_seconds;
  r.write_body = c.write_body;
  r.on_answer = c.on_answer;
  r.max_body_bytes = c.max_body_bytes;
  return http_->Send(r);
}

Result<net::Response> S3Client::Send(Call& c) {
  Result<net::Response> last = Unavailable("not sent");
  Status s = net::Retry(
      o_.retry,
      [&]() -> Status {
        last = SendOnce(c);
        if (!last.ok()) return last.status();
        const long status = last->status;
        if (status >= 500 || status == 429) {
          return Unavailable("S3 answered HTTP " + std::to_string(status));
        }
        if (status == 200 && c.error_in_200) {
          if (auto e = ParseError(last->body); e && RetryableCode(e->code)) {
            return Unavailable("S3 said " + e->code);
          }
        }
        return Status();
      },
      o_.sleep);
  if (!last.ok()) return last.status();
  return last;
}

Status S3Client::ErrorFor(const net::Response& answer, std::string_view key, bool if_absent) const {
  const std::string where = Describe(key);
  auto e = ParseError(answer.body);
  const long status = answer.status;
  std::string code = e ? e->code : "";
  if (code.empty()) {
    code = status == 404   ? (key.empty() ? "NoSuchBucket" : "NoSuchKey")
           : status == 403 ? "AccessDenied"
           : status == 412 ? "PreconditionFailed"
                           : "";
  }
  std::string message =
      fmt::format("{}: S3 said {} (HTTP {})", where,
                  code.empty() ? "nothing" : net::OneLine(code.substr(0, 100)), status);
  if (e && !e->message.empty()) message += ": " + net::OneLine(e->message.substr(0, 300));
  if (code == "NoSuchKey") return NotFound(message);
  if (code == "PreconditionFailed" && if_absent) return AlreadyExists(message);
  if (code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
      code == "ExpiredToken" || code == "InvalidToken" || code == "RequestTimeTooSkewed" ||
      code == "AllAccessDisabled" || code == "AccountProblem") {
    return PermissionDenied(message);
  }
  if (code == "NoSuchBucket" || code == "NoSuchUpload" || code == "PermanentRedirect" ||
      code == "AuthorizationHeaderMalformed") {
    // PermanentRedirect / AuthorizationHeaderMalformed: the bucket is in
    // another region than storage.region says.
    return FailedPrecondition(message);
  }
  if (status >= 500 || status == 429 || RetryableCode(code)) return Unavailable(message);
  return net::HttpStatus(status, message);
}

Result<S3ListPage> S3Client::List(std::string_view prefix, std::string_view token, int max_keys) {
  Call c;
  c.path = BucketPath().empty() ? "/" : BucketPath();
  c.query = {{"list-type", "2"},
             {"prefix", std::string(prefix)},
             {"encoding-type", "url"},
             {"max-keys", std::to_string(max_keys)}};
  if (!token.empty()) c.query.emplace_back("continuation-token", std::string(token));
  VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
  if (answer.status != 200) return ErrorFor(answer, "", false);
  pugi::xml_document doc;
  if (answer.body_truncated || !doc.load_buffer(answer.body.data(), answer.body.size())) {
    return Unavailable(Describe(prefix) + ": S3 answered a listing that is not XML");
  }
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Unavailable(Describe(prefix) + ": S3 answered no ListBucketResult");
  // Servers that ignore encoding-type=url (some emulators) send keys as they are.
  const bool encoded = std::string_view(root.child_value("EncodingType")) == "url";
  S3ListPage page;
  for (pugi::xml_node n : root.children("Contents")) {
    S3Object o;
    o.key = encoded ? UrlDecodeKey(n.child_value("Key")) : n.child_value("Key");
    o.size = std::strtoll(n.child_value("Size"), nullptr, 10);
    o.etag = StripQuotes(n.child_value("ETag"));
    o.last_modified = ParseIso8601(n.child_value("LastModified")).value_or(0);
    page.objects.push_back(std::move(o));
  }
  if (std::string_view(root.child_value("IsTruncated")) == "true") {
    page.next_token = root.child_value("NextContinuationToken");
    if (page.next_token.empty()) {
      return Unavailable(Describe(prefix) + ": S3 said the listing goes on but gave no token");
    }
  }
  return page;
}

Result<S3Object> S3Client::Head(std::string_view key) {
  Call c;
  c.method = "HEAD";
  c.key = key;
  c.path = ObjectPath(key);
  VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
  if (answer.status != 200) return ErrorFor(answer, key, false);
  S3Object o;
  o.key = key;
  o.size = std::strtoll(answer.HeaderValue("content-length").c_str(), nullptr, 10);
  o.etag = StripQuotes(answer.HeaderValue("etag"));
  // Last-Modified is an HTTP date: "Mon, 30 Nov 2026 13:00:00 GMT".
  std::tm tm{};
  const std::string lm = answer.HeaderValue("last-modified");
  if (strptime(lm.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
    o.last_modified = static_cast<double>(timegm(&tm));
  }
  return o;
}

Result<std::string> S3Client::Get(std::string_view key, int64_t max_bytes) {
  // No HEAD first: the size is checked as the bytes come (one request, not two).
  std::string out;
  VG_ASSIGN_OR_RETURN(S3Object got, Download(key, [&](std::string_view piece) -> Status {
                        if (static_cast<int64_t>(out.size() + piece.size()) > max_bytes) {
                          return InvalidArgument(fmt::format("{} is more than the {} bytes allowed",
                                                             Describe(key), max_bytes));
                        }
                        out.append(piece);
                        return Status();
                      }));
  (void)got;
  return out;
}

Result<S3Object> S3Client::Download(std::string_view key,
                                    const std::function<Status(std::string_view)>& write) {
  return DownloadRange(key, 0, -1, write);
}

Result<S3Object> S3Client::DownloadRange(std::string_view key, int64_t offset, int64_t length,
                                         const std::function<Status(std::string_view)>& write) {
  int64_t received = 0;
  int64_t skip = 0;  // bytes of this answer before the first one wanted
  std::string etag;
  Call c;
  c.key = key;
  c.path = ObjectPath(key);
  c.on_answer = [&](const net::Response& answer) -> Status {
    // A peer may ignore Range (200 with the whole object) or answer another
    // range than asked: skip what was written already, never append twice.
    int64_t start = 0;
    if (answer.status == 206) {
      const std::string range = answer.HeaderValue("content-range");  // "bytes a-b/total"
      if (!range.starts_with("bytes ")) {
        return Unavailable(
            fmt::format("{} answered a range without a Content-Range", Describe(key)));
      }
      start = std::strtoll(range.c_str() + 6, nullptr, 10);
    }
    const int64_t wanted_from = offset + received;
    if (start > wanted_from) {
      return Unavailable(fmt::format("{} answered from byte {} when asked from byte {}",
                                     Describe(key), start, wanted_from));
    }
    const std::string tag = StripQuotes(answer.HeaderValue("etag"));
    if (!etag.empty() && !tag.empty() && tag != etag) {
      return FailedPrecondition(Describe(key) + " changed while it was read");
    }
    if (etag.empty()) etag = tag;
    skip = wanted_from - start;
    return Status();
  };
  c.write_body = [&](std::string_view piece) -> Status {
    const auto skipped =
        static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(piece.size())));
    piece.remove_prefix(skipped);
    skip -= static_cast<int64_t>(skipped);
    if (length >= 0) {
      // A peer that sends more than the range asked: the rest is not ours.
      piece = piece.substr(0, static_cast<size_t>(std::min<int64_t>(
                                  length - received, static_cast<int64_t>(piece.size()))));
    }
    if (piece.empty()) return Status();
    VG_RETURN_IF_ERROR(write(piece));
    received += static_cast<int64_t>(piece.size());
    return Status();
  };
  c.before_try = [&](Call& call) {
    call.headers.clear();
    const int64_t from = offset + received;
    if (from > 0 || length >= 0) {
      // A range asked, or a try resuming where the last one stopped, from
      // the same object only.
      call.headers.emplace_back("Range", length >= 0
                                             ? fmt::format("bytes={}-{}", from, offset + length - 1)
                                             : fmt::format("bytes={}-", from));
      if (!etag.empty()) call.headers.emplace_back("If-Match", "\"" + etag + "\"");
    }
  };
  S3Object o;
  o.key = key;
  Status s = net::Retry(
      o_.retry,
      [&]() -> Status {
        Result<net::Response> answer = SendOnce(c);
        if (!answer.ok()) return answer.status();
        if (answer->status != 200 && answer->status != 206) {
          if (answer->status == 412) {
            // Not retried: what was read so far belongs to another object.
            return FailedPrecondition(Describe(key) + " changed while it was read");
          }
          if (answer->status == 416) {
            return FailedPrecondition(Describe(key) + " is shorter than the range asked");
          }
          return ErrorFor(*answer, key, false);
        }
        if (etag.empty()) etag = StripQuotes(answer->HeaderValue("etag"));
        o.etag = etag;
        const std::string range = answer->HeaderValue("content-range");  // "bytes a-b/total"
        if (size_t slash = range.rfind('/'); slash != std::string::npos) {
          o.size = std::strtoll(range.c_str() + slash + 1, nullptr, 10);
        } else {
          o.size = offset + received;
        }
        return Status();
      },
      o_.sleep);
  VG_RETURN_IF_ERROR(s);
  const int64_t expected = length >= 0 ? length : o.size - offset;
  if (received != expected) {
    if (length >= 0 && o.size < offset + length) {
      return FailedPrecondition(
          fmt::format("{} is {} bytes, shorter than the range asked", Describe(key), o.size));
    }
    return Unavailable(
        fmt::format("{}: got {} of its {} bytes", Describe(key), received, expected));
  }
  return o;
}

Status S3Client::Put(std::string_view key, std::string_view data, bool if_absent,
                     std::string_view content_type) {
  Call c;
  c.method = "PUT";
  c.key = key;
  c.path = ObjectPath(key);
  c.body = data;
  c.headers.emplace_back("Content-Type", std::string(content_type));
  if (if_absent) c.headers.emplace_back("If-None-Match", "*");
  VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
  if (answer.status != 200) return ErrorFor(answer, key, if_absent);
  return Status();
}

namespace {

// SHA-256 of `length` bytes of `fd` from `offset`, read in small pieces.
Result<std::string> Sha256OfFileRange(int fd, int64_t offset, int64_t length) {
  Sha256 hash;
  std::string buffer(256 << 10, '\0');
  int64_t done = 0;
  while (done < length) {
    const auto want = static_cast<size_t>(std::min<int64_t>(length - done, buffer.size()));
    const ssize_t n = pread(fd, buffer.data(), want, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read", "the file being uploaded");
    if (n == 0) return Unavailable("the local file shrank while it was uploaded");
    hash.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    done += n;
  }
  return hash.HexDigest();
}

}  // namespace

Status S3Client::Upload(const std::string& path, std::string_view key, bool if_absent) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  FdCloser closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  const int64_t size = st.st_size;
  if (size > o_.single_put_limit) return UploadMultipart(fd, size, key, if_absent);
  std::string data(static_cast<size_t>(size), '\0');
  int64_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, data.data() + done, static_cast<size_t>(size - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read", path);
    if (n == 0) return Unavailable(path + " shrank while it was uploaded");
    done += n;
  }
  return Put(key, data, if_absent);
}

Result<std::string> S3Client::StartMultipart(std::string_view key, bool if_absent) {
  Call start;
  start.method = "POST";
  start.key = key;
  start.path = ObjectPath(key);
  start.query = {{"uploads", ""}};
  VG_ASSIGN_OR_RETURN(net::Response started, Send(start));
  if (started.status != 200) return ErrorFor(started, key, if_absent);
  pugi::xml_document doc;
  doc.load_buffer(started.body.data(), started.body.size());
  std::string upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty()) return Unavailable(Describe(key) + ": S3 gave no UploadId");
  return upload_id;
}

Status S3Client::UploadMultipart(int fd, int64_t size, std::string_view key, bool if_absent) {
  VG_ASSIGN_OR_RETURN(const std::string upload_id, StartMultipart(key, if_absent));

  const int64_t part = std::max<int64_t>(o_.part_size, 5 << 20);
  const int parts = static_cast<int>((size + part - 1) / part);
  if (parts > 10000) {
    AbortMultipart(key, upload_id);
    return InvalidArgument(
        fmt::format("{}: {} bytes need more than 10000 parts of {}", Describe(key), size, part));
  }
  std::vector<std::string> etags(static_cast<size_t>(parts));
  std::mutex mu;
  int next = 0;
  Status failed;
  auto worker = [&] {
    for (;;) {
      int index = 0;
      {
        std::lock_guard lock(mu);
        if (!failed.ok() || next >= parts) return;
        index = next++;
      }
      const int64_t offset = index * part;
      const int64_t length = std::min(part, size - offset);
      // The part is read twice from the file (to sign its hash, then to send
      // it) rather than held: memory stays small whatever the part size.
      Status s;
      std::string hash;
      if (Result<std::string> h = Sha256OfFileRange(fd, offset, length); h.ok()) {
        hash = *h;
      } else {
        s = Unavailable(Describe(key) + ": " + h.status().message());
      }
      if (s.ok()) {
        int64_t sent = 0;
        Call c;
        c.method = "PUT";
        c.key = std::string(key);
        c.path = ObjectPath(key);
        c.query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}};
        c.payload_hash = hash;
        c.body_size = length;
        c.before_try = [&](Call&) { sent = 0; };
        c.read_body = [&](char* buffer, size_t want) -> Result<size_t> {
          want = static_cast<size_t>(std::min<int64_t>(length - sent, static_cast<int64_t>(want)));
          for (;;) {
            const ssize_t n = pread(fd, buffer, want, offset + sent);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return ErrnoStatus(errno, "read", Describe(key));
            if (n == 0 && want > 0) {
              return Unavailable(Describe(key) + ": the local file shrank while it was uploaded");
            }
            sent += n;
            return static_cast<size_t>(n);
          }
        };
        Result<net::Response> answer = Send(c);
        if (!answer.ok()) {
          s = answer.status();
        } else if (answer->status != 200) {
          s = ErrorFor(*answer, key, false);
        } else {
          etags[static_cast<size_t>(index)] = StripQuotes(answer->HeaderValue("etag"));
        }
      }
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (failed.ok()) failed = s;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  const int n_threads = std::max(1, std::min(o_.parallel_parts, parts));
  for (int i = 0; i < n_threads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!failed.ok()) {
    AbortMultipart(key, upload_id);
    return failed;
  }
  Status done = CompleteMultipart(key, upload_id, etags, if_absent);
  if (!done.ok()) AbortMultipart(key, upload_id);
  return done;
}

Status S3Client::CompleteMultipart(std::string_view key, const std::string& upload_id,
                                   const std::vector<std::string>& etags, bool if_absent) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  for (size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node p = root.append_child("Part");
    p.append_child("PartNumber").text().set(static_cast<long long>(i + 1));
    p.append_child("ETag").text().set(("\"" + etags[i] + "\"").c_str());
  }
  std::ostringstream xml;
  doc.save(xml, "", pugi::format_raw | pugi::format_no_declaration);
  const std::string body = xml.str();
  Call c;
  c.method = "POST";
  c.key = key;
  c.path = ObjectPath(key);
  c.query = {{"uploadId", upload_id}};
  c.body = body;
  c.error_in_200 = true;
  c.headers.emplace_back("Content-Type", "application/xml");
  if (if_absent) c.headers.emplace_back("If-None-Match", "*");
  VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
  if (answer.status != 200 || ParseError(answer.body)) return ErrorFor(answer, key, if_absent);
  return Status();
}

void S3Client::AbortMultipart(std::string_view key, const std::string& upload_id) {
  Call c;
  c.method = "DELETE";
  c.key = key;
  c.path = ObjectPath(key);
  c.query = {{"uploadId", upload_id}};
  // Best effort: the bucket's lifecycle rule ends what this misses.
  (void)Send(c);
}

Status S3Client::Copy(std::string_view from, std::string_view to, bool if_absent) {
  VG_ASSIGN_OR_RETURN(S3Object source, Head(from));
  return Copy(from, source, to, if_absent);
}

Status S3Client::Copy(std::string_view from, const S3Object& source, std::string_view to,
                      bool if_absent) {
  const std::string copy_source = "/" + o_.bucket + "/" + UriEncode(from, /*keep_slash=*/true);
  if (source.size <= o_.single_copy_limit) {
    Call c;
    c.method = "PUT";
    c.key = to;
    c.path = ObjectPath(to);
    c.error_in_200 = true;
    c.headers.emplace_back("x-amz-copy-source", copy_source);
    c.headers.emplace_back("x-amz-copy-source-if-match", "\"" + source.etag + "\"");
    if (if_absent) c.headers.emplace_back("If-None-Match", "*");
    VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
    if (answer.status != 200 || ParseError(answer.body)) return ErrorFor(answer, to, if_absent);
    return Status();
  }
  // Above 5 GiB: a multipart upload whose parts are copied server-side.
  VG_ASSIGN_OR_RETURN(const std::string upload_id, StartMultipart(to, if_absent));
  std::vector<std::string> etags;
  for (int64_t offset = 0; offset < source.size; offset += o_.copy_part_size) {
    const int64_t last = std::min(source.size, offset + o_.copy_part_size) - 1;
    Call c;
    c.method = "PUT";
    c.key = to;
    c.path = ObjectPath(to);
    c.error_in_200 = true;
    c.query = {{"partNumber", std::to_string(etags.size() + 1)}, {"uploadId", upload_id}};
    c.headers.emplace_back("x-amz-copy-source", copy_source);
    c.headers.emplace_back("x-amz-copy-source-range", fmt::format("bytes={}-{}", offset, last));
    c.headers.emplace_back("x-amz-copy-source-if-match", "\"" + source.etag + "\"");
    Result<net::Response> answer = Send(c);
    Status s = !answer.ok()                                          ? answer.status()
               : (answer->status != 200 || ParseError(answer->body)) ? ErrorFor(*answer, to, false)
                                                                     : Status();
    if (!s.ok()) {
      AbortMultipart(to, upload_id);
      return s;
    }
    pugi::xml_document result;
    result.load_buffer(answer->body.data(), answer->body.size());
    etags.push_back(StripQuotes(result.child("CopyPartResult").child_value("ETag")));
    if (etags.back().empty()) {
      AbortMultipart(to, upload_id);
      return Unavailable(
          fmt::format("{}: S3 gave no ETag for copied part {}", Describe(to), etags.size()));
    }
  }
  Status done = CompleteMultipart(to, upload_id, etags, if_absent);
  if (!done.ok()) AbortMultipart(to, upload_id);
  return done;
}

Status S3Client::Delete(std::string_view key) {
  Call c;
  c.method = "DELETE";
  c.key = key;
  c.path = ObjectPath(key);
  VG_ASSIGN_OR_RETURN(net::Response answer, Send(c));
  if (answer.status == 204 || answer.status == 200 || answer.status == 404) return Status();
  return ErrorFor(answer, key, false);
}

}  // namespace vidgate::aws
