#include "aws/testing/s3rver.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/util.h"

namespace vidgate::aws::testing {

Result<std::unique_ptr<S3rver>> S3rver::Start(const std::vector<std::string>& buckets) {
  std::unique_ptr<S3rver> s(new S3rver());
  s->root_ = (std::filesystem::temp_directory_path() / ("vidgate-s3rver-" + NewUuid())).string();
  s->directory_ = s->root_ + "/data";
  s->log_ = s->root_ + "/s3rver.log";
  s->buckets_ = buckets;
  std::filesystem::create_directories(s->directory_);
  VG_RETURN_IF_ERROR(s->Launch(0));
  return s;
}

Status S3rver::Launch(int port) {
  VG_ASSIGN_OR_RETURN(const std::string script,
                      NodeModulePath("tests/s3rver/node_modules/s3rver/bin/s3rver.js"));
  // --openssl-legacy-provider: s3rver makes its continuation tokens with DES,
  // which OpenSSL 3 keeps in its legacy provider (without it, page 2 fails).
  std::vector<std::string> args = {
      "--openssl-legacy-provider", script,    "-d", directory_, "-a", "127.0.0.1", "-p",
      std::to_string(port),        "--silent"};
  for (const auto& b : buckets_) {
    args.push_back("--configure-bucket");
    args.push_back(b);
  }
  VG_RETURN_IF_ERROR(node_.Start(args, log_));
  port_ = node_.port();
  endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
  return Status();
}

Status S3rver::Stop() {
  node_.Kill();
  return Status();
}

Status S3rver::Restart() {
  VG_RETURN_IF_ERROR(Stop());
  // The port may linger a moment after the kill.
  Status s;
  for (int i = 0; i < 50; ++i) {
    s = Launch(port_);
    if (s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return s;
}

S3rver::~S3rver() {
  node_.Kill();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

}  // namespace vidgate::aws::testing
