// vidgate: the command line. Parses arguments, loads the configuration and
// hands over to a subcommand (app/commands.h).
#include <CLI/CLI.hpp>

extern "C" {
#include <libavutil/log.h>
}

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "app/commands.h"
#include "app/config.h"
#include "app/lambda.h"
#include "common/log.h"

namespace {

// Whether the command line asks for --json, read before (or without) the
// parser: its own errors owe the one JSON document too.
bool AsksForJson(int argc, char** argv) {
  return std::any_of(argv + 1, argv + argc,
                     [](const char* arg) { return std::string_view(arg) == "--json"; });
}

using namespace vidgate;
using namespace vidgate::app;

int Main(int argc, char** argv) {
  CLI::App app{"vidgate: a video ingest pipeline"};
  app.set_version_flag("--version", "vidgate 0.1.0");
  app.require_subcommand(1);
  std::optional<std::string> config_path;
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--config", config_path, "TOML configuration file")->option_text("PATH");
  app.add_option("--log-format", log_format, "log lines as text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "least severe level logged")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  bool until_idle = false, no_server = false;
  auto* run = app.add_subcommand("run", "watch, process, notify (until SIGINT/SIGTERM)");
  run->add_flag("--until-idle", until_idle, "exit 0 once nothing is pending");
  run->add_flag("--no-server", no_server, "do not serve HTTP");

  std::string video;
  std::optional<std::string> metadata;
  auto* submit = app.add_subcommand("submit", "put a video (and sidecar) into uploads/");
  submit->add_option("VIDEO", video, "video file")->required();
  submit->add_option("--metadata", metadata, "JSON sidecar file")->option_text("FILE");
  std::vector<std::string> captions;
  submit
      ->add_option("--caption", captions,
                   "caption file named after the video (clip.en.srt for clip.mp4); repeatable")
      ->option_text("FILE");

  std::optional<std::string> state;
  bool json = false;
  auto* list = app.add_subcommand("list", "videos and their states, newest first");
  list->add_option("--state", state, "only videos in this state");
  list->add_flag("--json", json, "one JSON document on stdout");

  std::string id_or_name;
  auto* show = app.add_subcommand("show", "one video: metadata, probe, QC, attempts, outputs");
  show->add_option("ID|NAME", id_or_name, "video id or name")->required();
  show->add_flag("--json", json, "one JSON document on stdout");

  auto* retry = app.add_subcommand("retry", "queue another attempt now");
  retry->add_option("ID|NAME", id_or_name, "video id or name")->required();

  std::string file;
  auto* probe = app.add_subcommand("probe", "technical metadata of a local file");
  probe->add_option("FILE", file, "media file")->required();
  probe->add_flag("--json", json, "one JSON document on stdout");

  std::optional<std::string> policy;
  auto* qc = app.add_subcommand("qc", "quality report of a local file; exit 1 on reject");
  qc->add_option("FILE", file, "media file")->required();
  qc->add_flag("--json", json, "one JSON document on stdout");
  qc->add_option("--policy", policy,
                 "QC preset (web, broadcast-ebu-r128, broadcast-atsc-a85); default: the "
                 "config's [qc]");

  bool all = false;
  auto* verify = app.add_subcommand(
      "verify",
      "re-check a filed video's files against the catalog's checksums; exit 1 if any "
      "changed, went missing or was added");
  verify->add_option("ID|NAME", id_or_name, "video id or name");
  verify->add_flag("--all", all, "every filed video");
  verify->add_flag("--json", json, "one JSON document on stdout");

  auto* lambda = app.add_subcommand(
      "lambda", "serve the AWS Lambda Runtime API (SQS batches, scheduled sweeps)");
  auto* migrate = app.add_subcommand("migrate", "apply the catalog's schema migrations and exit");
  auto* demo = app.add_subcommand("demo", "generate sample videos with sidecars into uploads/");

  // --config and the logging options are accepted after the subcommand too.
  for (auto* sub : app.get_subcommands({})) sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(InvalidArgument(std::string(e.what()) + " (see vidgate --help)"), kExitUsage,
                AsksForJson(argc, argv));
  }

  // libav's own messages would interleave with ours; its errors reach the
  // user through our Status messages.
  av_log_set_level(AV_LOG_FATAL);
  // SVT-AV1 prints its banner straight to stderr unless told otherwise; set
  // before any thread starts (1 = errors only).
  setenv("SVT_LOG", "1", /*overwrite=*/0);
  // A peer that hangs up mid-answer (a health probe that timed out) must
  // cost an error on that socket, not the process: the HTTP server library
  // writes without MSG_NOSIGNAL.
  signal(SIGPIPE, SIG_IGN);

  if (*probe) return ProbeCommand(file, json);
  if (*qc) return QcCommand(file, json, policy, config_path);

  auto config = LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status(), kExitUsage, json && (*list || *show || *verify));
  // libcurl before any thread starts; one HTTP client (and its kept-alive
  // connections) for the whole process.
  net::CurlGlobal curl;
  if (!curl.status().ok()) return Fail(curl.status(), kExitBackend);
  net::Client http;
  SystemClock clock;
  aws::ChainOptions chain;  // asks nothing until AWS is first called
  chain.env = aws::ProcessEnvironment();
  chain.http = &http;
  chain.clock = &clock;
  auto credentials = aws::DefaultChain(chain);
  Context ctx{std::move(config).value(),
              MakeLogger(log_format == "json" ? LogFormat::kJson : LogFormat::kText,
                         spdlog::level::from_str(log_level)),
              &http, credentials.get()};
  if (*run) return RunCommand(ctx, until_idle, no_server);
  if (*submit) return SubmitCommand(ctx, video, metadata, captions);
  if (*list) return ListCommand(ctx, state, json);
  if (*show) return ShowCommand(ctx, id_or_name, json);
  if (*retry) return RetryCommand(ctx, id_or_name);
  if (*migrate) return MigrateCommand(ctx);
  if (*verify) return VerifyCommand(ctx, id_or_name, all, json);
  if (*lambda) return LambdaCommand(ctx);
  if (*demo) return DemoCommand(ctx);
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    // Not the user's input: the contract's code for a failure of ours or
    // of a backend.
    return vidgate::app::Fail(vidgate::Internal(std::string("internal error: ") + e.what()),
                              vidgate::app::kExitBackend, AsksForJson(argc, argv));
  }
}
