#include "aws/credentials.h"

#include <fmt/format.h>
#include <ini.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "common/secrets.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

// Fetched again this long before they expire.
constexpr double kRefreshAheadSeconds = 300;
constexpr std::string_view kEcsHost = "http://169.254.170.2";
constexpr std::string_view kImdsDefault = "http://169.254.169.254";

using Section = std::map<std::string, std::string>;
using IniFile = std::map<std::string, Section>;

// Parses an AWS shared file with inih; nullopt when it does not exist.
Result<std::optional<IniFile>> ReadIni(const std::string& path, std::string_view what) {
  IniFile file;
  auto handler = [](void* user, const char* section, const char* name, const char* value) -> int {
    auto* f = static_cast<IniFile*>(user);
    if (name != nullptr) (*f)[section][name] = value != nullptr ? value : "";
    return 1;
  };
  const int rc = ini_parse(path.c_str(), handler, &file);
  if (rc == -1) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<IniFile>();
    return ErrnoStatus(errno, fmt::format("read the AWS {} file", what), path);
  }
  if (rc == -2) return Internal(fmt::format("cannot parse {}: out of memory", path));
  if (rc > 0) {
    return InvalidArgument(
        fmt::format("the AWS {} file {} is not valid at line {}", what, path, rc));
  }
  return std::optional<IniFile>(std::move(file));
}

std::string EnvValue(const Environment& env, const std::string& name) {
  return env(name).value_or("");
}

// Credentials from a JSON answer of the container or instance endpoint.
Result<Credentials> FromEndpointJson(const std::string& body, const std::string& where) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) {
    return Unavailable(fmt::format("{} answered something that is not JSON credentials", where));
  }
  if (doc.contains("Code") && doc["Code"].is_string() && doc["Code"] != "Success") {
    return Unavailable(fmt::format("{} answered Code {}", where, doc["Code"].get<std::string>()));
  }
  auto text = [&](const char* key) -> std::string {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
  };
  Credentials c;
  c.access_key_id = text("AccessKeyId");
  c.secret_access_key = text("SecretAccessKey");
  c.session_token = text("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Unavailable(fmt::format("{} answered without AccessKeyId or SecretAccessKey", where));
  }
  if (std::string expiration = text("Expiration"); !expiration.empty()) {
    auto at = ParseIso8601(expiration);
    if (!at) return Unavailable(fmt::format("{} answered an Expiration that is no time", where));
    c.expires_at = *at;
  }
  return c;
}

