#include "aws/testing/s3rver.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "common/util.h"

extern char** environ;

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
  const std::string script =
      std::string(VIDGATE_SOURCE_DIR) + "/tests/s3rver/node_modules/s3rver/bin/s3rver.js";
  if (!std::filesystem::exists(script)) {
    return FailedPrecondition(script + " is missing: run scripts/install-deps.sh test");
  }
  // --openssl-legacy-provider: s3rver makes its continuation tokens with DES,
  // which OpenSSL 3 keeps in its legacy provider (without it, page 2 fails).
  std::vector<std::string> args = {
      "node", "--openssl-legacy-provider", script,    "-d", directory_, "-a", "127.0.0.1",
      "-p",   std::to_string(port),        "--silent"};
  for (const auto& b : buckets_) {
    args.push_back("--configure-bucket");
    args.push_back(b);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoStatus(rc, "start", "node (s3rver)");

  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = ReadLocalFile(log_);
    std::smatch m;
    if (text.ok() && std::regex_search(*text, m, listening)) {
      port_ = std::stoi(m[1]);
      endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
      return Status();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("s3rver ended at start: " + (text.ok() ? *text : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto text = ReadLocalFile(log_);
  return Unavailable("s3rver did not start within 30 s: " + (text.ok() ? *text : ""));
}

Status S3rver::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
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
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

}  // namespace vidgate::aws::testing
