// The s3:// backend: objects in one bucket, under an optional prefix.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "aws/s3_client.h"
#include "common/util.h"
#include "storage/internal/backends.h"

namespace vidgate::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kS3MaxKeyBytes = 1024;  // UTF-8 bytes, the prefix included

// S3's rules for bucket names (the ones every region enforces).
bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

std::string DefaultScratch() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/vidgate-scratch";
}

class S3Store final : public Store {
 public:
  S3Store(aws::S3Options s3, std::string prefix, const OpenOptions& o)
      : prefix_(std::move(prefix)),
        scratch_(o.scratch_dir.empty() ? DefaultScratch() : o.scratch_dir),
        http_(o.http != nullptr ? o.http : &own_http_),
        clock_(o.clock != nullptr ? o.clock : &system_clock_) {
    credentials_ = o.credentials;
    if (credentials_ == nullptr) {
      aws::ChainOptions chain;
      chain.http = http_;
      chain.clock = clock_;
      own_credentials_ = aws::DefaultChain(chain);
      credentials_ = own_credentials_.get();
    }
    client_ = std::make_unique<aws::S3Client>(std::move(s3), credentials_, http_, clock_);
  }

  Status Prepare() override {
    std::error_code ec;
    fs::create_directories(scratch_, ec);
    if (ec) return ErrnoStatus(ec.value(), "create the scratch folder", scratch_);
    RemoveDeadScratch();
    // The bucket must be there and readable: better one clear sentence now
    // than a failed attempt per video. Under uploads/, which vidgate lists
    // anyway: a policy may grant no listing of the whole bucket.
    VG_ASSIGN_OR_RETURN(auto page, client_->List(prefix_ + "uploads/", "", 1));
    (void)page;
    return Status();
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    do {
      VG_ASSIGN_OR_RETURN(aws::S3ListPage page,
                          client_->List(prefix_ + std::string(prefix), token));
      for (auto& o : page.objects) {
        std::string key = o.key.substr(prefix_.size());
        if (key.ends_with('/') && o.size == 0) continue;  // a console "folder"
        ObjectInfo info;
        info.size = o.size;
        info.mtime = o.last_modified;
        info.etag = o.etag;
        if (!ValidateKey(key).ok()) {
          info.refused = "its key has an empty, '.' or '..' part, which no file name can have";
        }
        info.key = std::move(key);
        out.push_back(std::move(info));
      }
      token = page.next_token;
    } while (!token.empty());
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    VG_ASSIGN_OR_RETURN(aws::S3Object o, client_->Head(Full(key)));
    ObjectInfo info;
    info.key = key;
    info.size = o.size;
    info.mtime = o.last_modified;
    info.etag = o.etag;
    return info;
  }

