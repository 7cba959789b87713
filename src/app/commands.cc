#include "app/commands.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/wiring.h"
#include "aws/sqs_client.h"
#include "catalog/catalog.h"
#include "catalog/document.h"
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
#include "pipeline/caption_files.h"
#include "pipeline/dispatcher.h"
#include "pipeline/media_stage.h"
#include "pipeline/metadata.h"
#include "pipeline/naming.h"
#include "pipeline/rerun.h"
#include "pipeline/runner.h"
#include "pipeline/submit.h"
#include "pipeline/verify.h"
#include "qc/policy.h"
#include "server/http_server.h"
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
  std::unique_ptr<server::HttpServer> http;
  if (!no_server) {
    server::ServerOptions so;
    so.listen = cfg.server.listen;
    auto token = ResolveSecret(cfg.server.token);
    if (!token.ok()) return Fail(token.status().WithContext("server.token"), kExitUsage);
    so.token = *token;
    so.max_upload_bytes = cfg.server.max_upload_bytes;
    so.required_metadata = cfg.metadata.required;
    server::ServerDeps deps{w.catalog.get(), w.store.get(), ctx.log.get(), &w.clock,
                            [&runner] { return runner.SecondsSinceLastTurn(); }};
    deps.metrics = w.metrics.get();
    http = std::make_unique<server::HttpServer>(std::move(deps), so);
    if (Status started = http->Start(); !started.ok()) {
      return Fail(started, started.code() == Code::kInvalidArgument ? kExitUsage : kExitBackend);
    }
    log.info("serving http://{}/ (the API, /metrics, /healthz and /readyz){}", http->address(),
             so.token.empty() ? "" : "; changes need the bearer token");
  }
  Status s = runner.Run(stop);
  http.reset();
  if (!s.ok()) return Fail(s, BackendExit(s));
  return kExitOk;
}

