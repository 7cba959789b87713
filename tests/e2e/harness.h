// harness.h: the end-to-end harness. Every test gets a temporary folder with
// its own vidgate.toml (a file:// store in data/, SQLite beside it) and a
// webhook receiver on a free port of 127.0.0.1, and runs the real vidgate
// binary ($VIDGATE_BIN) with posix_spawn under a hard time limit: a process
// that overruns it is SIGKILLed and the test fails, so nothing ever hangs.
//
// Media fixtures are made with the ffmpeg command line from lavfi sources and
// cached next to the test binary (e2e_fixture_cache/, or $VIDGATE_E2E_CACHE),
// so each one is made once however many test processes ctest starts.
//
// Waits poll a condition against a deadline (WaitUntil); no test sleeps where
// an event can be awaited.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifdef VIDGATE_E2E_S3
#include "aws/testing/fault_proxy.h"
#endif

namespace vidgate::e2e {

using Seconds = std::chrono::duration<double>;

// Built with VIDGATE_E2E_S3, the store is s3://media/<a prefix per test> on a
// real s3rver (one per test process) instead of a folder. s3rver keeps the
// object KEY as the file KEY._S3rver_object under its folder, so Path(),
// FileExists, SameBytes, ReadFile, FilesUnder and EntriesOf keep working on
// what the store holds; PutFile and PutBytes go through the S3 API; there
// are no empty folders.
#ifdef VIDGATE_E2E_S3
inline constexpr bool kOnS3 = true;
#else
inline constexpr bool kOnS3 = false;
#endif

// What a finished process left behind.
struct RunResult {
  // The exit status; 128 + N when ended by signal N; -1 when it overran its
  // time limit (it was then SIGKILLed and the test marked failed).
  int exit_code = -1;
  std::string out;
  std::string err;
  long peak_rss_kb = 0;  // the process's peak resident set size
};

// One request the webhook receiver got.
struct HookRequest {
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  int status = 0;                              // what the receiver answered
  bool signature_ok = false;  // X-Vidgate-Signature: sha256=<HMAC-SHA256(secret, body)>
  nlohmann::json event;       // the body parsed, or null when it is not JSON
};

// An HTTP receiver for vidgate's webhook sink: records every request with its
// headers (thread-safe), checks the signature, and answers 200, or 503 while
// it is "down".
class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::string secret) : secret_(std::move(secret)) {}
  ~WebhookReceiver() { Stop(); }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Binds a free port of 127.0.0.1 and serves on a thread; false on failure.
  bool Start();
  void Stop();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  void SetDown(bool down);
  // Down from now for `duration`, then up again by itself.
  void SetDownFor(Seconds duration);

  std::vector<HookRequest> Requests() const;
  // Events that were accepted (answered 200), each id once (the first
  // delivery), in arrival order; only those of `type` unless it is empty.
  std::vector<nlohmann::json> Events(std::string_view type = {}) const;
  // Events(type) about the video named `subject`.
  std::vector<nlohmann::json> EventsFor(std::string_view type, std::string_view subject) const;

 private:
  void Handle(const httplib::Request& req, httplib::Response& res);

  std::string secret_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  mutable std::mutex mu_;
  std::vector<HookRequest> requests_;
  bool down_ = false;
  std::chrono::steady_clock::time_point down_until_{};
};

// Checks every request's Standard Webhooks signature (webhook-id,
// webhook-timestamp, webhook-signature) with the reference library
// (tests/webhook-verify, npm "standardwebhooks"), independently of vidgate's
// code, and that a tampered or replayed one is refused; a failure names the
// request.
// Each answer of `answers` ([{"method","path","status","answer"}], `path` the
// OpenAPI path template) fits the OpenAPI document `openapi` (ajv, through
// tests/openapi/check.mjs); a failure lists what does not fit.
::testing::AssertionResult FitsOpenApi(const nlohmann::json& openapi,
                                       const nlohmann::json& answers);

::testing::AssertionResult VerifiedByStandardWebhooks(const std::vector<HookRequest>& requests,
                                                      const std::string& secret);

// The settings each test's vidgate.toml is written from (WriteConfig).
struct Settings {
  double settle_seconds = 0.2;
  double metadata_wait_seconds = 1;
  int max_attempts = 5;
  double retry_base_delay_seconds = 0.2;
  double retry_max_delay_seconds = 1;
  double poll_seconds = 0.1;
  int workers = 0;  // 0: key not written (vidgate's default)
  // Long enough that a worker stalled by a loaded machine keeps its job
  // (a tighter lease lets the other worker take it: an extra attempt); the
  // tests that kill a worker set 1.
  double lease_seconds = 5;
  double notify_base_delay_seconds = 0.2;
  double notify_max_delay_seconds = 0.5;
  int notify_delivery_attempts = 0;  // 0: vidgate's default
  std::string extra_toml;            // appended as is (e.g. an [output] table)
  std::string server_token;          // [server] token, when set
  bool s3_through_proxy = true;      // false: vidgate talks to s3rver itself (big objects)
  std::string sqs_queue_url;         // [intake] sqs_queue_url and endpoint, when set
  std::string sqs_endpoint;
};

class VidgateTest : public ::testing::Test {
 protected:
  VidgateTest();
  void SetUp() override;
  void TearDown() override;

