// file:// backend: keys are paths under a root folder.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/util.h"
#include "storage/internal/backends.h"

namespace vidgate::storage {
namespace {

namespace fs = std::filesystem;

// Work files live here, on the same file system as the objects, so the final
// rename is atomic; List() of the four prefixes never sees them.
constexpr std::string_view kTmpDir = ".vidgate/tmp";

double MtimeOf(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

class FileStore final : public Store {
 public:
  explicit FileStore(fs::path root) : root_(std::move(root)) {}

  Status Prepare() override {
    for (const char* dir : {"uploads", "failed", "processed", "unable_to_process"}) {
      std::error_code ec;
      fs::create_directories(root_ / dir, ec);
      if (ec) return ErrnoStatus(ec.value(), "create folder", (root_ / dir).string());
      if (!fs::is_directory(root_ / dir)) {
        return FailedPrecondition((root_ / dir).string() + " exists and is not a folder");
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
    struct stat st {};
    if (::stat(PathOf(key).c_str(), &st) != 0) return ErrnoStatus(errno, "stat", Describe(key));
    if (!S_ISREG(st.st_mode)) return NotFound(Describe(key) + " is not a file");
    return ObjectInfo{std::string(key), static_cast<int64_t>(st.st_size), MtimeOf(st)};
  }

  Result<std::string> Read(std::string_view key, int64_t max_bytes) override {
    VG_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key));
    if (info.size > max_bytes) {
      return InvalidArgument(Describe(key) + " is " + std::to_string(info.size) +
                             " bytes, over the limit of " + std::to_string(max_bytes));
    }
    std::ifstream in(PathOf(key), std::ios::binary);
    if (!in) return ErrnoStatus(errno, "open", Describe(key));
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) return Unavailable("cannot read " + Describe(key));
    std::string data = std::move(buf).str();
    if (static_cast<int64_t>(data.size()) > max_bytes) {
      return InvalidArgument(Describe(key) + " grew over the limit of " +
                             std::to_string(max_bytes) + " bytes while being read");
    }
    return data;
  }

  Status Write(std::string_view key, std::string_view data) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    VG_ASSIGN_OR_RETURN(fs::path tmp, WriteTemp(data));
    VG_RETURN_IF_ERROR(MakeParents(key));
    if (::rename(tmp.c_str(), PathOf(key).c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, "write", Describe(key));
    }
    return Status();
  }

  Status Upload(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    VG_RETURN_IF_ERROR(MakeTmpDir());
    fs::path tmp = root_ / kTmpDir / NewWorkFileName();
    std::error_code ec;
    fs::copy_file(local_path, tmp, ec);
    if (ec) return ErrnoStatus(ec.value(), "copy", local_path);
    Status st = RenameNoReplace(tmp, key);
    ::unlink(tmp.c_str());
    return st;
  }

  std::string LocalWorkRoot() const override { return (root_ / ".vidgate" / "work").string(); }

  Status Import(const std::string& local_path, std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    Status s = RenameNoReplace(local_path, key);
    if (s.ok() || s.code() == Code::kAlreadyExists) return s;
    // Another file system (EXDEV): copy, then remove.
    return Store::Import(local_path, key);
  }

  Result<LocalFile> Fetch(std::string_view key) override {
    VG_RETURN_IF_ERROR(Stat(key).status());
    return LocalFile(PathOf(key).string(), /*temporary=*/false);
  }

  Status Move(std::string_view from, std::string_view to) override {
    VG_RETURN_IF_ERROR(ValidateKey(from));
    VG_RETURN_IF_ERROR(ValidateKey(to));
    VG_RETURN_IF_ERROR(Stat(from).status());
    VG_RETURN_IF_ERROR(RenameNoReplace(PathOf(from), to));
    RemoveEmptyParents(from);
    return Status();
  }

  Status Delete(std::string_view key) override {
    VG_RETURN_IF_ERROR(ValidateKey(key));
    if (::unlink(PathOf(key).c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "delete", Describe(key));
    }
    RemoveEmptyParents(key);
    return Status();
  }

 private:
  fs::path PathOf(std::string_view key) const { return root_ / fs::path(std::string(key)); }
  std::string Describe(std::string_view key) const { return "'" + PathOf(key).string() + "'"; }

  Status Walk(const std::string& dir_key, std::string_view prefix, std::vector<ObjectInfo>& out) {
    fs::path dir = dir_key.empty() ? root_ : PathOf(dir_key);
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      // A folder that is absent or vanished while walking holds no objects.
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
        return Status();
      }
      return ErrnoStatus(ec.value(), "list", dir.string());
    }
    for (const fs::directory_entry& entry : it) {
      std::string name = entry.path().filename().string();
      std::string key = dir_key.empty() ? name : dir_key + "/" + name;
      struct stat st {};
      if (::stat(entry.path().c_str(), &st) != 0) continue;  // vanished meanwhile
      if (S_ISDIR(st.st_mode)) {
        // Descend only where keys under this folder can match the prefix.
        std::string as_dir = key + "/";
        if (prefix.starts_with(as_dir) || std::string_view(as_dir).starts_with(prefix)) {
          VG_RETURN_IF_ERROR(Walk(key, prefix, out));
        }
      } else if (S_ISREG(st.st_mode) && key.starts_with(prefix)) {
        out.push_back(ObjectInfo{key, static_cast<int64_t>(st.st_size), MtimeOf(st)});
      }
    }
    return Status();
  }

  Status MakeParents(std::string_view key) {
    fs::path parent = PathOf(key).parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder", parent.string());
    return Status();
  }

  Status MakeTmpDir() {
    std::error_code ec;
    fs::create_directories(root_ / kTmpDir, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder", (root_ / kTmpDir).string());
    return Status();
  }

  Result<fs::path> WriteTemp(std::string_view data) {
    VG_RETURN_IF_ERROR(MakeTmpDir());
    fs::path tmp = root_ / kTmpDir / NewWorkFileName();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(errno, "create", tmp.string());
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return ErrnoStatus(err, "write", tmp.string());
      }
      done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, "write", tmp.string());
    }
    return tmp;
  }

  // Renames without ever replacing the target: rename(2) would overwrite, so
  // use renameat2(RENAME_NOREPLACE), or link+unlink where the file system
  // lacks it.
  Status RenameNoReplace(const fs::path& from, std::string_view to_key) {
    VG_RETURN_IF_ERROR(MakeParents(to_key));
    fs::path to = PathOf(to_key);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return Status();
    }
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      if (::link(from.c_str(), to.c_str()) != 0)
        return ErrnoStatus(errno, "move to", Describe(to_key));
      ::unlink(from.c_str());
      return Status();
    }
    if (err == EEXIST) return AlreadyExists(Describe(to_key) + " already exists");
    return ErrnoStatus(err, "move to", Describe(to_key));
  }

  // Object semantics: a folder exists only while it holds something, so a
  // move leaves no empty folders behind (the four top-level ones stay).
  void RemoveEmptyParents(std::string_view key) {
    std::string k(key);
    for (auto slash = k.rfind('/'); slash != std::string::npos; slash = k.rfind('/')) {
      k.resize(slash);
      if (k.find('/') == std::string::npos) break;  // keep the top-level folder
      if (::rmdir(PathOf(k).c_str()) != 0) break;   // not empty (or raced): stop
    }
  }

  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenFileStore(std::string_view url, std::string_view path) {
  if (path.empty()) return InvalidArgument("storage.url '" + std::string(url) + "' has no path");
  return std::unique_ptr<Store>(std::make_unique<FileStore>(fs::path(std::string(path))));
}

}  // namespace vidgate::storage
