// s3rver.h: a real S3-compatible server for tests: s3rver (npm, pinned in
// tests/s3rver) on a free loopback port, with its own temporary folder.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "aws/testing/node_server.h"
#include "common/status.h"

namespace vidgate::aws::testing {

class S3rver {
 public:
  // Starts s3rver with `buckets` created; kUnavailable if it does not come
  // up within 30 s (the message holds its output).
  static Result<std::unique_ptr<S3rver>> Start(const std::vector<std::string>& buckets);
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  // "http://127.0.0.1:PORT".
  const std::string& endpoint() const { return endpoint_; }
  // Where it keeps the objects ("<dir>/<bucket>/...").
  const std::string& directory() const { return directory_; }
  // Stops it (SIGKILL, as a crash would) and starts it again on the same
  // port and folder; for fault tests.
  Status Stop();
  Status Restart();

 private:
  S3rver() = default;
  Status Launch(int port);

  std::string root_, directory_, endpoint_, log_;
  std::vector<std::string> buckets_;
  NodeServer node_;
  int port_ = 0;
};

}  // namespace vidgate::aws::testing
