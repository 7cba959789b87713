// node_server.h: a test peer written for Node.js (s3rver, fauxqs), started
// on loopback with its output in a log file, found ready when the log says
// "listening on 127.0.0.1:PORT", and killed when it goes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace vidgate::aws::testing {

class NodeServer {
 public:
  NodeServer() = default;
  ~NodeServer();  // SIGTERM, then waits
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  // Runs `node ARGS...` with stdout and stderr into `log_path`; kUnavailable
  // if it ends, or says nothing of listening within 30 s (the message holds
  // its output).
  Status Start(const std::vector<std::string>& args, const std::string& log_path);
  // SIGKILL, as a crash would.
  void Kill();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// tests/NAME/node_modules/... in the source tree, or kFailedPrecondition
// saying to run scripts/install-deps.sh test.
Result<std::string> NodeModulePath(const std::string& relative);

}  // namespace vidgate::aws::testing
