#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "common/util.h"
#ifdef VIDGATE_E2E_S3
#include "aws/s3_client.h"
#include "aws/testing/fault_proxy.h"
#include "aws/testing/s3rver.h"
#endif

extern char** environ;

namespace vidgate::e2e {
namespace {

namespace fs = std::filesystem;

#ifdef VIDGATE_E2E_S3
constexpr std::string_view kS3rverObject = "._S3rver_object";

// One s3rver (and libcurl, for the harness's own S3 calls) per test process.
class S3Peer {
 public:
  static S3Peer& Get() {
    static S3Peer peer;
    return peer;
  }
  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }
  aws::testing::S3rver& server() { return *server_; }
  // What vidgate talks to: s3rver behind a proxy that can refuse on purpose.
  aws::testing::FaultProxy& proxy() { return *proxy_; }
  aws::S3Client Client() {
    aws::S3Options o;
    o.bucket = "media";
    o.endpoint = server_->endpoint();
    o.path_style = true;
    return aws::S3Client(o, credentials_.get(), &http_, &clock_);
  }

 private:
  S3Peer() {
    auto s = aws::testing::S3rver::Start({"media"});
    if (!s.ok()) {
      error_ = s.status().message();
      return;
    }
    proxy_ = std::make_unique<aws::testing::FaultProxy>((*s)->endpoint());
    if (!proxy_->Start()) {
      error_ = "cannot start the fault proxy";
      return;
    }
    server_ = std::move(s).value();
  }
  net::CurlGlobal curl_;
  net::Client http_;
  SystemClock clock_;
  std::unique_ptr<aws::CredentialsProvider> credentials_ =
      aws::StaticCredentials({"S3RVER", "S3RVER", "", 0});
  std::unique_ptr<aws::testing::S3rver> server_;
  std::unique_ptr<aws::testing::FaultProxy> proxy_;
  std::string error_;
};

// The file s3rver keeps an object's bytes in, if `path` names one.
std::string OnDisk(const std::string& path) {
  std::string object = path + std::string(kS3rverObject);
  struct stat st {};
  return ::stat(object.c_str(), &st) == 0 ? object : path;
}
#else
std::string OnDisk(const std::string& path) { return path; }
#endif

// Variables that would point vidgate somewhere other than the test folder.
constexpr const char* kScrubbedEnv[] = {"VIDGATE_CONFIG", "VIDGATE_STORAGE_URL",
                                        "VIDGATE_DATABASE_URL", "VIDGATE_LISTEN"};

std::string TomlString(const std::string& s) { return nlohmann::json(s).dump(); }

std::string Number(double v) {
  std::ostringstream out;
  out << v;
  std::string s = out.str();
  return s;
}

// The environment of a child: ours, without kScrubbedEnv, plus `extra`
// ("NAME=value", replacing a variable of that name).
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::set<std::string> replaced;
  for (const auto& e : extra) replaced.insert(e.substr(0, e.find('=')));
  for (const char* name : kScrubbedEnv) replaced.insert(name);
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (!replaced.contains(entry.substr(0, entry.find('=')))) out.push_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// posix_spawnp (the program is searched in $PATH) with stdin from /dev/null, stdout and stderr into
// files, in `cwd`, with default signal dispositions and an empty signal mask. -1 on failure.
pid_t SpawnProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const std::string& cwd, const std::string& out_path,
                   const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// Waits for `pid` until `deadline`; its exit code (128 + N for signal N), or
// nullopt when it is still running at the deadline.
// `peak_rss_kb`, if given, gets the process's peak resident set size.
std::optional<int> WaitPid(pid_t pid, std::chrono::steady_clock::time_point deadline,
                           long* peak_rss_kb = nullptr) {
  while (true) {
    int status = 0;
    struct rusage usage {};
    pid_t r = ::wait4(pid, &status, WNOHANG, &usage);
    if (r == pid) {
      if (peak_rss_kb != nullptr) *peak_rss_kb = usage.ru_maxrss;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (r < 0 && errno != EINTR) return -1;  // not our child (any more)
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string CacheDir() {
  if (const char* env = std::getenv("VIDGATE_E2E_CACHE"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return (fs::temp_directory_path() / "vidgate-e2e-fixture-cache").string();
  return (exe.parent_path() / "e2e_fixture_cache").string();
}

// Makes `file_name` with `ffmpeg ARGS... OUT` once; later calls (from any
// process) find it in the cache. The name carries a hash of the arguments.
std::string CachedMedia(const std::string& file_name, const std::vector<std::string>& args) {
  std::string joined;
  for (const auto& a : args) joined += a + "\n";
  const std::string dir = CacheDir();
  const std::string path = dir + "/" + Sha256Hex(joined).substr(0, 12) + "-" + file_name;
  if (FileExists(path)) return path;
  std::error_code ec;
  fs::create_directories(dir, ec);
  // A hidden temporary name with the real extension last, for ffmpeg's
  // muxer choice; renamed into place, so concurrent makers never clash.
  const std::string tmp = dir + "/.part-" + NewUuid() + "-" + file_name;
  std::vector<std::string> argv = {"ffmpeg",    "-nostdin", "-hide_banner",
                                   "-loglevel", "error",    "-y"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(tmp);
  const std::string log = tmp + ".log";
  pid_t pid = SpawnProcess(argv, ChildEnvironment({}), "", "/dev/null", log);
  if (pid < 0) {
    ADD_FAILURE() << "cannot start ffmpeg to make " << file_name;
    return "";
  }
  auto code = WaitPid(pid, std::chrono::steady_clock::now() + std::chrono::seconds(180));
  if (!code) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
  if (!code || *code != 0 || !FileExists(tmp)) {
    ADD_FAILURE() << "ffmpeg failed to make " << file_name << ": " << Tail(ReadFile(log));
    fs::remove(tmp, ec);
    fs::remove(log, ec);
    return "";
  }
  fs::remove(log, ec);
  fs::rename(tmp, path, ec);
  if (ec) {
    ADD_FAILURE() << "cannot move " << tmp << " to " << path << ": " << ec.message();
    return "";
  }
  return path;
}

}  // namespace

// ---------------------------------------------------------------------------
// WebhookReceiver

bool WebhookReceiver::Start() {
  server_.set_keep_alive_timeout(1);
  server_.Post("/hook",
               [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return false;
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void WebhookReceiver::Stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

void WebhookReceiver::SetDown(bool down) {
  std::lock_guard lock(mu_);
  down_ = down;
  down_until_ = {};
}

void WebhookReceiver::SetDownFor(Seconds duration) {
  std::lock_guard lock(mu_);
  down_ = false;
  down_until_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
}

void WebhookReceiver::Handle(const httplib::Request& req, httplib::Response& res) {
  HookRequest r;
  r.body = req.body;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers[lower] = value;
  }
  auto sig = r.headers.find("x-vidgate-signature");
  r.signature_ok =
      sig != r.headers.end() && sig->second == "sha256=" + HmacSha256Hex(secret_, req.body);
  r.event = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (r.event.is_discarded()) r.event = nullptr;
  std::lock_guard lock(mu_);
  const bool down = down_ || std::chrono::steady_clock::now() < down_until_;
  r.status = down ? 503 : 200;
  res.status = r.status;
  res.set_content(down ? "down for a while" : "ok", "text/plain");
  requests_.push_back(std::move(r));
}

std::vector<HookRequest> WebhookReceiver::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<nlohmann::json> WebhookReceiver::Events(std::string_view type) const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  std::set<std::string> seen;
  for (const auto& r : requests_) {
    if (r.status != 200 || !r.event.is_object()) continue;
    std::string id = r.event.value("id", "");
    if (!seen.insert(id).second) continue;
    if (!type.empty() && r.event.value("type", "") != type) continue;
    out.push_back(r.event);
  }
  return out;
}

std::vector<nlohmann::json> WebhookReceiver::EventsFor(std::string_view type,
                                                       std::string_view subject) const {
  std::vector<nlohmann::json> out;
  for (auto& e : Events(type)) {
    if (e.value("subject", "") == subject) out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------------------
// VidgateTest

std::string FreshPostgresDatabase();

VidgateTest::VidgateTest() : secret_("e2e-" + NewUuid()), hook_(secret_) {}

void VidgateTest::SetUp() {
  const char* bin = std::getenv("VIDGATE_BIN");
  ASSERT_TRUE(bin != nullptr && *bin != '\0') << "VIDGATE_BIN must name the vidgate binary";
  bin_ = bin;
  ASSERT_TRUE(FileExists(bin_)) << bin_ << " does not exist";
  std::string tmpl = (fs::temp_directory_path() / "vidgate-e2e-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp: " << std::strerror(errno);
  root_ = tmpl;
  data_ = root_ + "/data";
#ifdef VIDGATE_E2E_S3
  ASSERT_TRUE(S3Peer::Get().ok()) << S3Peer::Get().error();
  s3_prefix_ = "t-" + NewUuid().substr(0, 12);
  data_ = S3Peer::Get().server().directory() + "/media/" + s3_prefix_;
  database_url_ = "sqlite://" + root_ + "/vidgate.db";  // an s3:// store names its catalog
#endif
  fs::create_directories(root_ + "/logs");
  ASSERT_TRUE(hook_.Start()) << "cannot start the webhook receiver";
#ifdef VIDGATE_E2E_POSTGRES
  database_url_ = FreshPostgresDatabase();
  ASSERT_FALSE(database_url_.empty()) << "no test PostgreSQL (see scripts/pg-test-server.sh)";
#endif
  WriteConfig();
}

void VidgateTest::TearDown() {
  for (auto& p : processes_) {
    if (!p.running) continue;
    ::kill(p.pid, SIGKILL);
    WaitPid(p.pid, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    p.running = false;
  }
  hook_.Stop();
  if (HasFailure()) {
    for (const auto& p : processes_) {
      // The runs tell the story; show/list calls would drown it.
      if (!p.label.starts_with("run") && p.label.find(" run") == std::string::npos) continue;
      std::string err = ReadFile(p.err_path);
      if (err.empty()) continue;
      std::cerr << "---- stderr of `vidgate " << p.label << "` (pid " << p.pid << ")\n"
                << Tail(err, 60) << "\n";
    }
  }
  const char* keep = std::getenv("VIDGATE_E2E_KEEP");
  if (keep != nullptr && *keep != '\0') {
    std::cerr << "test folder kept: " << root_ << "\n";
  } else if (!root_.empty()) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

// A new empty database on the test PostgreSQL; "" if the server is not there.
std::string FreshPostgresDatabase() {
  std::ifstream in(VIDGATE_PG_STATE);
  std::string base;
  std::getline(in, base);
  if (base.empty()) return "";
  std::string name = "e2e_" + vidgate::NewUuid().substr(0, 8);
  PGconn* conn = PQconnectdb(base.c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  if (ok) {
    PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
  }
  PQfinish(conn);
  return ok ? base.substr(0, base.rfind('/') + 1) + name : "";
}

void VidgateTest::WriteConfig() {
  const Settings& s = settings_;
  std::ostringstream t;
  t << "[storage]\n";
#ifdef VIDGATE_E2E_S3
  t << "url = " << TomlString("s3://media/" + s3_prefix_) << "\n"
    << "endpoint = "
    << TomlString(s.s3_through_proxy ? S3Peer::Get().proxy().endpoint()
                                     : S3Peer::Get().server().endpoint())
    << "\n";
#else
  t << "url = " << TomlString("file://" + data_) << "\n";
#endif
  t << "settle_seconds = " << Number(s.settle_seconds) << "\n\n";
  if (!database_url_.empty()) t << "[database]\nurl = " << TomlString(database_url_) << "\n\n";
  t << "[metadata]\n"
    << "wait_seconds = " << Number(s.metadata_wait_seconds) << "\n\n"
    << "[retry]\n"
    << "max_attempts = " << s.max_attempts << "\n"
    << "base_delay_seconds = " << Number(s.retry_base_delay_seconds) << "\n"
    << "max_delay_seconds = " << Number(s.retry_max_delay_seconds) << "\n\n"
    << "[intake]\n"
    << "poll_seconds = " << Number(s.poll_seconds) << "\n";
  if (!s.sqs_queue_url.empty()) {
    t << "sqs_queue_url = " << TomlString(s.sqs_queue_url) << "\n"
      << "endpoint = " << TomlString(s.sqs_endpoint) << "\n";
  }
  t << "\n"
    << "[workers]\n"
    << "lease_seconds = " << Number(s.lease_seconds) << "\n";
  if (s.workers > 0) t << "count = " << s.workers << "\n";
  // Any free port: tests run side by side, and several processes in one.
  t << "\n[server]\nlisten = \"127.0.0.1:0\"\n";
  if (!s.server_token.empty()) t << "token = " << TomlString(s.server_token) << "\n";
  t << "\n[notify]\n"
    << "base_delay_seconds = " << Number(s.notify_base_delay_seconds) << "\n"
    << "max_delay_seconds = " << Number(s.notify_max_delay_seconds) << "\n";
  if (s.notify_delivery_attempts > 0) {
    t << "delivery_attempts = " << s.notify_delivery_attempts << "\n";
  }
  t << "\n[[notify.webhook]]\n"
    << "url = " << TomlString(hook_.url()) << "\n"
    << "secret = \"env:VIDGATE_TEST_SECRET\"\n\n"
    << s.extra_toml;
  WriteFile(root_ + "/vidgate.toml", t.str());
}

pid_t VidgateTest::Launch(const std::vector<std::string>& args, const std::string& cwd) {
  const int n = ++launches_;
  std::string label;
  for (const auto& a : args) label += (label.empty() ? "" : " ") + a;
  std::string word = args.empty() ? "none" : args[0];
  std::replace_if(
      word.begin(), word.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  const std::string base = root_ + "/logs/" + std::to_string(n) + "-" + word;
  std::vector<std::string> argv = {bin_};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = {"VIDGATE_TEST_SECRET=" + secret_, "AWS_ACCESS_KEY_ID=S3RVER",
                                  "AWS_SECRET_ACCESS_KEY=S3RVER"};
  for (const auto& e : extra_env_) {  // a test's own value wins
    const std::string name = e.substr(0, e.find('=') + 1);
    std::erase_if(env, [&](const std::string& have) { return have.starts_with(name); });
    env.push_back(e);
  }
  pid_t pid = SpawnProcess(argv, ChildEnvironment(env), cwd.empty() ? root_ : cwd, base + ".out",
                           base + ".err");
  if (pid > 0) processes_.push_back({pid, label, base + ".out", base + ".err", true, 0});
  return pid;
}

VidgateTest::Process* VidgateTest::Find(pid_t pid) {
  for (auto& p : processes_) {
    if (p.pid == pid) return &p;
  }
  return nullptr;
}

RunResult VidgateTest::Run(const std::vector<std::string>& args, Seconds timeout,
                           const std::string& cwd) {
  RunResult result;
  pid_t pid = Launch(args, cwd);
  if (pid < 0) {
    ADD_FAILURE() << "cannot start " << bin_;
    return result;
  }
  result.exit_code = WaitForExit(pid, timeout);
  const Process* p = Find(pid);
  result.out = ReadFile(p->out_path);
  result.err = ReadFile(p->err_path);
  result.peak_rss_kb = p->peak_rss_kb;
  return result;
}

pid_t VidgateTest::StartDaemon(const std::vector<std::string>& args, const std::string& cwd) {
  pid_t pid = Launch(args, cwd);
  if (pid < 0) ADD_FAILURE() << "cannot start " << bin_;
  return pid;
}

int VidgateTest::WaitForExit(pid_t pid, Seconds timeout) {
  Process* p = Find(pid);
  if (p == nullptr || !p->running) {
    ADD_FAILURE() << "process " << pid << " is not running here";
    return -1;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  auto code = WaitPid(pid, deadline, &p->peak_rss_kb);
  if (!code) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    p->running = false;
    ADD_FAILURE() << "`vidgate " << p->label << "` still ran after " << timeout.count()
                  << " s and was killed; its stderr ends with:\n"
                  << Tail(ReadFile(p->err_path), 30);
    return -1;
  }
  p->running = false;
  return *code;
}

int VidgateTest::Signal(pid_t pid, int signal, Seconds timeout) {
  if (::kill(pid, signal) != 0) ADD_FAILURE() << "kill(" << pid << "): " << std::strerror(errno);
  return WaitForExit(pid, timeout);
}

std::string VidgateTest::ServedAddress(pid_t pid, Seconds timeout) {
  std::string address;
  const ::testing::AssertionResult said = WaitUntil(
      [&] {
        const std::string err = StderrOf(pid);
        const size_t at = err.find("serving http://");
        if (at == std::string::npos) return false;
        const size_t from = at + 15;
        address = err.substr(from, err.find('/', from) - from);
        return true;
      },
      timeout, "vidgate run to say where it serves");
  if (!said) ADD_FAILURE() << said.message() << "\n" << Tail(StderrOf(pid));
  return said ? address : "";
}

std::string VidgateTest::StderrOf(pid_t pid) const {
  for (const auto& p : processes_) {
    if (p.pid == pid) return ReadFile(p.err_path);
  }
  return "";
}

::testing::AssertionResult VidgateTest::WaitUntil(const std::function<bool()>& condition,
                                                  Seconds timeout, std::string_view what,
                                                  Seconds every) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  while (true) {
    if (condition()) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(every);
  }
  return ::testing::AssertionFailure()
         << "timed out after " << timeout.count() << " s waiting for " << what;
}

nlohmann::json VidgateTest::Show(const std::string& id_or_name) {
  RunResult r = Run({"show", id_or_name, "--json"}, Seconds(20));
  if (r.exit_code != 0) return nullptr;
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json(nullptr) : doc;
}

void VidgateTest::BlockFolder(const std::string& key) {
#ifdef VIDGATE_E2E_S3
  S3Peer::Get().proxy().FailWrites("/media/" + s3_prefix_ + "/" + key + "/", 403, "AccessDenied");
  return;
#endif
  std::filesystem::create_directories(std::filesystem::path(Path(key)).parent_path());
  std::filesystem::create_symlink("/nonexistent/vidgate-blocker", Path(key));
}

#ifdef VIDGATE_E2E_S3
aws::testing::FaultProxy& VidgateTest::S3Proxy() { return S3Peer::Get().proxy(); }
#endif

void VidgateTest::UnblockFolder(const std::string& key) {
#ifdef VIDGATE_E2E_S3
  S3Peer::Get().proxy().Clear();
  return;
#endif
  fs::remove(Path(key));
}

nlohmann::json VidgateTest::List() {
  RunResult r = Run({"list", "--json"}, Seconds(20));
  if (r.exit_code != 0) return nullptr;
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json(nullptr) : doc;
}

std::string VidgateTest::StateOf(const std::string& id_or_name) {
  nlohmann::json v = Show(id_or_name);
  return v.is_object() && v.contains("state") && v["state"].is_string()
             ? v["state"].get<std::string>()
             : "";
}

void VidgateTest::PutFile(const std::string& key, const std::string& source) {
#ifdef VIDGATE_E2E_S3
  Status s = S3Peer::Get().Client().Upload(source, s3_prefix_ + "/" + key, false);
  ASSERT_TRUE(s.ok()) << s.message();
  return;
#endif
  const fs::path target = Path(key);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  const fs::path tmp = target.parent_path() / (".e2e-" + NewUuid() + ".part");
  fs::copy_file(source, tmp, ec);
  ASSERT_FALSE(ec) << "copy " << source << " -> " << tmp << ": " << ec.message();
  fs::rename(tmp, target, ec);
  ASSERT_FALSE(ec) << "rename " << tmp << " -> " << target << ": " << ec.message();
}

void VidgateTest::PutBytes(const std::string& key, std::string_view bytes) {
#ifdef VIDGATE_E2E_S3
  Status s = S3Peer::Get().Client().Put(s3_prefix_ + "/" + key, bytes, false);
  ASSERT_TRUE(s.ok()) << s.message();
  return;
#endif
  const fs::path target = Path(key);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  const fs::path tmp = target.parent_path() / (".e2e-" + NewUuid() + ".part");
  WriteFile(tmp.string(), bytes);
  fs::rename(tmp, target, ec);
  ASSERT_FALSE(ec) << "rename " << tmp << " -> " << target << ": " << ec.message();
}

void VidgateTest::PutSidecar(const std::string& key, const nlohmann::json& metadata) {
  PutBytes(key, metadata.dump(2));
}

::testing::AssertionResult FitsOpenApi(const nlohmann::json& openapi,
                                       const nlohmann::json& answers) {
  char dir_template[] = "/tmp/vidgate-openapi-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return ::testing::AssertionFailure() << "mkdtemp failed";
  const std::string document = std::string(dir) + "/openapi.json";
  const std::string list = std::string(dir) + "/answers.json";
  const std::string out = std::string(dir) + "/out.txt";
  WriteFile(document, openapi.dump());
  WriteFile(list, answers.dump());
  const std::string command = "node '" + std::string(VIDGATE_TREE) + "/tests/openapi/check.mjs' '" +
                              document + "' --batch '" + list + "' > '" + out + "' 2>&1";
  const int rc = std::system(command.c_str());
  const std::string said = ReadFile(out);
  std::filesystem::remove_all(dir);
  if (rc != 0) return ::testing::AssertionFailure() << "OpenAPI check: " << said;
  if (said.find(std::to_string(answers.size()) + " answers checked, 0 do not fit") ==
      std::string::npos) {
    return ::testing::AssertionFailure() << "OpenAPI check said: " << said;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult VerifiedByStandardWebhooks(const std::vector<HookRequest>& requests,
                                                      const std::string& secret) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : requests) list.push_back({{"headers", r.headers}, {"body", r.body}});
  char dir_template[] = "/tmp/vidgate-swh-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return ::testing::AssertionFailure() << "mkdtemp failed";
  const std::string file = std::string(dir) + "/requests.json";
  const std::string out = std::string(dir) + "/out.txt";
  WriteFile(file, list.dump());
  const std::string command = "node '" + std::string(VIDGATE_TREE) +
                              "/tests/webhook-verify/verify.mjs' '" + secret + "' '" + file +
                              "' > '" + out + "' 2>&1";
  const int rc = std::system(command.c_str());
  const std::string said = ReadFile(out);
  std::filesystem::remove_all(dir);
  if (rc != 0) return ::testing::AssertionFailure() << "standardwebhooks: " << said;
  if (said.find(std::to_string(requests.size()) + " verified") == std::string::npos) {
    return ::testing::AssertionFailure() << "standardwebhooks said: " << said;
  }
  return ::testing::AssertionSuccess();
}

void VidgateTest::Upload(const std::string& key, const std::string& source,
                         const std::string& title) {
  const std::string stem = key.substr(0, key.rfind('.'));
  PutSidecar("uploads/" + stem + ".json", Metadata(title));
  PutFile("uploads/" + key, source);
}

RunResult VidgateTest::RunUntilIdle(Seconds timeout) {
  RunResult r = Run({"run", "--until-idle"}, timeout);
  EXPECT_EQ(r.exit_code, 0) << "run --until-idle:\n" << Tail(r.err);
  return r;
}

nlohmann::json Metadata(const std::string& title) {
  return {{"title", title}, {"description", "an end-to-end test clip"}, {"tags", {"e2e"}}};
}

// ---------------------------------------------------------------------------
// Fixtures

std::string Clip(const std::string& ext) {
  return CachedMedia("clip." + ext,
                     Words("-f lavfi -i testsrc2=size=320x240:rate=25:duration=1.5 "
                           "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=1.5 "
                           "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest"));
}

std::string LongClip() {
  return CachedMedia("long.mp4",
                     Words("-f lavfi -i testsrc2=size=1280x720:rate=30:duration=40 "
                           "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=40 "
                           "-c:v libx264 -preset superfast -pix_fmt yuv420p -c:a aac -shortest"));
}

// ---------------------------------------------------------------------------
// Files and time

std::string ReadFile(const std::string& path) {
  std::ifstream in(OnDisk(path), std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(OnDisk(path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool SameBytes(const std::string& a, const std::string& b) {
  if (!FileExists(a) || !FileExists(b)) return false;
  std::error_code ec;
  if (fs::file_size(OnDisk(a), ec) != fs::file_size(OnDisk(b), ec)) return false;
  // Piece by piece: the files may be bigger than the memory a test should use.
  std::ifstream in_a(OnDisk(a), std::ios::binary);
  std::ifstream in_b(OnDisk(b), std::ios::binary);
  std::vector<char> piece_a(1 << 20);
  std::vector<char> piece_b(1 << 20);
  while (in_a && in_b) {
    in_a.read(piece_a.data(), static_cast<std::streamsize>(piece_a.size()));
    in_b.read(piece_b.data(), static_cast<std::streamsize>(piece_b.size()));
    if (in_a.gcount() != in_b.gcount() ||
        !std::equal(piece_a.begin(), piece_a.begin() + in_a.gcount(), piece_b.begin())) {
      return false;
    }
  }
  return in_a.eof() && in_b.eof();
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string file = fs::relative(it->path(), dir, ec).string();
#ifdef VIDGATE_E2E_S3
    if (!file.ends_with(kS3rverObject)) continue;  // s3rver's metadata and md5 files
    file.resize(file.size() - kS3rverObject.size());
#endif
    out.push_back(std::move(file));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> EntriesOf(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
#ifdef VIDGATE_E2E_S3
    if (!it->is_directory(ec)) {
      if (!name.ends_with(kS3rverObject)) continue;
      name.resize(name.size() - kS3rverObject.size());
    }
#endif
    out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

double ParseTime(const std::string& rfc3339) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  if (std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &zone) != 8 ||
      zone != 'Z') {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(::timegm(&tm)) + millis / 1000.0;
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Tail(const std::string& text, int lines) {
  std::vector<std::string> all;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size();
       ++i) {
    out += all[i] + "\n";
  }
  return out;
}

}  // namespace vidgate::e2e