  Result<std::string> Read(std::string_view key, int64_t max_bytes) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    return client_->Get(Full(key), max_bytes);
  }

  Status ReadRange(std::string_view key, int64_t offset, int64_t length,
                   const std::function<Status(std::string_view)>& write) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    if (offset < 0 || length < 0) return InvalidArgument("a negative range of " + std::string(key));
    if (length == 0) {
      // S3 has no empty range: a HEAD tells that the object is there.
      VG_ASSIGN_OR_RETURN(auto head, client_->Head(Full(key)));
      if (head.size < offset) {
        return FailedPrecondition(client_->Describe(Full(key)) +
                                  " is shorter than the range asked");
      }
      return Status();
    }
    return client_->DownloadRange(Full(key), offset, length, write).status();
  }

  Status Write(std::string_view key, std::string_view data) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    return client_->Put(Full(key), data, /*if_absent=*/false);
  }

  Status Upload(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    // If-None-Match makes this atomic where the server supports it; the
    // HEAD answers for the servers that ignore it (all but a race).
    VG_RETURN_IF_ERROR(Absent(key));
    return client_->Upload(local_path, Full(key), /*if_absent=*/true);
  }

  Result<LocalFile> Fetch(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::error_code ec;
    fs::create_directories(scratch_, ec);
    const std::string path = scratch_ + "/" + NewWorkFileName();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus(errno, "create", path);
    LocalFile file(path, /*temporary=*/true);  // removed on every error below
    Status written;
    auto got = client_->Download(Full(key), [&](std::string_view piece) -> Status {
      while (!piece.empty()) {
        ssize_t n = ::write(fd, piece.data(), piece.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoStatus(errno, "write", path);
        piece.remove_prefix(static_cast<size_t>(n));
      }
      return Status();
    });
    const int closed = ::close(fd);
    if (!got.ok()) return got.status();
    if (closed != 0) return ErrnoStatus(errno, "write", path);
    return file;
  }

  Status Move(std::string_view from, std::string_view to) override {
    VG_RETURN_IF_ERROR(ValidateKey(from));
    VG_RETURN_IF_ERROR(ValidateKey(to));
    // The source first, as the other stores do: a move already done (its
    // caller killed before it could record that) must read as "not found",
    // not as a collision with its own result.
    VG_ASSIGN_OR_RETURN(auto source, client_->Head(Full(from)));
    auto target = client_->Head(Full(to));
    if (target.ok()) {
      // A move cut short between its copy and its delete: finish it.
      if (source.size == target->size && source.etag == target->etag) {
        return client_->Delete(Full(from));
      }
      return AlreadyExists(fmt::format("cannot move {} to {}: the target exists",
                                       client_->Describe(Full(from)), client_->Describe(Full(to))));
    }
    if (target.status().code() != Code::kNotFound) return target.status();
    VG_RETURN_IF_ERROR(client_->Copy(Full(from), source, Full(to), /*if_absent=*/true));
    return client_->Delete(Full(from));
  }

  Status Delete(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    return client_->Delete(Full(key));
  }

  size_t MaxKeyBytes() const override { return kS3MaxKeyBytes - prefix_.size(); }

 private:
  std::string Full(std::string_view key) const { return prefix_ + std::string(key); }

  Status Absent(std::string_view key) {
    auto head = client_->Head(Full(key));
    if (head.ok()) {
      return AlreadyExists(
          fmt::format("{} exists: nothing is overwritten", client_->Describe(Full(key))));
    }
    if (head.status().code() == Code::kNotFound) return Status();
    return head.status();
  }

  // Local copies a crashed process on this host left behind.
  void RemoveDeadScratch() {
    std::error_code ec;
    const std::string host = HostName();
    for (const auto& entry : fs::directory_iterator(scratch_, ec)) {
      auto owner = WorkFileOwnerOf(entry.path().filename().string());
      if (!owner || owner->host != host) continue;
      if (::kill(static_cast<pid_t>(owner->pid), 0) == 0 || errno != ESRCH) continue;
      fs::remove(entry.path(), ec);
    }
  }

  std::string prefix_;  // "" or "some/prefix/"
  std::string scratch_;
  net::Client own_http_;
  SystemClock system_clock_;
  net::Client* http_;
  const Clock* clock_;
  std::unique_ptr<aws::CredentialsProvider> own_credentials_;
  aws::CredentialsProvider* credentials_ = nullptr;
  std::unique_ptr<aws::S3Client> client_;
};

}  // namespace

Result<S3Location> ParseS3Url(std::string_view url) {
  if (!url.starts_with("s3://")) {
    return InvalidArgument(fmt::format("'{}' is not an s3:// URL", url));
  }
  std::string_view rest = url.substr(5);
  const size_t slash = rest.find('/');
  S3Location where;
  where.bucket = std::string(rest.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  while (prefix.ends_with('/')) prefix.pop_back();
  if (!ValidBucket(where.bucket)) {
    return InvalidArgument(fmt::format(
        "storage.url '{}': '{}' is not an S3 bucket name (3 to 63 lower-case letters, digits, "
        "dots and hyphens)",
        url, where.bucket));
  }
  if (!prefix.empty()) {
    if (Status s = ValidateKey(prefix); !s.ok()) {
      return InvalidArgument(fmt::format(
          "storage.url '{}': the prefix '{}' has an empty, '.' or '..' part", url, prefix));
    }
    prefix += '/';
  }
  where.prefix = std::move(prefix);
  return where;
}

Result<std::unique_ptr<Store>> OpenS3Store(std::string_view url, const OpenOptions& options) {
  VG_ASSIGN_OR_RETURN(S3Location where, ParseS3Url(url));
  const std::string& bucket = where.bucket;
  std::string prefix = where.prefix;
  aws::S3Options s3;
  s3.bucket = bucket;
  s3.endpoint = options.endpoint;
  s3.region = options.region;
  if (s3.region.empty()) {
    for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
        s3.region = v;
        break;
      }
    }
  }
  if (s3.region.empty()) s3.region = "us-east-1";
  if (!s3.endpoint.empty() && !s3.endpoint.starts_with("http://") &&
      !s3.endpoint.starts_with("https://")) {
    return InvalidArgument(
        fmt::format("storage.endpoint '{}' must start with http:// or https://", s3.endpoint));
  }
  s3.path_style = options.path_style.value_or(!s3.endpoint.empty());
  // Virtual-host style puts the bucket in a TLS host name: a dot breaks the
  // certificate's wildcard.
  if (!s3.path_style && s3.endpoint.empty() && bucket.find('.') != std::string::npos) {
    s3.path_style = true;
  }
  s3.part_size = options.part_size;
  s3.single_put_limit = options.part_size;
  s3.parallel_parts = options.parallel_parts;
  return std::unique_ptr<Store>(new S3Store(std::move(s3), std::move(prefix), options));
}

}  // namespace vidgate::storage
