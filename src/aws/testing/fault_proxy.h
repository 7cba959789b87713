// fault_proxy.h: a loopback HTTP proxy in front of a test peer (s3rver) that
// forwards every request as it is, except those a rule says to fail: the
// S3 a demanding test needs, one that refuses, stumbles and goes away.
#pragma once

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vidgate::aws::testing {

class FaultProxy {
 public:
  // Forwards to `target` ("http://127.0.0.1:PORT").
  explicit FaultProxy(std::string target);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Listens on a free loopback port; false on failure.
  bool Start();
  // "http://127.0.0.1:PORT".
  std::string endpoint() const;

  // Writes (PUT, POST, DELETE, and copies) to a path starting with
  // `path_prefix` (e.g. "/media/t-1/processed/clip/") are answered with
  // `status` and S3's error `code`, until Clear.
  void FailWrites(const std::string& path_prefix, int status, const std::string& code);
  // The next `count` requests, whatever they are, get `status` and `code`.
  void FailNext(int count, int status, const std::string& code);
  void Clear();
  // How many requests were failed on purpose so far.
  int failed() const { return failed_; }
  // The requests' session tokens (X-Amz-Security-Token), in the order first
  // seen.
  std::vector<std::string> SessionTokensSeen();

 private:
  void Handle(const httplib::Request& req, httplib::Response& res);

  struct Rule {
    std::string path_prefix;
    int status;
    std::string code;
  };
  std::string target_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  std::vector<Rule> write_rules_;
  int fail_next_ = 0;
  int fail_next_status_ = 503;
  std::string fail_next_code_;
  std::atomic<int> failed_{0};
  std::vector<std::string> session_tokens_;
};

}  // namespace vidgate::aws::testing
