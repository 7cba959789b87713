#include "app/commands.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "app/wiring.h"
#include "aws/sqs_client.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/secrets.h"
#include "common/text.h"
#include "common/util.h"
#include "media/probe.h"
#include "media/synthesize.h"
#include "net/http.h"
#include "notify/log_sink.h"
#include "notify/sns_sink.h"
#include "notify/webhook_sink.h"
#include "pipeline/dispatcher.h"
#include "pipeline/media_stage.h"
#include "pipeline/metadata.h"
#include "pipeline/naming.h"
#include "pipeline/runner.h"
#include "qc/policy.h"
#include "server/health_server.h"
#include "storage/store.h"

namespace vidgate::app {

Result<qc::Policy> PolicyFromConfig(const Config& cfg) {
  VG_ASSIGN_OR_RETURN(qc::Policy policy, qc::MakePolicy(cfg.qc.preset, cfg.qc.severity));
  policy.max_height = cfg.qc.max_height;
  policy.max_duration_seconds = cfg.qc.max_duration_seconds;
  policy.allowed_video_codecs = cfg.qc.allowed_video_codecs;
  return policy;
}

using catalog::State;

// One JSON document for stdout. Whatever an old catalog may hold, a byte
// that is not UTF-8 becomes U+FFFD instead of an exception.
std::string JsonText(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

int Fail(const Status& status, int exit_code, bool json) {
  std::cerr << "vidgate: " << Printable(status.message()) << "\n";
  // The sentence may name a local file whose name is not UTF-8: as a key.
  if (json) std::cout << JsonText(nlohmann::json{{"error", BytesToKey(status.message())}}) << "\n";
  return exit_code;
}

int BackendExit(const Status& status) {
  return status.code() == Code::kInvalidArgument ? kExitUsage : kExitBackend;
}

namespace {

// A local media file's failure: not media (a "no"), missing (bad usage), or
// the disk's.
int MediaExit(const Status& status) {
  return status.code() == Code::kInvalidArgument ? kExitNo
         : status.code() == Code::kNotFound      ? kExitUsage
                                                 : kExitBackend;
}

// Local media commands read regular files only: a FIFO, a device or a
// folder would hang or mislead the decoder.
Status CheckRegularFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "open", path);
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition("'" + path + "' is not a regular file (" +
                              (S_ISDIR(st.st_mode)    ? "a folder"
                               : S_ISFIFO(st.st_mode) ? "a FIFO"
                               : S_ISSOCK(st.st_mode) ? "a socket"
                                                      : "a device") +
                              "); give a video file");
  }
  return Status();
}

std::string Location(const catalog::Video& v) {
  return catalog::IsTerminal(v.state) && !v.location.empty() ? v.location : v.current_key;
}

// Stops `run` on SIGINT/SIGTERM: the signals are blocked in every thread
// and taken here synchronously, so no handler touches shared state. SIGUSR1
// is only the destructor's wake-up call, so that exiting does not wait out
// the tick.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::atomic<bool>* stop) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::jthread([stop, set](std::stop_token token) {
      timespec tick{0, 100'000'000};
      while (!token.stop_requested()) {
        const int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
          stop->store(true);
          return;
        }
      }
    });
  }
  ~SignalWatcher() {
    thread_.request_stop();
    pthread_kill(thread_.native_handle(), SIGUSR1);
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::jthread thread_;
};

}  // namespace

int RunCommand(Context& ctx, bool until_idle, bool no_server) {
  std::atomic<bool> stop{false};
  SignalWatcher signals(&stop);
  const Config& cfg = ctx.config;
  auto& log = *ctx.log;

  auto wired = Wire(ctx);
  if (!wired.ok()) return Fail(wired.status(), BackendExit(wired.status()));
  Wiring& w = **wired;
  pipeline::RunnerOptions opts = w.runner_options;
  opts.until_idle = until_idle;

  log.info("vidgate run: store {}, catalog {}, {} workers, {} notification sinks{}",
           cfg.storage.url, catalog::RedactUrl(cfg.database.url), opts.workers, w.sinks.size(),
           w.feed ? ", news from " + w.feed->Describe() : "");
  pipeline::Runner runner(w.RunnerDeps(ctx), opts);
  std::unique_ptr<server::HealthServer> http;
  if (!no_server) {
    server::ServerOptions so;
    so.listen = cfg.server.listen;
    http = std::make_unique<server::HealthServer>(
        server::ServerDeps{w.catalog.get(), w.store.get(), ctx.log.get(),
                           [&runner] { return runner.SecondsSinceLastTurn(); }},
        so);
    if (Status started = http->Start(); !started.ok()) {
      return Fail(started, started.code() == Code::kInvalidArgument ? kExitUsage : kExitBackend);
    }
    log.info("serving http://{}/healthz and /readyz", http->address());
  }
  Status s = runner.Run(stop);
  http.reset();
  if (!s.ok()) return Fail(s, BackendExit(s));
  return kExitOk;
}

