#include "aws/testing/node_server.h"

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

Result<std::string> NodeModulePath(const std::string& relative) {
  const std::string path = std::string(VIDGATE_SOURCE_DIR) + "/" + relative;
  if (!std::filesystem::exists(path)) {
    return FailedPrecondition(path + " is missing: run scripts/install-deps.sh test");
  }
  return path;
}

NodeServer::~NodeServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void NodeServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status NodeServer::Start(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> all = {"node"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return ErrnoStatus(rc, "start", "node " + (args.empty() ? "" : args.front()));
  }
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = ReadLocalFile(log_path);
    std::smatch m;
    if (text.ok() && std::regex_search(*text, m, listening)) {
      port_ = std::stoi(m[1]);
      return Status();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("node " + args.front() + " ended at start: " + (text.ok() ? *text : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto text = ReadLocalFile(log_path);
  Kill();
  return Unavailable("node " + args.front() +
                     " did not start within 30 s: " + (text.ok() ? *text : ""));
}

}  // namespace vidgate::aws::testing