int SubmitCommand(Context& ctx, const std::string& video,
                  const std::optional<std::string>& metadata,
                  const std::vector<std::string>& captions) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(video, ec)) {
    return Fail(NotFound("'" + video + "' is not a file"), kExitUsage);
  }
  pipeline::Submission submission;
  submission.local_path = video;
  // The name's bytes, as the file store lists them (common/text.h).
  submission.file_name = BytesToKey(fs::path(video).filename().string());
  submission.required = ctx.config.metadata.required;
  submission.captions = captions;
  if (metadata) {
    // One byte over the limit is enough for the check to refuse it.
    auto text = ReadLocalFile(*metadata, "read metadata file",
                              static_cast<size_t>(pipeline::kMaxSidecarBytes) + 1);
    if (!text.ok()) return Fail(text.status(), kExitUsage);
    auto valid = pipeline::ValidateSidecar(*text, ctx.config.metadata.required);
    if (!valid.ok()) return Fail(valid.status().WithContext(*metadata), kExitUsage);
    submission.sidecar = *text;
  }
  auto store = OpenStore(ctx);
  if (!store.ok()) return Fail(store.status(), BackendExit(store.status()));
  if (Status s = (*store)->Prepare(); !s.ok()) return Fail(s, BackendExit(s));
  auto submitted = pipeline::Submit(**store, submission);
  if (!submitted.ok()) {
    const Code code = submitted.status().code();
    return Fail(submitted.status(), code == Code::kInvalidArgument ? kExitUsage
                                    : code == Code::kAlreadyExists
                                        ? kExitNo
                                        : BackendExit(submitted.status()));
  }
  const std::string& video_key = submitted->video_key;
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
    for (const auto& v : *videos) out["videos"].push_back(catalog::VideoSummary(v));
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
  const auto& v = *video;
  auto document = catalog::VideoDocument(**cat, v);
  if (!document.ok()) return Fail(document.status(), BackendExit(document.status()), json);
  const nlohmann::json& out = *document;
  if (json) {
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  // Everything from outside (names, errors, metadata) goes through
  // Printable: a terminal acts on what it is sent.
  std::cout << fmt::format("video {}  {}\n  state     {}\n  location  {}\n", v.id,
                           Printable(v.name), catalog::StateName(v.state),
                           Printable(catalog::Location(v)));
  if (!v.last_error.empty()) std::cout << "  error     " << Printable(v.last_error) << "\n";
  if (v.state == State::kRetryWait) {
    std::cout << "  next try  " << FormatTime(v.next_attempt_at) << "\n";
  }
  std::cout << "  metadata  " << Printable(out["metadata"].dump()) << "\n";
  auto text = [](const nlohmann::json& value) {
    return value.is_string() ? Printable(value.get<std::string>()) : std::string();
  };
  for (const auto& a : out["attempts"]) {
    const std::string error = text(a["error"]);
    std::cout << fmt::format("  attempt {}  {}  {}{}\n", a["number"].get<int>(), text(a["outcome"]),
                             text(a["started_at"]), error.empty() ? "" : "  " + error);
  }
  for (const auto& n : out["notifications"]) {
    std::cout << fmt::format("  event {}  -> {}  {}\n", text(n["type"]), text(n["sink"]),
                             !n["delivered_at"].is_null() ? "delivered"
                             : n["gave_up"].get<bool>()   ? "gave up: " + text(n["last_error"])
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
  if (video->state == State::kRejected || video->state == State::kUnableToProcess) {
    auto store = OpenStore(ctx);
    if (!store.ok()) return Fail(store.status(), BackendExit(store.status()));
    auto rerun = pipeline::RerunFromKeptOriginal(**store, **cat, clock, *video);
    if (!rerun.ok()) {
      const Code code = rerun.status().code();
      return Fail(rerun.status(), code == Code::kFailedPrecondition || code == Code::kNotFound ||
                                          code == Code::kAlreadyExists
                                      ? kExitNo
                                      : BackendExit(rerun.status()));
    }
    std::cout << Printable(video->name) << ": runs again from its kept original, now at "
              << Printable(rerun->video_key) << " (a new video)\n";
    return kExitOk;
  }
  Status s = (*cat)->RetryNow(video->id, clock.Now());
  if (s.code() == Code::kFailedPrecondition) {
    std::string why = video->name + " is " + std::string(catalog::StateName(video->state)) +
                      "; only a video waiting for a retry, rejected or unable_to_process can be "
                      "retried";
    if (video->state == State::kProcessed) {
      why += "; to process it again, put its file and sidecar from " + catalog::Location(*video) +
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
      if (const auto& c = s["color"]; c.is_object()) {
        auto tag = [&](const char* key) {
          return c[key].is_string() ? c[key].get<std::string>() : std::string("?");
        };
        std::cout << fmt::format(" {}/{}/{} {}", tag("primaries"), tag("transfer"), tag("matrix"),
                                 tag("range"));
        if (c["bit_depth"].is_number()) std::cout << fmt::format(" {}-bit", c["bit_depth"].dump());
        if (c["hdr_format"].is_string()) std::cout << " " << c["hdr_format"].get<std::string>();
      }
    } else if (s["type"] == "audio") {
      std::cout << fmt::format(" {} Hz {} ch", s["sample_rate"].dump(), s["channels"].dump());
    }
    std::cout << "\n";
  }
  return kExitOk;
}

// The caption sidecars beside a local video ("clip.en.srt" beside
// "clip.mp4"), as `run` would find them in the store.
static std::vector<pipeline::CaptionInput> CaptionsBesideLocalFile(const std::string& file) {
  // The folder seen as a store: the same captions, limits and symbolic-link
  // policy as `run` applies beside a video in uploads/.
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(file, ec);
  Result<std::vector<pipeline::CaptionInput>> read = std::vector<pipeline::CaptionInput>{};
  if (ec) {
    read = Status(Code::kInvalidArgument, ec.message());
  } else if (auto folder = storage::Open("file://" + path.parent_path().string()); !folder.ok()) {
    read = folder.status();
  } else if (auto captions =
                 pipeline::CaptionsBeside(**folder, BytesToKey(path.filename().string()));
             !captions.ok()) {
    read = captions.status();
  } else {
    read = pipeline::ReadCaptionFiles(**folder, *captions);
  }
  if (read.ok()) return std::move(read).value();
  // The report is still made, without them; say why.
  std::cerr << "vidgate qc: the captions beside " << Printable(file)
            << " cannot be looked for: " << Printable(read.status().message()) << "\n";
  return {};
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
  auto result = stage->Process(file, file, CaptionsBesideLocalFile(file), [] { return Status(); });
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

int VerifyCommand(Context& ctx, const std::string& id_or_name, bool all, bool json) {
  if (all == !id_or_name.empty()) {
    return Fail(
        InvalidArgument("verify takes a video's NAME (or id) or --all, not both or neither"),
        kExitUsage, json);
  }
  auto cat = OpenCatalog(ctx);
  if (!cat.ok()) return Fail(cat.status(), BackendExit(cat.status()), json);
  std::vector<catalog::Video> videos;
  if (all) {
    auto listed = (*cat)->ListVideos(std::nullopt);
    if (!listed.ok()) return Fail(listed.status(), BackendExit(listed.status()), json);
    for (auto& v : *listed) {
      if (catalog::IsTerminal(v.state) && !v.location.empty()) videos.push_back(std::move(v));
    }
    std::reverse(videos.begin(), videos.end());  // oldest first
  } else {
    auto video = catalog::FindVideo(**cat, id_or_name);
    if (video.status().code() == Code::kNotFound) return Fail(video.status(), kExitNo, json);
    if (!video.ok()) return Fail(video.status(), BackendExit(video.status()), json);
    videos.push_back(std::move(video).value());
  }
  auto store = OpenStore(ctx);
  if (!store.ok()) return Fail(store.status(), BackendExit(store.status()), json);
  nlohmann::json checked = nlohmann::json::array();
  nlohmann::json skipped = nlohmann::json::array();
  int failed = 0;
  for (const auto& v : videos) {
    auto verified = pipeline::VerifyVideo(**store, **cat, v);
    if (verified.status().code() == Code::kFailedPrecondition) {
      // Named, it is an answer; under --all, one filed before checksums
      // were recorded is only counted.
      if (!all) return Fail(verified.status(), kExitNo, json);
      skipped.push_back({{"id", v.id}, {"name", v.name}, {"reason", verified.status().message()}});
      continue;
    }
    if (!verified.ok()) return Fail(verified.status(), BackendExit(verified.status()), json);
    if (!verified->ok()) ++failed;
    checked.push_back(verified->ToJson());
    if (json) continue;
    const auto& r = *verified;
    if (r.ok()) {
      std::cout << Printable(r.location) << ": " << r.files << " files intact\n";
      continue;
    }
    std::cout << Printable(r.location) << ": " << r.problems.size() << " problem"
              << (r.problems.size() == 1 ? "" : "s") << " in " << r.files << " recorded files\n";
    for (const auto& p : r.problems) {
      std::string line = fmt::format("  {:<8} {}", p.problem, Printable(p.path));
      if (p.problem == "changed") {
        line += fmt::format(": now {} bytes, sha256 {}; recorded {} bytes, sha256 {}", p.found_size,
                            p.found_sha256, p.recorded_size, p.recorded_sha256);
      } else if (p.problem == "added") {
        line += fmt::format(" ({} bytes, not filed by vidgate)", p.found_size);
      }
      if (!p.detail.empty()) line += " (" + Printable(p.detail) + ")";
      std::cout << line << "\n";
    }
  }
  const bool ok = failed == 0;
  if (json) {
    std::cout << JsonText({{"ok", ok},
                           {"checked", checked.size()},
                           {"failed", failed},
                           {"videos", checked},
                           {"skipped", skipped}})
              << "\n";
  } else if (all) {
    std::cout << fmt::format("verified {} filed videos: {} intact, {} with problems",
                             checked.size(), checked.size() - static_cast<size_t>(failed), failed);
    if (!skipped.empty()) {
      std::cout << fmt::format("; {} filed before checksums were recorded (not checked)",
                               skipped.size());
    }
    std::cout << "\n";
  }
  return ok ? kExitOk : kExitNo;
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
