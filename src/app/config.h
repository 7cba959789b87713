// config.h: vidgate's settings, from TOML (ARCHITECTURE.md "Contract:
// configuration"). Every key has a default, so no file is needed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/rendition_encoder.h"
#include "pipeline/alarms.h"
#include "pipeline/near_duplicates.h"
#include "pipeline/trust.h"

namespace vidgate::app {

struct WebhookConfig {
  std::string url;
  std::string secret;  // a spec for ResolveSecret: "env:NAME", "file:PATH" or literal
  double timeout_seconds = 10;
};

struct SnsConfig {
  std::string topic_arn;
  std::string endpoint;
  std::string region;
};

struct Config {
  struct {
    std::string url = "file://./vidgate-data";
    double settle_seconds = 2;
    std::string endpoint;
    std::string region;
    // Unset: path style with an endpoint, virtual-host style on AWS.
    std::optional<bool> path_style;
  } storage;
  struct {
    // Empty = vidgate.db inside a file:// store's folder (the contract's
    // default "sqlite://./vidgate-data/vidgate.db" for the default store).
    std::string url;
    // The PostgreSQL password: "env:NAME", "file:PATH" or literal; empty =
    // from the URL, PGPASSWORD or ~/.pgpass.
    std::string password;
  } database;
  struct {
    double wait_seconds = 60;
    std::vector<std::string> required = {"title"};
  } metadata;
  struct {
    int max_attempts = 5;
    double base_delay_seconds = 30;
    double max_delay_seconds = 3600;
    bool retry_qc_rejections = false;
  } retry;
  struct {
    // What becomes of a video whose bytes were filed before: flag, reject
    // or skip (see pipeline::DedupePolicy).
    std::string policy = "flag";
    // Near duplicates are reported from this share of the shorter video's
    // footage up; 0 = not looked for.
    double similarity = pipeline::kDefaultSimilarity;
  } dedupe;
  struct {
    int count = 0;  // 0 = number of cores
    double lease_seconds = 30;
    double attempt_timeout_seconds = 3600;
  } workers;
  struct {
    std::string sqs_queue_url;
    double poll_seconds = 2;
    bool poll_seconds_given = false;  // in the file (else it follows sqs_queue_url)
    std::string endpoint;
    std::string region;
  } intake;
  struct {
    std::vector<WebhookConfig> webhook;
    std::vector<SnsConfig> sns;
    int delivery_attempts = 12;  // per sink, first one included
    double base_delay_seconds = 1;
    double max_delay_seconds = 60;
  } notify;
  struct {
    std::string preset = "web";
    std::map<std::string, std::string> severity;    // check id -> error|warning|off
    int max_height = 0;                             // 0 = no limit
    double max_duration_seconds = 0;                // 0 = no limit
    std::vector<std::string> allowed_video_codecs;  // empty = any
  } qc;
  struct {
    // [[output.rendition]]; absent = the one default ("main": H.264 CRF 23
    // veryfast, AAC 128 kb/s, at most 1080 lines); `rendition = []` = none.
    std::vector<media::RenditionSpec> rendition = {media::RenditionSpec{}};
    int thumbnails = 4;  // evenly spaced thumbnails besides the poster
    bool sprite = true;  // a sprite sheet of small tiles + WebVTT index
    bool hls = false;
    double hls_segment_seconds = 6;
    // The sound track to keep, by language, in order of preference ("fr",
    // "eng"); empty or no match: libav's best.
    std::vector<std::string> audio_languages;
  } output;
  struct {
    bool emf = false;
  } metrics;
  struct {
    std::string listen = "127.0.0.1:8080";
    // Bearer token for the API ("env:NAME", "file:PATH" or the token); ""
    // = none, and then only a loopback address is served.
    std::string token;
    int64_t max_upload_bytes = int64_t{10} << 30;  // POST /api/videos
  } server;
  // [[alarm]] rules; none by default.
  std::vector<pipeline::AlarmRule> alarm;
  std::string source = "built-in defaults";  // the file read, for messages
};

// Loads the configuration: `path` if given, else $VIDGATE_CONFIG, else
// ./vidgate.toml if present, else the defaults; then applies the environment
// overrides VIDGATE_STORAGE_URL, VIDGATE_DATABASE_URL, VIDGATE_LISTEN.
// kInvalidArgument naming the file and the key for a syntax error, an unknown
// key, a value of the wrong type or out of range; kNotFound for a named file
// that does not exist.
Result<Config> LoadConfig(const std::optional<std::string>& path);

// Parses TOML text (no environment, no files); for tests.
Result<Config> ParseConfig(const std::string& toml_text, const std::string& source);

}  // namespace vidgate::app
