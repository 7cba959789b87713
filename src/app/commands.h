// commands.h: the CLI subcommands (ARCHITECTURE.md "Contract: command line").
// Each returns the process exit code: 0 ok, 1 a verdict or operation said no,
// 2 bad usage or config, 3 an I/O or backend failure.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "aws/credentials.h"
#include "common/status.h"
#include "net/http.h"
#include "qc/policy.h"

namespace vidgate::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBackend = 3;

// Prints `status` as one sentence on stderr and returns its exit code; with
// `json`, also {"error": sentence} on stdout, the one document a --json
// command owes.
int Fail(const Status& status, int exit_code, bool json = false);
// The exit code for a store or catalog error.
int BackendExit(const Status& status);

struct Context {
  Config config;
  std::shared_ptr<spdlog::logger> log;
  net::Client* http = nullptr;  // every outbound HTTP call (S3, webhooks)
  // AWS's credentials chain, one for the process (S3, SQS).
  aws::CredentialsProvider* credentials = nullptr;
};

int RunCommand(Context& ctx, bool until_idle, bool no_server);
int SubmitCommand(Context& ctx, const std::string& video,
                  const std::optional<std::string>& metadata,
                  const std::vector<std::string>& captions = {});
int ListCommand(Context& ctx, const std::optional<std::string>& state, bool json);
int ShowCommand(Context& ctx, const std::string& id_or_name, bool json);
int RetryCommand(Context& ctx, const std::string& id_or_name);
int ProbeCommand(const std::string& file, bool json);
// `preset`: a named QC preset; none = the configuration's [qc] (read from
// `config_path` as LoadConfig does).
int QcCommand(const std::string& file, bool json, const std::optional<std::string>& preset,
              const std::optional<std::string>& config_path);
// The QC policy the configuration's [qc] describes.
Result<qc::Policy> PolicyFromConfig(const Config& cfg);
int MigrateCommand(Context& ctx);
// `vidgate verify NAME|--all [--json]`: exit 0 when every file is intact, 1
// when one changed, went missing or was added (or the named video cannot be
// verified), 3 when the store or catalog failed.
int VerifyCommand(Context& ctx, const std::string& id_or_name, bool all, bool json);
int DemoCommand(Context& ctx);

}  // namespace vidgate::app