  // (Re)writes <root>/vidgate.toml from settings_.
  void WriteConfig();
  // The catalog's URL for this test; "" = SQLite beside the store.
  std::string database_url_;
  // More environment for every vidgate started here ("NAME=value").
  std::vector<std::string> extra_env_;

  // Runs vidgate with `args` in `cwd` (the test folder by default, where
  // ./vidgate.toml is found) and waits for it.
  RunResult Run(const std::vector<std::string>& args, Seconds timeout = Seconds(60),
                const std::string& cwd = "");
  // Starts vidgate in the background (in `cwd`, the test folder by
  // default); returns its pid.
  pid_t StartDaemon(const std::vector<std::string>& args, const std::string& cwd = "");
  // Waits for a process started here to exit; past `timeout` it is
  // SIGKILLed and the test fails. Its exit code (as RunResult), -1 on time-out.
  int WaitForExit(pid_t pid, Seconds timeout);
  // Sends `signal` and waits as WaitForExit.
  int Signal(pid_t pid, int signal, Seconds timeout);
  // What a process started here has written to stderr so far.
  std::string StderrOf(pid_t pid) const;
  // "HOST:PORT" where a `vidgate run` started here serves, as it says on
  // stderr; "" (and a test failure) when it has not said so in `timeout`.
  std::string ServedAddress(pid_t pid, Seconds timeout = Seconds(10));

  // Makes every write into the folder `key` fail with a real storage error
  // until UnblockFolder: on file://, a symbolic link to nowhere at `key` (the
  // store never writes through a link; as root, permissions cannot block);
  // on S3, the fault proxy between vidgate and s3rver answers AccessDenied.
  void BlockFolder(const std::string& key);
  void UnblockFolder(const std::string& key);
#ifdef VIDGATE_E2E_S3
  // The proxy between vidgate and s3rver, to make S3 stumble.
  aws::testing::FaultProxy& S3Proxy();
#endif

  // Polls `condition` every `every` until it holds or `timeout` passes (a
  // condition that runs a vidgate command wants a longer `every`: each poll
  // takes a core from what is waited for).
  ::testing::AssertionResult WaitUntil(const std::function<bool()>& condition, Seconds timeout,
                                       std::string_view what, Seconds every = Seconds(0.025));

  // `vidgate show NAME --json` / `vidgate list --json`, parsed; null when the
  // command failed or printed something that is not one JSON document.
  nlohmann::json Show(const std::string& id_or_name);
  nlohmann::json List();
  // The state `show` reports, "" when it fails.
  std::string StateOf(const std::string& id_or_name);

  // Copies `source` to the store key `key` (e.g. "uploads/clip.mp4") under a
  // hidden temporary name first, so intake never sees it half-written.
  void PutFile(const std::string& key, const std::string& source);
  // Writes `bytes` to the store key `key`, the same way.
  void PutBytes(const std::string& key, std::string_view bytes);
  void PutSidecar(const std::string& key, const nlohmann::json& metadata);
  // Puts `source` at uploads/KEY with its sidecar uploads/STEM.json first.
  void Upload(const std::string& key, const std::string& source, const std::string& title);
  // Runs `vidgate run --until-idle` and expects exit 0; returns what it said.
  RunResult RunUntilIdle(Seconds timeout = Seconds(60));
  std::string Path(const std::string& key) const { return data_ + "/" + key; }

  const std::string& root() const { return root_; }
  const std::string& s3_prefix() const { return s3_prefix_; }  // "" off S3
  const std::string& data() const { return data_; }

  Settings settings_;
  std::string secret_;
  WebhookReceiver hook_;

 private:
  struct Process {
    pid_t pid = 0;
    std::string label;
    std::string out_path;
    std::string err_path;
    bool running = true;
    long peak_rss_kb = 0;
  };
  pid_t Launch(const std::vector<std::string>& args, const std::string& cwd);
  Process* Find(pid_t pid);

  std::string bin_;
  std::string root_;
  std::string data_;
  std::string s3_prefix_;  // VIDGATE_E2E_S3: the test's prefix in the bucket
  std::vector<Process> processes_;
  int launches_ = 0;
};

// A sidecar with `title` and a few other keys.
nlohmann::json Metadata(const std::string& title);

// Media fixtures (paths into the cache; "" and a test failure when ffmpeg
// fails). Clip(): 1.5 s of testsrc2 320x240 25 fps H.264 + a 440 Hz sine in
// AAC; the container from `ext` ("mp4", "mkv"); in mp4 the index (moov) is at
// the end. LongClip(): 40 s of 1280x720 30 fps H.264 (superfast) + AAC, which
// takes vidgate about 2.5 s to decode on two cores.
std::string Clip(const std::string& ext = "mp4");
std::string LongClip();

// Files.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, std::string_view bytes);
bool FileExists(const std::string& path);
bool SameBytes(const std::string& a, const std::string& b);
// Relative paths of the regular files under `dir`, sorted; empty if absent.
std::vector<std::string> FilesUnder(const std::string& dir);
// Names of the entries (files and folders) directly in `dir`, sorted.
std::vector<std::string> EntriesOf(const std::string& dir);

// "2026-11-24T22:06:25.123Z" -> seconds since the epoch; -1 if malformed.
double ParseTime(const std::string& rfc3339);
double WallNow();
// The last `lines` lines of `text`, for failure messages.
std::string Tail(const std::string& text, int lines = 40);

}  // namespace vidgate::e2e
