// file:// backend: keys are paths under a root folder.
//
// The store's boundary: only regular files inside the root are objects.
// Every path is resolved one component at a time from the root with
// O_NOFOLLOW, so a symbolic link anywhere below the root (to a folder of the
// store or to anything outside it) is never followed: it is not listed as an
// object (List reports it as refused), read, fetched, moved or written
// through. The root itself may be reached through a link: that is the
// operator's choice. File names on disk are bytes; keys are their
// BytesToKey form (common/text.h), so every key is valid UTF-8.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "common/text.h"
#include "common/util.h"
#include "storage/internal/backends.h"

namespace vidgate::storage {
namespace {

namespace fs = std::filesystem;

// Work files live here, on the same file system as the objects, so the final
// rename is atomic; List() of the four prefixes never sees them.
constexpr std::string_view kTmpDir = ".vidgate/tmp";
// How deep List looks (each level reopens its path from the root).
constexpr int kMaxDepth = 48;

// A replaced file (written beside and renamed over, as uploaders and
// vidgate do) is a new inode, even within the file system's clock tick.
std::string EtagOf(const struct stat& st) { return "i" + std::to_string(st.st_ino); }

double MtimeOf(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct Split {
  std::string parent;  // "" for a key at the root
  std::string leaf;    // bytes on disk
};

Split SplitKey(std::string_view key) {
  auto slash = key.rfind('/');
  if (slash == std::string_view::npos) return {"", KeyToBytes(key)};
  return {std::string(key.substr(0, slash)), KeyToBytes(key.substr(slash + 1))};
}

// Why an entry that is there is no object, from its lstat mode.
std::string WhyRefused(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link (vidgate does not follow links inside its store)";
  if (S_ISFIFO(mode)) return "a FIFO, not a regular file";
  if (S_ISSOCK(mode)) return "a socket, not a regular file";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device, not a regular file";
  return "not a regular file";
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", what);
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

class FileStore final : public Store {
 public:
  explicit FileStore(fs::path root) : root_(std::move(root)) {}

  Status Prepare() override {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder", root_.string());
    VG_ASSIGN_OR_RETURN(Fd root, OpenRoot());
    for (const char* dir : {"uploads", "failed", "processed", "unable_to_process"}) {
      if (::mkdirat(root.get(), dir, 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, "create folder", (root_ / dir).string());
      }
      struct stat st {};
      if (::fstatat(root.get(), dir, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus(errno, "stat", (root_ / dir).string());
      }
      if (!S_ISDIR(st.st_mode)) {
        return FailedPrecondition((root_ / dir).string() + " is " + WhyRefused(st.st_mode) +
                                  "; it must be a folder inside the store");
      }
    }
    return Status();
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::string dir_part;
    if (auto slash = prefix.rfind('/'); slash != std::string_view::npos) {
      dir_part = std::string(prefix.substr(0, slash));
    }
    std::vector<ObjectInfo> out;
    VG_RETURN_IF_ERROR(Walk(dir_part, prefix, out));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    const Split at = SplitKey(key);
    VG_ASSIGN_OR_RETURN(Fd dir, OpenDir(at.parent, /*create=*/false));
    struct stat st {};
    if (::fstatat(dir.get(), at.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "stat", Describe(key));
    }
    if (!S_ISREG(st.st_mode)) return NotFound(Describe(key) + " is " + WhyRefused(st.st_mode));
    return ObjectInfo{std::string(key), static_cast<int64_t>(st.st_size), MtimeOf(st), "",
                      EtagOf(st)};
  }

  Result<std::string> Read(std::string_view key, int64_t max_bytes) override {
    VG_ASSIGN_OR_RETURN(Fd fd, OpenObject(key));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", Describe(key));
    if (st.st_size > max_bytes) {
      return InvalidArgument(Describe(key) + " is " + std::to_string(st.st_size) +
                             " bytes, over the limit of " + std::to_string(max_bytes));
    }
    std::string data;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "read", Describe(key));
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (static_cast<int64_t>(data.size()) > max_bytes) {
        return InvalidArgument(Describe(key) + " grew over the limit of " +
                               std::to_string(max_bytes) + " bytes while being read");
      }
    }
    return data;
  }

  Status ReadRange(std::string_view key, int64_t offset, int64_t length,
                   const std::function<Status(std::string_view)>& write) override {
    VG_ASSIGN_OR_RETURN(Fd fd, OpenObject(key));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", Describe(key));
    if (offset < 0 || length < 0 || offset + length > st.st_size) {
      return FailedPrecondition(Describe(key) + " is " + std::to_string(st.st_size) +
                                " bytes, shorter than the range asked");
    }
    std::vector<char> buf(256 * 1024);
    while (length > 0) {
      const size_t want = static_cast<size_t>(std::min<int64_t>(length, buf.size()));
      ssize_t n = ::pread(fd.get(), buf.data(), want, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "read", Describe(key));
      }
      if (n == 0) return FailedPrecondition(Describe(key) + " shrank while it was read");
      VG_RETURN_IF_ERROR(write(std::string_view(buf.data(), static_cast<size_t>(n))));
      offset += n;
      length -= n;
    }
    return Status();
  }

  Status Write(std::string_view key, std::string_view data) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    VG_ASSIGN_OR_RETURN(Fd tmp_dir, OpenDir(std::string(kTmpDir), /*create=*/true));
    const std::string tmp = NewWorkFileName();
    {
      Fd fd(::openat(tmp_dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (fd.get() < 0) return ErrnoStatus(errno, "create", Describe(std::string(kTmpDir)));
      Status s = WriteAll(fd.get(), data, Describe(key));
      if (s.ok() && ::close(fd.release()) != 0) s = ErrnoStatus(errno, "write", Describe(key));
      if (!s.ok()) {
        ::unlinkat(tmp_dir.get(), tmp.c_str(), 0);
        return s;
      }
    }
    const Split at = SplitKey(key);
    Result<Fd> dir = OpenDir(at.parent, /*create=*/true);
    Status s = dir.status();
    if (s.ok() && ::renameat(tmp_dir.get(), tmp.c_str(), dir->get(), at.leaf.c_str()) != 0) {
      s = ErrnoStatus(errno, "write", Describe(key));
    }
    if (!s.ok()) ::unlinkat(tmp_dir.get(), tmp.c_str(), 0);
    return s;
  }

  Status Upload(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    Fd in(::open(local_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (in.get() < 0) return ErrnoStatus(errno, "open", local_path);
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) return ErrnoStatus(errno, "stat", local_path);
    if (!S_ISREG(st.st_mode)) {
      return InvalidArgument("'" + local_path + "' is " + WhyRefused(st.st_mode));
    }
    VG_ASSIGN_OR_RETURN(Fd tmp_dir, OpenDir(std::string(kTmpDir), /*create=*/true));
    const std::string tmp = NewWorkFileName();
    Status s = [&]() -> Status {
      Fd out(::openat(tmp_dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (out.get() < 0) return ErrnoStatus(errno, "create", Describe(std::string(kTmpDir)));
      char buf[1 << 16];
      for (;;) {
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoStatus(errno, "read", local_path);
        }
        if (n == 0) break;
        VG_RETURN_IF_ERROR(WriteAll(out.get(), {buf, static_cast<size_t>(n)}, Describe(key)));
      }
      if (::close(out.release()) != 0) return ErrnoStatus(errno, "write", Describe(key));
      return RenameNoReplace(tmp_dir.get(), tmp, key);
    }();
    ::unlinkat(tmp_dir.get(), tmp.c_str(), 0);
    return s;
  }

  std::string LocalWorkRoot() const override { return (root_ / ".vidgate" / "work").string(); }

  Status Import(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    Status s = RenameNoReplace(AT_FDCWD, local_path, key);
    if (s.ok() || s.code() == Code::kAlreadyExists || s.code() == Code::kNotFound) return s;
    // Another file system (EXDEV): copy, then remove.
    return Store::Import(local_path, key);
  }

  Result<LocalFile> Fetch(std::string_view key) override {
    VG_ASSIGN_OR_RETURN(Fd fd, OpenObject(key));
    // Reads block again (OpenObject opened without blocking, for FIFOs' sake).
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    std::string path = "/proc/self/fd/" + std::to_string(fd.get());
    // Without /proc, a path by name could be a different file by the time
    // it is opened: refuse rather than follow it.
    if (::access(path.c_str(), F_OK) != 0) {
      return Unavailable("cannot hand out " + Describe(key) + ": /proc is not mounted");
    }
    return LocalFile(std::move(path), /*temporary=*/false, fd.release());
  }

  Status Move(std::string_view from, std::string_view to) override {
    VG_RETURN_IF_ERROR(ValidateKey(from));
    VG_RETURN_IF_ERROR(ValidateKey(to));
    const Split src = SplitKey(from);
    VG_ASSIGN_OR_RETURN(Fd src_dir, OpenDir(src.parent, /*create=*/false));
    struct stat st {};
    if (::fstatat(src_dir.get(), src.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "stat", Describe(from));
    }
    if (!S_ISREG(st.st_mode)) return NotFound(Describe(from) + " is " + WhyRefused(st.st_mode));
    VG_RETURN_IF_ERROR(RenameNoReplace(src_dir.get(), src.leaf, to));
    RemoveEmptyParents(from);
    return Status();
  }

  Status Delete(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    const Split at = SplitKey(key);
    Result<Fd> dir = OpenDir(at.parent, /*create=*/false);
    if (dir.status().code() == Code::kNotFound) return Status();
    VG_RETURN_IF_ERROR(dir.status());
    if (::unlinkat(dir->get(), at.leaf.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "delete", Describe(key));
    }
    RemoveEmptyParents(key);
    return Status();
  }

 private:
  fs::path PathOf(std::string_view key) const { return root_ / fs::path(KeyToBytes(key)); }
  std::string Describe(std::string_view key) const {
    return "'" + root_.string() + "/" + std::string(key) + "'";
  }

  Result<Fd> OpenRoot() const {
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) return ErrnoStatus(errno, "open the store's folder", root_.string());
    return root;
  }

  // The folder `dir_key` ("" = the root), reached without following links;
  // kNotFound when a component is missing, a link or no folder. With
  // `create`, missing folders are made.
  Result<Fd> OpenDir(std::string_view dir_key, bool create) const {
    Result<Fd> root = OpenRoot();
    if (root.status().code() == Code::kNotFound && create) {
      std::error_code ec;
      fs::create_directories(root_, ec);
      if (ec) return ErrnoStatus(ec.value(), "create folder", root_.string());
      root = OpenRoot();
    }
    VG_RETURN_IF_ERROR(root.status());
    Fd fd = std::move(root).value();
    size_t start = 0;
    while (start < dir_key.size()) {
      size_t end = dir_key.find('/', start);
      if (end == std::string_view::npos) end = dir_key.size();
      const std::string part = KeyToBytes(dir_key.substr(start, end - start));
      const std::string_view so_far = dir_key.substr(0, end);
      int next = ::openat(fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create) {
        if (::mkdirat(fd.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
          return ErrnoStatus(errno, "create folder", Describe(so_far));
        }
        next = ::openat(fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (next < 0) {
        const int err = errno;
        struct stat st {};
        if ((err == ELOOP || err == ENOTDIR) &&
            ::fstatat(fd.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          return NotFound(Describe(so_far) + " is " +
                          (S_ISDIR(st.st_mode) ? std::string("a folder") : WhyRefused(st.st_mode)) +
                          (S_ISLNK(st.st_mode) ? "" : ", not a folder"));
        }
        return ErrnoStatus(err, "open folder", Describe(so_far));
      }
      fd = Fd(next);
      start = end + 1;
    }
    return fd;
  }

  // An object opened for reading: a regular file, reached without following
  // links, opened without blocking (a FIFO must not hang the caller).
  Result<Fd> OpenObject(std::string_view key) const {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    const Split at = SplitKey(key);
    VG_ASSIGN_OR_RETURN(Fd dir, OpenDir(at.parent, /*create=*/false));
    Fd fd(::openat(dir.get(), at.leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) {
      const int err = errno;
      struct stat st {};
      if (err == ELOOP && ::fstatat(dir.get(), at.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return NotFound(Describe(key) + " is " + WhyRefused(st.st_mode));
      }
      return ErrnoStatus(err, "open", Describe(key));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", Describe(key));
    if (!S_ISREG(st.st_mode)) return NotFound(Describe(key) + " is " + WhyRefused(st.st_mode));
    return fd;
  }

  Status Walk(const std::string& dir_key, std::string_view prefix, std::vector<ObjectInfo>& out,
              int depth = 0) {
    Result<Fd> dir_fd = OpenDir(dir_key, /*create=*/false);
    // A folder that is absent, vanished while walking, or is no folder holds
    // no objects.
    if (dir_fd.status().code() == Code::kNotFound) return Status();
    VG_RETURN_IF_ERROR(dir_fd.status());
    DIR* dir = ::fdopendir(dir_fd->get());
    if (dir == nullptr) return ErrnoStatus(errno, "list", Describe(dir_key));
    dir_fd->release();  // the DIR owns it now
    std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, &::closedir);
    struct Entry {
      std::string key;
      bool is_dir;
    };
    std::vector<Entry> subdirs;
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) return ErrnoStatus(errno, "list", Describe(dir_key));
        break;
      }
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string key = dir_key.empty() ? BytesToKey(name) : dir_key + "/" + BytesToKey(name);
      // Only what can match is looked at: a name outside the prefix, unless
      // it is a folder on the way to it, costs no stat (a caption lookup in
      // an uploads/ folder of 100,000 files paid 100,000).
      if (!key.starts_with(prefix) && !prefix.starts_with(key + "/")) continue;
      struct stat st {};
      if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        // Descend only where keys under this folder can match the prefix, and
        // not without end: a tree deeper than anyone files is refused.
        const std::string as_dir = key + "/";
        if (!prefix.starts_with(as_dir) && !std::string_view(as_dir).starts_with(prefix)) continue;
        if (depth + 1 >= kMaxDepth) {
          if (key.starts_with(prefix)) {
            out.push_back(ObjectInfo{key, 0, MtimeOf(st),
                                     "a folder nested deeper than " + std::to_string(kMaxDepth) +
                                         " levels, not looked into",
                                     ""});
          }
          continue;
        }
        subdirs.push_back({key, true});
      } else if (key.starts_with(prefix)) {
        ObjectInfo info{key, static_cast<int64_t>(st.st_size), MtimeOf(st), "", EtagOf(st)};
        if (!S_ISREG(st.st_mode)) info.refused = WhyRefused(st.st_mode);
        out.push_back(std::move(info));
      }
    }
    closer.reset();  // one open folder at a time, however deep the tree
    for (const auto& sub : subdirs) VG_RETURN_IF_ERROR(Walk(sub.key, prefix, out, depth + 1));
    return Status();
  }

  // Renames (from_dir, from_name) to `to_key` without ever replacing the
  // target: renameat2(RENAME_NOREPLACE), or link+unlink where the file
  // system lacks it.
  Status RenameNoReplace(int from_dir, const std::string& from_name, std::string_view to_key) {
    const Split to = SplitKey(to_key);
    VG_ASSIGN_OR_RETURN(Fd to_dir, OpenDir(to.parent, /*create=*/true));
    if (::renameat2(from_dir, from_name.c_str(), to_dir.get(), to.leaf.c_str(), RENAME_NOREPLACE) ==
        0) {
      return Status();
    }
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      if (::linkat(from_dir, from_name.c_str(), to_dir.get(), to.leaf.c_str(), 0) != 0) {
        err = errno;
        if (err == EEXIST) return AlreadyExists(Describe(to_key) + " already exists");
        return ErrnoStatus(err, "move to", Describe(to_key));
      }
      ::unlinkat(from_dir, from_name.c_str(), 0);
      return Status();
    }
    if (err == EEXIST) return AlreadyExists(Describe(to_key) + " already exists");
    if (err == EXDEV) return Unavailable("cannot move to " + Describe(to_key) + ": EXDEV");
    return ErrnoStatus(err, "move to", Describe(to_key));
  }

  // Object semantics: a folder exists only while it holds something, so a
  // move leaves no empty folders behind (the four top-level ones stay).
  void RemoveEmptyParents(std::string_view key) {
    std::string k(key);
    for (auto slash = k.rfind('/'); slash != std::string::npos; slash = k.rfind('/')) {
      k.resize(slash);
      if (k.find('/') == std::string::npos) break;  // keep the top-level folder
      const Split at = SplitKey(k);
      Result<Fd> parent = OpenDir(at.parent, /*create=*/false);
      if (!parent.ok()) break;
      if (::unlinkat(parent->get(), at.leaf.c_str(), AT_REMOVEDIR) != 0) break;  // not empty
    }
  }

  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenFileStore(std::string_view url, std::string_view path) {
  if (path.empty()) return InvalidArgument("storage.url '" + std::string(url) + "' has no path");
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(fs::absolute(fs::path(std::string(path))), ec);
  if (!ec && resolved == resolved.root_path()) {
    return InvalidArgument("storage.url '" + std::string(url) +
                           "' is the file system's root; give vidgate a folder of its own");
  }
  return std::unique_ptr<Store>(std::make_unique<FileStore>(fs::path(std::string(path))));
}

}  // namespace vidgate::storage