int SubmitCommand(Context& ctx, const std::string& video,
                  const std::optional<std::string>& metadata) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(video, ec)) {
    return Fail(NotFound("'" + video + "' is not a file"), kExitUsage);
  }
  // The name's bytes, as the file store lists them (common/text.h).
  const std::string file = BytesToKey(fs::path(video).filename().string());
  const std::string video_key = std::string(pipeline::kUploads) + file;
  auto parsed = pipeline::ParseKey(video_key);
  if (parsed.kind == pipeline::KeyKind::kRefused) {
    return Fail(InvalidArgument("'" + file +
                                "' without an extension would clash with vidgate's own folder "
                                "of that name; rename it"),
                kExitUsage);
  }
  if (parsed.kind != pipeline::KeyKind::kVideo) {
    return Fail(InvalidArgument("'" + file +
                                "' would be ignored in uploads/ (a hidden, .json, "
                                ".part, .tmp or .crdownload name)"),
                kExitUsage);
  }
  auto store = OpenStore(ctx);
  if (!store.ok()) return Fail(store.status(), BackendExit(store.status()));
  if (Status s = (*store)->Prepare(); !s.ok()) return Fail(s, BackendExit(s));
  if (pipeline::LongestFiledKey(video_key) > (*store)->MaxKeyBytes()) {
    return Fail(InvalidArgument(fmt::format(
                    "'{}' is too long a name for this store: filed with vidgate's outputs, its "
                    "keys could reach {} bytes, over the store's limit of {}; rename it shorter",
                    file, pipeline::LongestFiledKey(video_key), (*store)->MaxKeyBytes())),
                kExitUsage);
  }
  if ((*store)->Stat(video_key).ok()) {
    return Fail(AlreadyExists(video_key + " already exists; nothing was overwritten"), kExitNo);
  }
  if (metadata) {
    // One byte over the limit is enough for the check to refuse it.
    auto text = ReadLocalFile(*metadata, "read metadata file",
                              static_cast<size_t>(pipeline::kMaxSidecarBytes) + 1);
    if (!text.ok()) return Fail(text.status(), kExitUsage);
    auto valid = pipeline::ValidateSidecar(*text, ctx.config.metadata.required);
    if (!valid.ok()) return Fail(valid.status().WithContext(*metadata), kExitUsage);
    // The sidecar goes first, so the video never waits for it; like the
    // video, it never replaces a file that is there (another upload's).
    for (const auto& sidecar_key : pipeline::SidecarCandidates(video_key)) {
      if (!(*store)->Stat(sidecar_key).ok()) continue;
      return Fail(AlreadyExists(sidecar_key + " already exists (the sidecar of another upload?); "
                                              "nothing was overwritten"),
                  kExitNo);
    }
    const std::string sidecar_key = pipeline::SidecarCandidates(video_key)[0];
    Status s = (*store)->Upload(*metadata, sidecar_key);
    if (s.code() == Code::kAlreadyExists) {
      return Fail(AlreadyExists(sidecar_key + " already exists; nothing was overwritten"), kExitNo);
    }
    if (!s.ok()) return Fail(s, BackendExit(s));
  }
  Status s = (*store)->Upload(video, video_key);
  if (s.code() == Code::kAlreadyExists) return Fail(s, kExitNo);
  if (!s.ok()) return Fail(s, BackendExit(s));
  ctx.log->info("submitted {} as {}", video, video_key);
  std::cout << video_key << "\n";
  return kExitOk;
}

