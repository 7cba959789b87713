#include "storage/store.h"

#include <unistd.h>

#include <map>
#include <mutex>

#include "common/clock.h"
#include "common/util.h"
#include "storage/internal/backends.h"

namespace vidgate::storage {

LocalFile::LocalFile(LocalFile&& other) noexcept
    : path_(std::move(other.path_)), temporary_(other.temporary_), fd_(other.fd_) {
  other.temporary_ = false;
  other.fd_ = -1;
}

LocalFile& LocalFile::operator=(LocalFile&& other) noexcept {
  if (this != &other) {
    if (temporary_) ::unlink(path_.c_str());
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    temporary_ = other.temporary_;
    fd_ = other.fd_;
    other.temporary_ = false;
    other.fd_ = -1;
  }
  return *this;
}

std::string LocalFile::NameByKey(std::string message, std::string_view key) const {
  if (path_.empty()) return message;
  for (size_t at = message.find(path_); at != std::string::npos;
       at = message.find(path_, at + key.size())) {
    message.replace(at, path_.size(), key);
  }
  return message;
}

LocalFile::~LocalFile() {
  if (temporary_) ::unlink(path_.c_str());
  if (fd_ >= 0) ::close(fd_);
}

std::string NewWorkFileName() {
  return std::to_string(::getpid()) + "." + NewUuid() + "@" + HostName();
}

std::optional<WorkFileOwner> WorkFileOwnerOf(std::string_view key) {
  std::string_view file = key.substr(key.rfind('/') + 1);
  auto at = file.rfind('@');
  auto dot = file.find('.');
  if (at == std::string_view::npos || dot == std::string_view::npos || dot > at || dot == 0) {
    return std::nullopt;
  }
  std::string_view pid = file.substr(0, dot);
  if (pid.find_first_not_of("0123456789") != std::string_view::npos || pid.size() > 9) {
    return std::nullopt;
  }
  return WorkFileOwner{std::string(file.substr(at + 1)), std::stol(std::string(pid))};
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("empty storage key");
  if (key.front() == '/')
    return InvalidArgument("storage key '" + std::string(key) + "' is absolute");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgument("storage key '" + std::string(key) +
                             "' has an empty, '.' or '..' component");
    }
    start = end + 1;
  }
  if (key.find('\0') != std::string_view::npos)
    return InvalidArgument("storage key holds a NUL byte");
  return Status();
}

Result<std::unique_ptr<Store>> Open(std::string_view url, const OpenOptions& options) {
  if (url == "memory://") return NewMemoryStore();
  if (url.starts_with("file://")) return OpenFileStore(url, url.substr(7));
  if (url.find("://") == std::string_view::npos) return OpenFileStore(url, url);
  if (url.starts_with("s3://")) return OpenS3Store(url, options);
  return InvalidArgument("storage.url '" + std::string(url) +
                         "' has an unknown scheme (expected file:// or s3://)");
}

namespace {

struct MemoryObject {
  std::string data;
  double mtime = 0;
  std::string etag;  // one per write, as S3 gives a new ETag to new bytes
};

// Objects in a map; Fetch writes a temporary file. For pipeline unit tests.
class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const Clock* clock) : clock_(clock != nullptr ? clock : &system_clock_) {}
  Status Prepare() override { return Status(); }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    std::vector<ObjectInfo> out;
    for (auto it = objects_.lower_bound(std::string(prefix));
         it != objects_.end() && it->first.starts_with(prefix); ++it) {
      out.push_back({it->first, static_cast<int64_t>(it->second.data.size()), it->second.mtime, "",
                     it->second.etag});
    }
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFound("no object '" + std::string(key) + "'");
    return ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()), it->second.mtime, "",
                      it->second.etag};
  }

  Result<std::string> Read(std::string_view key, int64_t max_bytes) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFound("no object '" + std::string(key) + "'");
    if (static_cast<int64_t>(it->second.data.size()) > max_bytes) {
      return InvalidArgument("object '" + std::string(key) + "' is over the limit of " +
                             std::to_string(max_bytes) + " bytes");
    }
    return it->second.data;
  }

  Status ReadRange(std::string_view key, int64_t offset, int64_t length,
                   const std::function<Status(std::string_view)>& write) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::string piece;
    {
      std::lock_guard lock(mu_);
      auto it = objects_.find(std::string(key));
      if (it == objects_.end()) return NotFound("no object '" + std::string(key) + "'");
      const auto size = static_cast<int64_t>(it->second.data.size());
      if (offset < 0 || length < 0 || offset + length > size) {
        return FailedPrecondition("object '" + std::string(key) + "' is " + std::to_string(size) +
                                  " bytes, shorter than the range asked");
      }
      piece = it->second.data.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
    }
    return piece.empty() ? Status() : write(piece);
  }

  Status Write(std::string_view key, std::string_view data) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mu_);
    objects_[std::string(key)] = MemoryObject{std::string(data), clock_->Now(), NextEtag()};
    return Status();
  }

  Status Upload(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    VG_ASSIGN_OR_RETURN(std::string data, ReadLocalFile(local_path, "open"));
    std::lock_guard lock(mu_);
    if (objects_.contains(std::string(key))) {
      return AlreadyExists("object '" + std::string(key) + "' already exists");
    }
    objects_[std::string(key)] = MemoryObject{std::move(data), clock_->Now(), NextEtag()};
    return Status();
  }

  Result<LocalFile> Fetch(std::string_view key) override {
    VG_ASSIGN_OR_RETURN(std::string data, Read(key, INT64_MAX));
    char path[] = "/tmp/vidgate-memstore-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) return ErrnoStatus(errno, "create", path);
    LocalFile file(path, /*temporary=*/true);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        ::close(fd);
        return ErrnoStatus(errno, "write", path);
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return file;
  }

  Status Move(std::string_view from, std::string_view to) override {
    VG_RETURN_IF_ERROR(ValidateKey(from));
    VG_RETURN_IF_ERROR(ValidateKey(to));
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(from));
    if (it == objects_.end()) return NotFound("no object '" + std::string(from) + "'");
    if (objects_.contains(std::string(to))) {
      return AlreadyExists("object '" + std::string(to) + "' already exists");
    }
    objects_[std::string(to)] = std::move(it->second);
    objects_.erase(std::string(from));
    return Status();
  }

  Status Delete(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    std::lock_guard lock(mu_);
    objects_.erase(std::string(key));
    return Status();
  }

 private:
  std::string NextEtag() { return "v" + std::to_string(++writes_); }  // under mu_

  SystemClock system_clock_;
  const Clock* clock_;  // what an object's mtime is read from
  std::mutex mu_;
  std::map<std::string, MemoryObject> objects_;
  int64_t writes_ = 0;
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() { return NewMemoryStore(nullptr); }

std::unique_ptr<Store> NewMemoryStore(const Clock* clock) {
  return std::make_unique<MemoryStore>(clock);
}

}  // namespace vidgate::storage
