// POST /api/videos: a video and its sidecar, uploaded over HTTP, streamed to
// a local temporary file (never held in memory), then put into uploads/ as
// `vidgate submit` does (pipeline::Submit), where intake takes it in.
//   multipart/form-data: a part "file" (the video, with its file name) and a
//     part "metadata" (the sidecar's JSON);
//   or the video as the raw body (video/*, application/octet-stream), its
//     name in X-Vidgate-Filename and the sidecar in X-Vidgate-Metadata
//     (percent-encode what is not ASCII).
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/util.h"
#include "pipeline/metadata.h"
#include "pipeline/naming.h"
#include "pipeline/submit.h"
#include "server/internal/http_util.h"

namespace vidgate::server::internal {
namespace {

// The upload's bytes on local disk; removed unless handed to the store.
class UploadFile {
 public:
  explicit UploadFile(const std::string& folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    path_ = folder + "/upload-" + NewUuid();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  ~UploadFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) std::remove(path_.c_str());
  }
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool Append(const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }  // the store took it

 private:
  std::string path_;
  int fd_ = -1;
};

struct Received {
  int status = 0;  // an error to answer, or 0
  std::string code, message;
  std::string file_name;
  bool has_file = false;
  std::optional<std::string> metadata;
  int64_t bytes = 0;
  void Fail(int s, std::string c, std::string m) {
    if (status != 0) return;
    status = s;
    code = std::move(c);
    message = std::move(m);
  }
};

// Waits a little for intake to take the upload in, for its id: the newest
// video of its name, first seen at its key since the upload began.
std::optional<int64_t> WaitForId(const ServerDeps& deps, const std::string& key, double since,
                                 double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const std::string name = pipeline::ParseKey(key).name;
  for (;;) {
    auto v = deps.catalog->FindVideoByName(name);
    if (v.ok() && v->source_key == key && v->created_at >= since) return v->id;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Upload(const ServerDeps& deps, const ServerOptions& options, const httplib::Request& req,
            httplib::Response& res, const httplib::ContentReader& reader) {
  const std::string folder = deps.store->LocalWorkRoot().empty()
                                 ? std::filesystem::temp_directory_path().string()
                                 : deps.store->LocalWorkRoot();
  const double started = deps.clock->Now();
  UploadFile file(folder);
  if (!file.ok())
    return Error(res, 503, "unavailable", "cannot make a temporary file in " + folder);
  Received got;
  const int64_t limit = options.max_upload_bytes;
  auto take_video = [&](const char* data, size_t size) {
    got.bytes += static_cast<int64_t>(size);
    if (got.bytes > limit) {
      got.Fail(413, "too_large",
               "the video is larger than server.max_upload_bytes (" + std::to_string(limit) + ")");
      return false;
    }
    if (!file.Append(data, size)) {
      got.Fail(503, "unavailable", "cannot write the upload to local disk (" + folder + ")");
      return false;
    }
    return true;
  };
  bool read_all = false;
  if (req.is_multipart_form_data()) {
    std::string part;
    read_all = reader(
        [&](const httplib::MultipartFormData& header) {
          part = header.name;
          if (part == "file") {
            if (got.has_file) {
              got.Fail(400, "bad_request", "more than one part named 'file'");
              return false;
            }
            got.has_file = true;
            got.file_name = header.filename;
          } else if (part == "metadata") {
            if (got.metadata) {
              got.Fail(400, "bad_request", "more than one part named 'metadata'");
              return false;
            }
            got.metadata = "";
          } else {
            got.Fail(400, "bad_request",
                     "unknown part '" + part + "': send 'file' (the video) and 'metadata'");
            return false;
          }
          return true;
        },
        [&](const char* data, size_t size) {
          if (part == "file") return take_video(data, size);
          got.metadata->append(data, size);
          if (static_cast<int64_t>(got.metadata->size()) > pipeline::kMaxSidecarBytes) {
            got.Fail(413, "too_large", "the metadata part is over 1 MiB");
            return false;
          }
          return true;
        });
  } else {
    const std::string type = req.get_header_value("Content-Type");
    std::string lower = type;  // media types are case-insensitive
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!lower.starts_with("video/") && !lower.starts_with("application/octet-stream")) {
      return Error(res, 415, "unsupported_media_type",
                   "send multipart/form-data (parts 'file' and 'metadata') or the video itself "
                   "(video/* or application/octet-stream) with X-Vidgate-Filename and "
                   "X-Vidgate-Metadata; not '" +
                       type + "'");
    }
    got.has_file = true;
    got.file_name = req.get_header_value("X-Vidgate-Filename");
    if (req.has_header("X-Vidgate-Metadata")) {
      got.metadata = req.get_header_value("X-Vidgate-Metadata");
    }
    read_all = reader([&](const char* data, size_t size) { return take_video(data, size); });
  }
  if (got.status != 0) return Error(res, got.status, got.code, got.message);
  // A client that went away mid-upload leaves a short file: never kept.
  if (!read_all) return Error(res, 400, "bad_request", "the upload was cut short");
  if (!got.has_file) return Error(res, 400, "bad_request", "no part named 'file' (the video)");
  if (got.file_name.empty()) {
    return Error(res, 400, "bad_request",
                 "the video has no file name (the 'file' part's filename, or "
                 "X-Vidgate-Filename)");
  }
  if (!got.metadata) {
    return Error(res, 422, "invalid_metadata",
                 "no metadata: send the sidecar's JSON (the 'metadata' part, or "
                 "X-Vidgate-Metadata)");
  }
  if (!file.Close()) return Error(res, 503, "unavailable", "cannot write the upload to local disk");
  if (!nlohmann::json::accept(*got.metadata)) {
    return Error(res, 400, "bad_request", "the metadata is not JSON");
  }
  if (auto valid = pipeline::ValidateSidecar(*got.metadata, options.required_metadata);
      !valid.ok()) {
    return Error(res, 422, "invalid_metadata", valid.status().message());
  }
  pipeline::Submission submission;
  submission.local_path = file.path();
  submission.file_name = got.file_name;
  submission.sidecar = got.metadata;
  submission.required = options.required_metadata;
  submission.consume_local = true;
  auto submitted = pipeline::Submit(*deps.store, submission);
  if (!submitted.ok()) return Error(res, submitted.status());
  file.Release();
  const std::string name = pipeline::ParseKey(submitted->video_key).name;
  const auto id = WaitForId(deps, submitted->video_key, started, options.upload_id_wait_seconds);
  Reply(res, id ? 201 : 202,
        {{"id", id ? nlohmann::json(*id) : nlohmann::json(nullptr)},
         {"name", name},
         {"key", submitted->video_key},
         {"sidecar_key", submitted->sidecar_key},
         {"bytes", got.bytes}});
}

}  // namespace

void AddUploadRoute(httplib::Server& http, const ServerDeps& deps, const ServerOptions& options) {
  http.Post("/api/videos", [deps, options](const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader) {
    Upload(deps, options, req, res, reader);
  });
}

}  // namespace vidgate::server::internal