int ListCommand(Context& ctx, const std::optional<std::string>& state, bool json) {
  std::optional<State> filter;
  if (state) {
    auto parsed = catalog::ParseState(*state);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("--state"), kExitUsage, json);
    filter = *parsed;
  }
  auto cat = OpenCatalog(ctx);
  if (!cat.ok()) return Fail(cat.status(), BackendExit(cat.status()), json);
  auto videos = (*cat)->ListVideos(filter);
  if (!videos.ok()) return Fail(videos.status(), kExitBackend, json);
  if (json) {
    nlohmann::json out = {{"videos", nlohmann::json::array()}};
    for (const auto& v : *videos) {
      out["videos"].push_back({{"id", v.id},
                               {"name", v.name},
                               {"state", catalog::StateName(v.state)},
                               {"attempts", v.attempts},
                               {"created_at", FormatTime(v.created_at)},
                               {"updated_at", FormatTime(v.updated_at)},
                               {"location", Location(v)}});
    }
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:>6}  {:<18} {:>8}  {:<24}  {}\n", "ID", "STATE", "ATTEMPTS",
                           "UPDATED", "NAME");
  for (const auto& v : *videos) {
    std::cout << fmt::format("{:>6}  {:<18} {:>8}  {:<24}  {}\n", v.id, catalog::StateName(v.state),
                             v.attempts, FormatTime(v.updated_at), Printable(v.name));
  }
  return kExitOk;
}

int ShowCommand(Context& ctx, const std::string& id_or_name, bool json) {
  auto cat = OpenCatalog(ctx);
  if (!cat.ok()) return Fail(cat.status(), BackendExit(cat.status()), json);
  auto video = catalog::FindVideo(**cat, id_or_name);
  if (video.status().code() == Code::kNotFound) return Fail(video.status(), kExitNo, json);
  if (!video.ok()) return Fail(video.status(), BackendExit(video.status()), json);
  auto attempts = (*cat)->Attempts(video->id);
  auto outputs = (*cat)->Outputs(video->id);
  auto notes = (*cat)->Notifications(video->id);
  if (!attempts.ok() || !outputs.ok() || !notes.ok()) {
    return Fail(Unavailable("cannot read video " + std::to_string(video->id) + " from the catalog"),
                kExitBackend, json);
  }
  const auto& v = *video;
  nlohmann::json out = {
      {"id", v.id},
      {"name", v.name},
      {"state", catalog::StateName(v.state)},
      {"attempts", catalog::AttemptsToJson(*attempts)},
      {"metadata", v.metadata.is_null() ? nlohmann::json::object() : v.metadata},
      {"probe", v.probe.is_null() ? nlohmann::json::object() : v.probe},
      {"qc", v.qc.is_null() ? nlohmann::json::object() : v.qc},
      {"outputs", catalog::OutputsToJson(*outputs)},
      {"location", Location(v)},
      {"source_key", v.source_key},
      {"sidecar_key",
       v.sidecar_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.sidecar_key)},
      {"created_at", FormatTime(v.created_at)},
      {"updated_at", FormatTime(v.updated_at)},
      {"next_attempt_at", v.state == State::kRetryWait
                              ? nlohmann::json(FormatTime(v.next_attempt_at))
                              : nlohmann::json(nullptr)},
      {"last_error", v.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.last_error)},
      {"notifications", nlohmann::json::array()},
  };
  for (const auto& n : *notes) {
    out["notifications"].push_back(
        {{"id", n.event_id},
         {"type", n.type},
         {"sink", n.sink},
         {"created_at", FormatTime(n.created_at)},
         {"delivered_at", n.delivered_at > 0 ? nlohmann::json(FormatTime(n.delivered_at))
                                             : nlohmann::json(nullptr)},
         {"tries", n.attempts},
         {"gave_up", n.gave_up},
         {"last_error",
          n.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.last_error)}});
  }
  if (json) {
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  // Everything from outside (names, errors, metadata) goes through
  // Printable: a terminal acts on what it is sent.
  std::cout << fmt::format("video {}  {}\n  state     {}\n  location  {}\n", v.id,
                           Printable(v.name), catalog::StateName(v.state), Printable(Location(v)));
  if (!v.last_error.empty()) std::cout << "  error     " << Printable(v.last_error) << "\n";
  if (v.state == State::kRetryWait) {
    std::cout << "  next try  " << FormatTime(v.next_attempt_at) << "\n";
  }
  std::cout << "  metadata  " << Printable(out["metadata"].dump()) << "\n";
  for (const auto& a : *attempts) {
    std::cout << fmt::format("  attempt {}  {}  {}{}\n", a.number, a.outcome,
                             FormatTime(a.started_at),
                             a.error.empty() ? "" : "  " + Printable(a.error));
  }
  for (const auto& n : *notes) {
    std::cout << fmt::format("  event {}  -> {}  {}\n", n.type, Printable(n.sink),
                             n.delivered_at > 0 ? "delivered"
                             : n.gave_up        ? "gave up: " + Printable(n.last_error)
                                                : "pending");
  }
  return kExitOk;
}

