// store.h: objects by key, the seam between the pipeline and where files live.
//
// Keys are relative, '/'-separated paths ("uploads/a/clip.mp4"). The semantics
// are those an object store can honour, and file:// matches them: no real
// directories (a "folder" exists while some key lies under it), whole-object
// writes, no append. Every backend passes store_conformance.h.
//
// All methods are thread-safe. Errors follow common/status.h; a message names
// the key and the store.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::storage {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  double mtime = 0;  // seconds since the epoch of the last write
  // Set by List for an entry that is there but is not an object vidgate
  // takes (file://: a symbolic link, a FIFO, a socket, a device): why not.
  // Such an entry still occupies its key.
  std::string refused;
  // What the backend says identifies this version of the object (S3: its
  // ETag; file://: the inode, new for a file renamed over the old one); ""
  // where there is none.
  std::string etag;
};

// Whether `a` and `b` describe the same version of an object: same size and
// time, and the same ETag where both have one (S3's LastModified is in whole
// seconds: a same-size replacement within one would otherwise pass).
inline bool SameVersion(const ObjectInfo& a, const ObjectInfo& b) {
  return a.size == b.size && a.mtime == b.mtime &&
         (a.etag.empty() || b.etag.empty() || a.etag == b.etag);
}

// A file on local disk holding an object's bytes, for the media engine. A
// temporary copy is deleted when the LocalFile is destroyed; a backend whose
// objects are already local files hands out the file itself, held open
// (`fd`, closed with the LocalFile) and named "/proc/self/fd/N", so what is
// read is the file that was checked, whatever happens to its name meanwhile.
class LocalFile {
 public:
  LocalFile(std::string path, bool temporary, int fd = -1)
      : path_(std::move(path)), temporary_(temporary), fd_(fd) {}
  LocalFile(LocalFile&& other) noexcept;
  LocalFile& operator=(LocalFile&& other) noexcept;
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;
  ~LocalFile();

  const std::string& path() const { return path_; }
  // The open file, or -1 for a temporary copy.
  int fd() const { return fd_; }
  // `message` (an error from reading path()) with the stand-in's path, which
  // means nothing to a reader and is gone soon, replaced by `key`.
  std::string NameByKey(std::string message, std::string_view key) const;

 private:
  std::string path_;
  bool temporary_ = false;
  int fd_ = -1;
};

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Creates what the backend needs before `run` (file://: the four folders).
  virtual Status Prepare() = 0;

  // Every object whose key starts with `prefix`, at any depth, sorted by key,
  // and the entries there that are no objects (with `refused` set; never
  // descended into). A prefix with nothing under it is an empty list.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;

  // Size and mtime of one object; kNotFound if absent or not an object (a
  // symbolic link or anything but a regular file, on file://).
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // The whole object; kNotFound if absent; kInvalidArgument if it is larger
  // than `max_bytes` (nothing is read then).
  virtual Result<std::string> Read(std::string_view key, int64_t max_bytes) = 0;

  // Streams bytes [offset, offset + length) of `key` into `write`, in
  // consecutive pieces, holding none of it whole (the API serves originals
  // and renditions with it, Range requests included). kNotFound if absent;
  // kFailedPrecondition if the object is shorter than offset + length (it
  // changed since it was looked at); the first error `write` returns stops
  // the read and is returned.
  virtual Status ReadRange(std::string_view key, int64_t offset, int64_t length,
                           const std::function<Status(std::string_view)>& write) = 0;

  // Creates or replaces `key` with `data`, atomically: readers see the old or
  // the new object, never part of one.
  virtual Status Write(std::string_view key, std::string_view data) = 0;

  // Copies the local file at `local_path` to `key`, atomically; kAlreadyExists
  // if `key` exists (nothing is overwritten).
  virtual Status Upload(const std::string& local_path, std::string_view key) = 0;

  // A local file with the object's bytes; kNotFound if absent.
  virtual Result<LocalFile> Fetch(std::string_view key) = 0;

  // Renames `from` to `to`. kNotFound if `from` is absent; kAlreadyExists if
  // `to` exists, in which case nothing changes.
  virtual Status Move(std::string_view from, std::string_view to) = 0;

  // Removes `key`; removing an absent key is ok.
  virtual Status Delete(std::string_view key) = 0;

  // A local folder for an attempt's outputs, as close to the store as
  // possible (file://: <root>/.vidgate/work, on the store's file system, so
  // Import is a rename); "" when the backend has none (use a temp folder).
  virtual std::string LocalWorkRoot() const { return ""; }

  // The longest key this store can hold, in bytes (S3: 1024, less the
  // prefix); file systems limit each name's length instead.
  virtual size_t MaxKeyBytes() const { return std::numeric_limits<size_t>::max(); }

  // Moves the local file at `local_path` into the store as `key` (the local
  // file is gone afterwards); kAlreadyExists if `key` exists. Backends on the
  // same file system rename; others upload, then remove the local file.
  virtual Status Import(const std::string& local_path, std::string_view key) {
    VG_RETURN_IF_ERROR(Upload(local_path, key));
    std::remove(local_path.c_str());
    return Status();
  }
};

// An s3:// store URL's parts: "s3://media/ingest" is bucket "media", prefix
// "ingest/" (keys in the bucket are the prefix and the store's keys).
struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or ending in '/'
};
Result<S3Location> ParseS3Url(std::string_view url);

// Work files (under .vidgate/) are named after the process that writes
// them, "<pid>.<random>@<host>", so a restarted process can tell the
// leftovers of a dead one on its host from the files of a live one.
std::string NewWorkFileName();
struct WorkFileOwner {
  std::string host;
  long pid = 0;
};
// The owner encoded in a work file's key, if it has one.
std::optional<WorkFileOwner> WorkFileOwnerOf(std::string_view key);

// Checks that `key` is a relative path with no empty, "." or ".." component.
Status ValidateKey(std::string_view key);

// How to reach an s3:// store; file:// and memory:// ignore it.
struct OpenOptions {
  // "scheme://host[:port]" of an S3-compatible server; "" = AWS.
  std::string endpoint;
  // "" = AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
  std::string region;
  // Bucket in the path rather than the host name; unset = true with an
  // endpoint (what MinIO, Ceph, Garage and s3rver expect), false on AWS.
  std::optional<bool> path_style;
  // nullptr: the default chain (aws/credentials.h), the store's own HTTP
  // client, the system clock. What is given must outlive the store.
  aws::CredentialsProvider* credentials = nullptr;
  net::Client* http = nullptr;
  const Clock* clock = nullptr;
  // Where Fetch puts local copies; "" = $TMPDIR (else /tmp)/vidgate-scratch.
  std::string scratch_dir;
  // Multipart upload tuning (aws/s3_client.h).
  int64_t part_size = 16 << 20;
  int parallel_parts = 4;
};

// Opens a store from its URL: "file://PATH" (relative or absolute; a bare
// path is taken as file://), "s3://bucket[/prefix]" or "memory://".
// kInvalidArgument for an unknown scheme or a malformed URL. Needs a live
// net::CurlGlobal for s3://.
Result<std::unique_ptr<Store>> Open(std::string_view url, const OpenOptions& options = {});

// An in-memory store for tests. Opened by Open("memory://"). Objects' mtime
// is `clock`'s time of their write (nullptr: the system clock).
std::unique_ptr<Store> NewMemoryStore();
std::unique_ptr<Store> NewMemoryStore(const Clock* clock);

}  // namespace vidgate::storage