// Whether a full container URI may be plain http: only on this machine or
// on the link-local addresses ECS and EKS serve credentials on.
bool TrustedPlainHttpHost(std::string_view url) {
  std::string_view rest = url.substr(std::string_view("http://").size());
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host = rest;
  if (host.starts_with('[')) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host.starts_with("127.") || host == "::1" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

class Chain final : public CredentialsProvider {
 public:
  explicit Chain(ChainOptions o) : o_(std::move(o)) {
    if (!o_.env) o_.env = ProcessEnvironment();
    if (o_.clock == nullptr) o_.clock = &system_clock_;
  }

  Result<Credentials> Get() override {
    std::lock_guard lock(mu_);
    const double now = o_.clock->Now();
    if (cached_ && (cached_->expires_at == 0 || now < cached_->expires_at - kRefreshAheadSeconds)) {
      return *cached_;
    }
    Result<Credentials> fresh = Resolve();
    if (fresh.ok()) {
      cached_ = *fresh;
      return fresh;
    }
    // Keep using what still works while the source is briefly down.
    if (cached_ && now < cached_->expires_at) return *cached_;
    return fresh.status();
  }

 private:
  Result<Credentials> Resolve() {
    std::vector<std::string> tried;
    VG_ASSIGN_OR_RETURN(auto env, FromEnvironment());
    if (env) return *env;
    tried.push_back("environment (AWS_ACCESS_KEY_ID unset)");
    VG_ASSIGN_OR_RETURN(auto files, FromSharedFiles(tried));
    if (files) return *files;
    VG_ASSIGN_OR_RETURN(auto container, FromContainer());
    if (container) return *container;
    tried.push_back("container endpoint (AWS_CONTAINER_CREDENTIALS_*_URI unset)");
    VG_ASSIGN_OR_RETURN(auto instance, FromInstance(tried));
    if (instance) return *instance;
    std::string list;
    for (const auto& t : tried) list += (list.empty() ? "" : "; ") + t;
    return FailedPrecondition("no AWS credentials found: tried " + list);
  }

  Result<std::optional<Credentials>> FromEnvironment() {
    const std::string id = EnvValue(o_.env, "AWS_ACCESS_KEY_ID");
    const std::string secret = EnvValue(o_.env, "AWS_SECRET_ACCESS_KEY");
    if (id.empty() && secret.empty()) return std::optional<Credentials>();
    if (id.empty() || secret.empty()) {
      return InvalidArgument(fmt::format(
          "{} is set but {} is not", id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
          id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
    }
    Credentials c;
    c.access_key_id = id;
    c.secret_access_key = secret;
    c.session_token = EnvValue(o_.env, "AWS_SESSION_TOKEN");
    return std::optional<Credentials>(c);
  }

  Result<std::optional<Credentials>> FromSharedFiles(std::vector<std::string>& tried) {
    const std::string chosen = EnvValue(o_.env, "AWS_PROFILE");
    const std::string profile = chosen.empty() ? "default" : chosen;
    const std::string home = EnvValue(o_.env, "HOME");
    std::string credentials_path = EnvValue(o_.env, "AWS_SHARED_CREDENTIALS_FILE");
    std::string config_path = EnvValue(o_.env, "AWS_CONFIG_FILE");
    if (credentials_path.empty() && !home.empty()) credentials_path = home + "/.aws/credentials";
    if (config_path.empty() && !home.empty()) config_path = home + "/.aws/config";

    std::optional<Section> found;
    std::string found_in;
    if (!credentials_path.empty()) {
      VG_ASSIGN_OR_RETURN(auto file, ReadIni(credentials_path, "credentials"));
      if (file && file->contains(profile)) {
        found = (*file)[profile];
        found_in = credentials_path;
      }
    }
    if (!config_path.empty()) {
      VG_ASSIGN_OR_RETURN(auto file, ReadIni(config_path, "config"));
      const std::string section = profile == "default" ? "default" : "profile " + profile;
      if (file && file->contains(section)) {
        // The credentials file wins key by key.
        Section merged = (*file)[section];
        if (found) {
          for (const auto& [k, v] : *found) merged[k] = v;
        } else {
          found_in = config_path;
        }
        found = merged;
      }
    }
    if (!found) {
      if (!chosen.empty()) {
        return InvalidArgument(
            fmt::format("AWS_PROFILE names profile \"{}\", which is in neither {} "
                        "nor {}",
                        profile, credentials_path, config_path));
      }
      tried.push_back(fmt::format("shared files (no profile \"default\" in {} or {})",
                                  credentials_path, config_path));
      return std::optional<Credentials>();
    }
    Credentials c;
    c.access_key_id = (*found)["aws_access_key_id"];
    c.secret_access_key = (*found)["aws_secret_access_key"];
    c.session_token = (*found)["aws_session_token"];
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
      return std::optional<Credentials>(c);
    }
    for (const char* unsupported : {"role_arn", "sso_session", "sso_start_url",
                                    "credential_process", "web_identity_token_file"}) {
      if (found->contains(unsupported)) {
        return InvalidArgument(fmt::format(
            "profile \"{}\" ({}) gets its credentials through {}, which vidgate does not do; give "
            "it "
            "aws_access_key_id and aws_secret_access_key, or run with a container or instance role",
            profile, found_in, unsupported));
      }
    }
    if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
      return InvalidArgument(fmt::format(
          "profile \"{}\" ({}) has only one of aws_access_key_id and aws_secret_access_key",
          profile, found_in));
    }
    if (!chosen.empty()) {
      return InvalidArgument(
          fmt::format("profile \"{}\" ({}) holds no credentials", profile, found_in));
    }
    tried.push_back(
        fmt::format("shared files (profile \"default\" in {} holds no keys)", found_in));
    return std::optional<Credentials>();
  }

  Result<std::optional<Credentials>> FromContainer() {
    const std::string relative = EnvValue(o_.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const std::string full = EnvValue(o_.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    std::string url;
    if (!relative.empty()) {
      url = std::string(kEcsHost) + (relative.starts_with('/') ? "" : "/") + relative;
    } else if (!full.empty()) {
      if (!full.starts_with("https://") &&
          !(full.starts_with("http://") && TrustedPlainHttpHost(full))) {
        return InvalidArgument(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http on a loopback or the "
            "ECS/EKS link-local address");
      }
      url = full;
    } else {
      return std::optional<Credentials>();
    }
    const std::string where = "the container credentials endpoint " + RedactUrl(url);
    net::Request r;
    r.url = url;
    r.display = where;
    r.timeout_seconds = o_.endpoint_timeout_seconds;
    r.connect_timeout_seconds = o_.endpoint_timeout_seconds;
    std::string token;
    if (std::string file = EnvValue(o_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        !file.empty()) {
      // Read on every fetch: EKS rotates it.
      VG_ASSIGN_OR_RETURN(token, ResolveSecret("file:" + file));
    } else {
      token = EnvValue(o_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (!token.empty()) r.headers.emplace_back("Authorization", token);
    Result<Credentials> c = FetchJson(r, where);
    if (!c.ok()) return c.status();
    return std::optional<Credentials>(*c);
  }

  Result<std::optional<Credentials>> FromInstance(std::vector<std::string>& tried) {
    std::string disabled = EnvValue(o_.env, "AWS_EC2_METADATA_DISABLED");
    for (char& ch : disabled) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (disabled == "true") {
      tried.push_back("instance metadata (AWS_EC2_METADATA_DISABLED=true)");
      return std::optional<Credentials>();
    }
    std::string base = EnvValue(o_.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (base.empty()) base = kImdsDefault;
    while (base.ends_with('/')) base.pop_back();
    const std::string where = "the instance metadata service " + RedactUrl(base);
    net::Request put;
    put.method = "PUT";
    put.url = base + "/latest/api/token";
    put.display = where;
    put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    put.timeout_seconds = o_.endpoint_timeout_seconds;
    put.connect_timeout_seconds = o_.endpoint_timeout_seconds;
    Result<net::Response> token = Http().Send(put);
    if (!token.ok()) {
      // Nothing there: not on EC2 (or the hop limit is too low).
      tried.push_back(fmt::format("instance metadata ({})", token.status().message()));
      return std::optional<Credentials>();
    }
    if (token->status != 200) {
      return net::HttpStatus(
          token->status, fmt::format("{} refused a session token: HTTP {}", where, token->status));
    }
    net::Request get = put;
    get.method = "GET";
    get.headers = {{"X-aws-ec2-metadata-token", token->body}};
    get.url = base + "/latest/meta-data/iam/security-credentials/";
    VG_ASSIGN_OR_RETURN(net::Response roles, Http().Send(get));
    if (roles.status == 404) {
      tried.push_back("instance metadata (the instance has no role)");
      return std::optional<Credentials>();
    }
    if (roles.status != 200) {
      return net::HttpStatus(roles.status,
                             fmt::format("{} answered HTTP {} for the role", where, roles.status));
    }
    std::string role = roles.body.substr(0, roles.body.find('\n'));
    while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.pop_back();
    if (role.empty()) return Unavailable(where + " names no role");
    get.url += role;
    Result<Credentials> c = FetchJson(get, where);
    if (!c.ok()) return c.status();
    return std::optional<Credentials>(*c);
  }

  Result<Credentials> FetchJson(const net::Request& r, const std::string& where) {
    VG_ASSIGN_OR_RETURN(net::Response answer, Http().Send(r));
    if (answer.status != 200) {
      return net::HttpStatus(answer.status,
                             fmt::format("{} answered HTTP {}", where, answer.status));
    }
    return FromEndpointJson(answer.body, where);
  }

  net::Client& Http() { return o_.http != nullptr ? *o_.http : own_http_; }

  ChainOptions o_;
  SystemClock system_clock_;
  net::Client own_http_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

class Static final : public CredentialsProvider {
 public:
  explicit Static(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> Get() override { return c_; }

 private:
  Credentials c_;
};

}  // namespace

Environment ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::unique_ptr<CredentialsProvider> DefaultChain(ChainOptions options) {
  return std::make_unique<Chain>(std::move(options));
}

std::unique_ptr<CredentialsProvider> StaticCredentials(Credentials credentials) {
  return std::make_unique<Static>(std::move(credentials));
}

}  // namespace vidgate::aws