int RetryCommand(Context& ctx, const std::string& id_or_name) {
  auto cat = OpenCatalog(ctx);
  if (!cat.ok()) return Fail(cat.status(), BackendExit(cat.status()));
  auto video = catalog::FindVideo(**cat, id_or_name);
  if (video.status().code() == Code::kNotFound) return Fail(video.status(), kExitNo);
  if (!video.ok()) return Fail(video.status(), BackendExit(video.status()));
  SystemClock clock;
  Status s = (*cat)->RetryNow(video->id, clock.Now());
  if (s.code() == Code::kFailedPrecondition) {
    std::string why = video->name + " is " + std::string(catalog::StateName(video->state)) +
                      "; only a video waiting for a retry can be retried now";
    if (catalog::IsTerminal(video->state)) {
      why += "; to process it again, put its file and sidecar from " + Location(*video) +
             " into uploads/ (a new video)";
    }
    return Fail(FailedPrecondition(why), kExitNo);
  }
  if (!s.ok()) return Fail(s, kExitBackend);
  std::cout << Printable(video->name) << ": queued for another attempt now\n";
  return kExitOk;
}

int ProbeCommand(const std::string& file, bool json) {
  if (Status s = CheckRegularFile(file); !s.ok()) return Fail(s, kExitUsage, json);
  auto probe = media::Probe(file);
  if (!probe.ok()) {
    return Fail(probe.status(), MediaExit(probe.status()), json);
  }
  nlohmann::json doc = probe->ToJson();
  if (json) {
    std::cout << JsonText(doc) << "\n";
    return kExitOk;
  }
  const auto& f = doc["format"];
  std::cout << fmt::format("{}: {}, {} s, {} bytes, {} bit/s\n", Printable(file),
                           f["name"].get<std::string>(), f["duration"].dump(), f["size"].dump(),
                           f["bit_rate"].dump());
  for (const auto& s : doc["streams"]) {
    std::cout << fmt::format("  #{} {} {}", s["index"].dump(), s["type"].get<std::string>(),
                             s["codec"].get<std::string>());
    if (s["type"] == "video") {
      std::cout << fmt::format(" {}x{} {} fps {}", s["width"].dump(), s["height"].dump(),
                               s["frame_rate"].dump(), s["pix_fmt"].dump());
    } else if (s["type"] == "audio") {
      std::cout << fmt::format(" {} Hz {} ch", s["sample_rate"].dump(), s["channels"].dump());
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int QcCommand(const std::string& file, bool json, const std::optional<std::string>& preset,
              const std::optional<std::string>& config_path) {
  // A named preset as it stands; else the configuration's [qc], as `run`
  // would judge the file.
  Result<qc::Policy> policy = Internal("no policy");
  if (preset) {
    policy = qc::PresetPolicy(*preset);
    if (!policy.ok()) return Fail(policy.status().WithContext("--policy"), kExitUsage, json);
  } else {
    auto config = LoadConfig(config_path);
    if (!config.ok()) return Fail(config.status(), kExitUsage, json);
    policy = PolicyFromConfig(*config);
    if (!policy.ok()) return Fail(policy.status().WithContext("qc"), kExitUsage, json);
  }
  if (Status s = CheckRegularFile(file); !s.ok()) return Fail(s, kExitUsage, json);
  const std::string policy_name = policy->name;
  pipeline::OutputOptions qc_only;
  qc_only.renditions.clear();
  qc_only.thumbnails = false;
  auto stage = pipeline::NewQcStage(*policy, qc_only);
  auto result = stage->Process(file, file, [] { return Status(); });
  if (!result.ok()) {
    return Fail(result.status(), MediaExit(result.status()), json);
  }
  if (json) {
    std::cout << JsonText(result->qc) << "\n";
  } else {
    std::cout << Printable(file) << ": " << result->verdict << " (policy " << policy_name << ")\n";
    for (const auto& c : result->qc["checks"]) {
      std::cout << fmt::format("  {:<4} {:<7} {:<16} {}\n", c["status"].get<std::string>(),
                               c["severity"].get<std::string>(), c["id"].get<std::string>(),
                               c["message"].get<std::string>());
    }
  }
  return result->verdict == "reject" ? kExitNo : kExitOk;
}

int MigrateCommand(Context& ctx) {
  auto cat = OpenCatalog(ctx);
  if (!cat.ok()) return Fail(cat.status(), BackendExit(cat.status()));
  auto version = (*cat)->SchemaVersion();
  if (!version.ok()) return Fail(version.status(), kExitBackend);
  std::cout << "catalog " << catalog::RedactUrl(ctx.config.database.url) << " is at schema version "
            << *version << "\n";
  return kExitOk;
}

}  // namespace vidgate::app

namespace vidgate::app {

// Writes a set of sample uploads that shows each path through the pipeline.
int DemoCommand(Context& ctx) {
  namespace fs = std::filesystem;
  auto store = OpenStore(ctx);
  if (!store.ok()) return Fail(store.status(), BackendExit(store.status()));
  if (Status s = (*store)->Prepare(); !s.ok()) return Fail(s, BackendExit(s));
  const fs::path tmp = fs::temp_directory_path() / ("vidgate-demo-" + NewUuid());
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) return Fail(ErrnoStatus(ec.value(), "create folder", tmp.string()), kExitBackend);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{tmp};

  // A folder of its own per run, so a second demo never collides.
  const std::string folder =
      std::string(pipeline::kUploads) + "demo-" + FormatTime(SystemClock().Now()).substr(11, 8);
  std::string base = folder;
  for (char& c : base) {
    if (c == ':') c = '-';
  }
  struct Sample {
    std::string name;
    media::SynthOptions options;
    std::optional<std::string> sidecar;  // nullopt: none
    bool truncate = false;
  };
  media::SynthOptions plain;
  media::SynthOptions black_intro;
  black_intro.black = {{0, 2.5}};
  black_intro.seconds = 5;
  const std::vector<Sample> samples = {
      {"welcome", plain, R"({"title": "Welcome to vidgate", "owner": "demo"})", false},
      {"black-intro", black_intro, R"({"title": "Starts with 2.5 s of black"})", false},
      {"no-metadata", plain, std::nullopt, false},
      {"bad-sidecar", plain, R"({"title": "missing a closing brace")", false},
      {"broken", plain, R"({"title": "Cut off after 2 KiB"})", true},
  };
  for (const auto& sample : samples) {
    const std::string local = (tmp / (sample.name + ".mp4")).string();
    if (Status s = media::SynthesizeClip(local, sample.options); !s.ok()) {
      return Fail(s, kExitBackend);
    }
    if (sample.truncate) {
      // Only the first bytes: the index (at the front, faststart) promises
      // frames whose data never arrived.
      fs::resize_file(local, 2048, ec);
    }
    const std::string key = base + "/" + sample.name + ".mp4";
    if (sample.sidecar) {
      Status s = (*store)->Write(base + "/" + sample.name + ".json", *sample.sidecar);
      if (!s.ok()) return Fail(s, BackendExit(s));
    }
    Status s = (*store)->Upload(local, key);
    if (!s.ok()) return Fail(s, BackendExit(s));
    std::cout << key << "\n";
  }
  ctx.log->info("demo: {} sample uploads in {}/ (run `vidgate run` to process them)",
                samples.size(), base);
  return kExitOk;
}

}  // namespace vidgate::app
