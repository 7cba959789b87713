#include "pipeline/submit.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/text.h"
#include "common/util.h"
#include "pipeline/caption_files.h"
#include "pipeline/metadata.h"
#include "pipeline/naming.h"

namespace vidgate::pipeline {
namespace {

// The sidecar's text in a private temporary file, removed with the object,
// so it can go in with Upload (which never overwrites).
class TempText {
 public:
  static Result<TempText> Write(const std::string& text) {
    TempText t;
    t.path_ = (std::filesystem::temp_directory_path() / ("vidgate-sidecar-" + NewUuid())).string();
    const int fd = ::open(t.path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Unavailable("cannot create a temporary file for the sidecar");
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0) {
        ::close(fd);
        return Unavailable("cannot write a temporary file for the sidecar");
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return t;
  }
  TempText(TempText&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempText(const TempText&) = delete;
  TempText& operator=(const TempText&) = delete;
  TempText& operator=(TempText&&) = delete;
  ~TempText() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  TempText() = default;
  std::string path_;
};

}  // namespace

Result<Submitted> Submit(storage::Store& store, const Submission& s) {
  const std::string& file = s.file_name;
  if (file.empty() || file.find('/') != std::string::npos || file.find('\0') != std::string::npos) {
    return InvalidArgument("'" + file + "' is not a file name (no '/', no NUL, not empty)");
  }
  Submitted out;
  out.video_key = std::string(kUploads) + file;
  const ParsedKey parsed = ParseKey(out.video_key);
  if (parsed.kind == KeyKind::kRefused) {
    return InvalidArgument("'" + file +
                           "' without an extension would clash with vidgate's own folder of that "
                           "name; rename it");
  }
  if (parsed.kind != KeyKind::kVideo) {
    return InvalidArgument("'" + file +
                           "' would be ignored in uploads/ (a hidden, .json, .part, .tmp or "
                           ".crdownload name)");
  }
  if (LongestFiledKey(out.video_key) > store.MaxKeyBytes()) {
    return InvalidArgument(fmt::format(
        "'{}' is too long a name for this store: filed with vidgate's outputs, its keys could "
        "reach {} bytes, over the store's limit of {}; rename it shorter",
        file, LongestFiledKey(out.video_key), store.MaxKeyBytes()));
  }
  if (store.Stat(out.video_key).ok()) {
    return AlreadyExists(out.video_key + " already exists; nothing was overwritten");
  }
  // The captions are checked before anything is written.
  std::vector<std::pair<std::string, std::string>> captions;  // local path, key
  if (s.captions.size() > kMaxCaptionFiles) {
    return InvalidArgument(fmt::format("{} caption files: a video takes at most {}",
                                       s.captions.size(), kMaxCaptionFiles));
  }
  for (const auto& path : s.captions) {
    const std::string name = BytesToKey(std::filesystem::path(path).filename().string());
    if (!CaptionLabel(name, file)) {
      return InvalidArgument("'" + name + "' is not named as a caption of '" + file + "' (" +
                             Stem(file) + ".LANG.srt or " + Stem(file) +
                             ".LANG.vtt, LANG of letters, digits, '-', '_' and '.')");
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return InvalidArgument("caption '" + path + "' is not a file");
    }
    if (std::filesystem::file_size(path, ec) > static_cast<uintmax_t>(kMaxCaptionBytes)) {
      return InvalidArgument(
          fmt::format("caption '{}' is over {} MiB", path, kMaxCaptionBytes >> 20));
    }
    const std::string key = std::string(kUploads) + name;
    if (store.Stat(key).ok()) {
      return AlreadyExists(key + " already exists; nothing was overwritten");
    }
    captions.emplace_back(path, key);
  }
  if (s.sidecar) {
    VG_RETURN_IF_ERROR(ValidateSidecar(*s.sidecar, s.required).status());
    // The sidecar goes first, so the video never waits for it; like the
    // video, it never replaces a file that is there (another upload's).
    for (const auto& candidate : SidecarCandidates(out.video_key)) {
      if (!store.Stat(candidate).ok()) continue;
      return AlreadyExists(candidate +
                           " already exists (the sidecar of another upload?); nothing was "
                           "overwritten");
    }
    out.sidecar_key = SidecarCandidates(out.video_key)[0];
    VG_ASSIGN_OR_RETURN(TempText text, TempText::Write(*s.sidecar));
    Status put = store.Upload(text.path(), out.sidecar_key);
    if (put.code() == Code::kAlreadyExists) {
      return AlreadyExists(out.sidecar_key + " already exists; nothing was overwritten");
    }
    VG_RETURN_IF_ERROR(put);
  }
  for (const auto& [path, key] : captions) {
    Status put = store.Upload(path, key);
    if (put.code() == Code::kAlreadyExists) {
      return AlreadyExists(key + " already exists; nothing was overwritten");
    }
    VG_RETURN_IF_ERROR(put);
    out.caption_keys.push_back(key);
  }
  VG_RETURN_IF_ERROR(s.consume_local ? store.Import(s.local_path, out.video_key)
                                     : store.Upload(s.local_path, out.video_key));
  return out;
}

}  // namespace vidgate::pipeline
