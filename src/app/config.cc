#include "app/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/text.h"
#include "common/util.h"
#include "qc/policy.h"

namespace vidgate::app {
namespace {

// Reads one TOML table, remembering which keys it consumed so that every
// key left over can be reported as unknown, by its dotted path.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, std::string source)
      : table_(table), path_(std::move(path)), source_(std::move(source)) {}

  Status Str(const char* key, std::string& out) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (auto v = n->value<std::string>(); v && n->is_string()) {
      out = *v;
      return Status();
    }
    return TypeError(key, "a string");
  }

  Status Bool(const char* key, bool& out) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (!n->is_boolean()) return TypeError(key, "true or false");
    out = *n->value<bool>();
    return Status();
  }

  // Left unset when the key is absent.
  Status Bool(const char* key, std::optional<bool>& out) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (!n->is_boolean()) return TypeError(key, "true or false");
    out = *n->value<bool>();
    return Status();
  }

  Status Int(const char* key, int& out, int min, int max) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (!n->is_integer()) return TypeError(key, "an integer");
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) return RangeError(key, std::to_string(min), std::to_string(max));
    out = static_cast<int>(v);
    return Status();
  }

  Status Int64(const char* key, int64_t& out, int64_t min, int64_t max) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (!n->is_integer()) return TypeError(key, "an integer");
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) return RangeError(key, std::to_string(min), std::to_string(max));
    out = v;
    return Status();
  }

  // Any number, fractional allowed (every *_seconds key).
  Status Seconds(const char* key, double& out, double min = 0, double max = 1e9) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    if (!n->is_number()) return TypeError(key, "a number of seconds");
    double v = n->is_integer() ? static_cast<double>(*n->value<int64_t>()) : *n->value<double>();
    if (!(v >= min) || v > max) {
      return RangeError(key, fmt::format("{:g}", min),
                        max == 1e9 ? std::string("1e9") : fmt::format("{:g}", max));
    }
    out = v;
    return Status();
  }

  // Any finite number (`present` says whether the key was there).
  Status Number(const char* key, double& out, bool& present) {
    const toml::node* n = Take(key);
    present = n != nullptr;
    if (!n) return Status();
    if (!n->is_number()) return TypeError(key, "a number");
    double v = n->is_integer() ? static_cast<double>(*n->value<int64_t>()) : *n->value<double>();
    if (!std::isfinite(v)) return TypeError(key, "a finite number");
    out = v;
    return Status();
  }

  Status StrList(const char* key, std::vector<std::string>& out) {
    const toml::node* n = Take(key);
    if (!n) return Status();
    const toml::array* arr = n->as_array();
    if (!arr) return TypeError(key, "an array of strings");
    std::vector<std::string> values;
    for (const toml::node& item : *arr) {
      if (!item.is_string()) return TypeError(key, "an array of strings");
      values.push_back(*item.value<std::string>());
    }
    out = std::move(values);
    return Status();
  }

  // A sub-table; nullptr when absent. kInvalidArgument when not a table.
  Result<const toml::table*> Table(const char* key) {
    const toml::node* n = Take(key);
    if (!n) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return TypeError(key, "a table ([" + Dotted(key) + "])");
    return n->as_table();
  }

  // An array of tables ([[key]]); empty when absent (`*present` says which).
  Result<std::vector<const toml::table*>> TableArray(const char* key, bool* present = nullptr) {
    std::vector<const toml::table*> out;
    const toml::node* n = Take(key);
    if (present) *present = n != nullptr;
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) return TypeError(key, "an array of tables ([[" + Dotted(key) + "]])");
    for (const toml::node& item : *arr) {
      if (!item.is_table()) return TypeError(key, "an array of tables ([[" + Dotted(key) + "]])");
      out.push_back(item.as_table());
    }
    return out;
  }

  Status Finish() const {
    for (const auto& [k, v] : table_) {
      std::string key(k.str());
      if (!seen_.contains(key)) {
        return InvalidArgument("config " + source_ + ": unknown key '" + Dotted(key) + "'");
      }
    }
    return Status();
  }

  std::string Dotted(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

 private:
  const toml::node* Take(const char* key) {
    seen_.insert(key);
    return table_.get(key);
  }
  Status TypeError(const std::string& key, const std::string& expected) const {
    return InvalidArgument("config " + source_ + ": '" + Dotted(key) + "' must be " + expected);
  }
  Status RangeError(const std::string& key, const std::string& min, const std::string& max) const {
    return InvalidArgument("config " + source_ + ": '" + Dotted(key) + "' must be between " + min +
                           " and " + max);
  }

  const toml::table& table_;
  std::string path_;
  std::string source_;
  std::set<std::string> seen_;
};

// Runs `fn` on the sub-table `key` of `parent` if present, then checks it for
// unknown keys.
template <typename Fn>
Status WithTable(TableReader& parent, const char* key, const std::string& source, Fn fn) {
  VG_ASSIGN_OR_RETURN(const toml::table* t, parent.Table(key));
  if (!t) return Status();
  TableReader r(*t, parent.Dotted(key), source);
  VG_RETURN_IF_ERROR(fn(r));
  return r.Finish();
}

// One [[alarm]] rule: name, metric and above are required.
Result<pipeline::AlarmRule> ReadAlarm(const toml::table& table, const std::string& where,
                                      const std::string& source) {
  TableReader t(table, where, source);
  pipeline::AlarmRule rule;
  auto invalid = [&](const std::string& key, const std::string& what) {
    return InvalidArgument("config " + source + ": '" + where + "." + key + "' " + what);
  };
  VG_RETURN_IF_ERROR(t.Str("name", rule.name));
  const bool name_ok = !rule.name.empty() && rule.name.size() <= 64 &&
                       std::all_of(rule.name.begin(), rule.name.end(), [](unsigned char ch) {
                         return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.';
                       });
  if (!name_ok) {
    return invalid("name", "is required: 1 to 64 letters, digits, '-', '_' or '.'");
  }
  std::string metric;
  VG_RETURN_IF_ERROR(t.Str("metric", metric));
  auto parsed = pipeline::ParseAlarmMetric(metric);
  if (!parsed) return invalid("metric", "must be one of " + pipeline::AlarmMetricNames());
  rule.metric = *parsed;
  bool has_above = false;
  VG_RETURN_IF_ERROR(t.Number("above", rule.above, has_above));
  if (!has_above)
    return invalid("above", "is required (the rule fires while the value is above it)");
  VG_RETURN_IF_ERROR(t.Seconds("window_seconds", rule.window_seconds, 1));
  VG_RETURN_IF_ERROR(t.Seconds("interval_seconds", rule.interval_seconds, 0.1));
  VG_RETURN_IF_ERROR(t.Str("severity", rule.severity));
  if (rule.severity != "warning" && rule.severity != "critical") {
    return invalid("severity", "must be warning or critical");
  }
  VG_RETURN_IF_ERROR(t.Finish());
  return rule;
}

Status ReadRoot(const toml::table& root, const std::string& source, Config& c) {
  TableReader r(root, "", source);
  VG_RETURN_IF_ERROR(WithTable(r, "storage", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Str("url", c.storage.url));
    VG_RETURN_IF_ERROR(t.Seconds("settle_seconds", c.storage.settle_seconds));
    VG_RETURN_IF_ERROR(t.Str("endpoint", c.storage.endpoint));
    VG_RETURN_IF_ERROR(t.Str("region", c.storage.region));
    return t.Bool("path_style", c.storage.path_style);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "database", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Str("url", c.database.url));
    return t.Str("password", c.database.password);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "metadata", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Seconds("wait_seconds", c.metadata.wait_seconds));
    return t.StrList("required", c.metadata.required);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "retry", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Int("max_attempts", c.retry.max_attempts, 1, 1000));
    VG_RETURN_IF_ERROR(t.Seconds("base_delay_seconds", c.retry.base_delay_seconds));
    VG_RETURN_IF_ERROR(t.Seconds("max_delay_seconds", c.retry.max_delay_seconds));
    return t.Bool("retry_qc_rejections", c.retry.retry_qc_rejections);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "dedupe", source, [&](TableReader& t) -> Status {
    VG_RETURN_IF_ERROR(t.Str("policy", c.dedupe.policy));
    if (auto policy = pipeline::ParseDedupePolicy(c.dedupe.policy); !policy.ok()) {
      return InvalidArgument("config " + source + ": '" + "dedupe.policy' must be \"flag\", " +
                             "\"reject\" or \"skip\"");
    }
    bool given = false;
    VG_RETURN_IF_ERROR(t.Number("similarity", c.dedupe.similarity, given));
    if (c.dedupe.similarity < 0 || c.dedupe.similarity > 1) {
      return InvalidArgument("config " + source +
                             ": 'dedupe.similarity' must be between 0 (off) and 1");
    }
    return Status();
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "workers", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Int("count", c.workers.count, 0, 1024));
    VG_RETURN_IF_ERROR(t.Seconds("lease_seconds", c.workers.lease_seconds, 0.1));
    return t.Seconds("attempt_timeout_seconds", c.workers.attempt_timeout_seconds, 0.1);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "intake", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Str("sqs_queue_url", c.intake.sqs_queue_url));
    double poll = -1;  // absent: 2 s, or 300 s when a queue brings the news
    VG_RETURN_IF_ERROR(t.Seconds("poll_seconds", poll, 0.01));
    c.intake.poll_seconds_given = poll >= 0;
    c.intake.poll_seconds = poll >= 0 ? poll : c.intake.sqs_queue_url.empty() ? 2 : 300;
    VG_RETURN_IF_ERROR(t.Str("endpoint", c.intake.endpoint));
    return t.Str("region", c.intake.region);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "notify", source, [&](TableReader& t) -> Status {
    VG_ASSIGN_OR_RETURN(auto hooks, t.TableArray("webhook"));
    for (size_t i = 0; i < hooks.size(); ++i) {
      TableReader h(*hooks[i], "notify.webhook[" + std::to_string(i) + "]", source);
      WebhookConfig w;
      VG_RETURN_IF_ERROR(h.Str("url", w.url));
      VG_RETURN_IF_ERROR(h.Str("secret", w.secret));
      VG_RETURN_IF_ERROR(h.Seconds("timeout_seconds", w.timeout_seconds, 0.01));
      VG_RETURN_IF_ERROR(h.Finish());
      if (w.url.empty()) {
        return InvalidArgument("config " + source + ": 'notify.webhook[" + std::to_string(i) +
                               "].url' is required");
      }
      c.notify.webhook.push_back(std::move(w));
    }
    VG_ASSIGN_OR_RETURN(auto topics, t.TableArray("sns"));
    for (size_t i = 0; i < topics.size(); ++i) {
      TableReader s(*topics[i], "notify.sns[" + std::to_string(i) + "]", source);
      SnsConfig sns;
      VG_RETURN_IF_ERROR(s.Str("topic_arn", sns.topic_arn));
      VG_RETURN_IF_ERROR(s.Str("endpoint", sns.endpoint));
      VG_RETURN_IF_ERROR(s.Str("region", sns.region));
      VG_RETURN_IF_ERROR(s.Finish());
      c.notify.sns.push_back(std::move(sns));
    }
    VG_RETURN_IF_ERROR(t.Int("delivery_attempts", c.notify.delivery_attempts, 1, 1000));
    VG_RETURN_IF_ERROR(t.Seconds("base_delay_seconds", c.notify.base_delay_seconds));
    return t.Seconds("max_delay_seconds", c.notify.max_delay_seconds);
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "qc", source, [&](TableReader& t) -> Status {
    VG_RETURN_IF_ERROR(t.Str("preset", c.qc.preset));
    VG_RETURN_IF_ERROR(t.Int("max_height", c.qc.max_height, 0, 100000));
    VG_RETURN_IF_ERROR(t.Seconds("max_duration_seconds", c.qc.max_duration_seconds));
    VG_RETURN_IF_ERROR(t.StrList("allowed_video_codecs", c.qc.allowed_video_codecs));
    VG_ASSIGN_OR_RETURN(const toml::table* sev, t.Table("severity"));
    if (sev) {
      for (const auto& [k, v] : *sev) {
        std::string key = "qc.severity." + std::string(k.str());
        if (!v.is_string()) {
          return InvalidArgument("config " + source + ": '" + key +
                                 "' must be \"error\", \"warning\" or \"off\"");
        }
        c.qc.severity[std::string(k.str())] = *v.value<std::string>();
      }
    }
    // Checked here so that a typo is a config error naming the key.
    auto policy = qc::MakePolicy(c.qc.preset, c.qc.severity);
    if (!policy.ok()) {
      return InvalidArgument("config " + source + ": [qc]: " + policy.status().message());
    }
    return Status();
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "output", source, [&](TableReader& t) -> Status {
    bool present = false;
    VG_ASSIGN_OR_RETURN(auto specs, t.TableArray("rendition", &present));
    if (present) c.output.rendition.clear();
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string where = "output.rendition[" + std::to_string(i) + "]";
      TableReader rr(*specs[i], where, source);
      media::RenditionSpec spec;
      spec.name.clear();
      VG_RETURN_IF_ERROR(rr.Str("name", spec.name));
      VG_RETURN_IF_ERROR(rr.Str("codec", spec.codec));
      VG_RETURN_IF_ERROR(rr.Int("height", spec.max_height, 16, 4320));
      VG_RETURN_IF_ERROR(rr.Int("crf", spec.crf, 0, 63));
      VG_RETURN_IF_ERROR(rr.Int64("bitrate", spec.bitrate, 0, 1'000'000'000));
      VG_RETURN_IF_ERROR(rr.Str("preset", spec.preset));
      VG_RETURN_IF_ERROR(rr.Str("audio_codec", spec.audio_codec));
      VG_RETURN_IF_ERROR(rr.Int64("audio_bitrate", spec.audio_bitrate, 6000, 512000));
      double target = 0;
      bool has_target = false;
      VG_RETURN_IF_ERROR(rr.Number("loudness_target", target, has_target));
      if (has_target) spec.loudness_target = target;
      bool has_limit = false;
      VG_RETURN_IF_ERROR(rr.Number("true_peak_limit", spec.true_peak_limit, has_limit));
      VG_RETURN_IF_ERROR(rr.Str("dynamic_range", spec.dynamic_range));
      double min_ssim = 0;
      bool has_min_ssim = false;
      VG_RETURN_IF_ERROR(rr.Number("min_ssim", min_ssim, has_min_ssim));
      if (has_min_ssim) spec.min_ssim = min_ssim;
      VG_RETURN_IF_ERROR(rr.Bool("quality_figures", spec.quality_figures));
      VG_RETURN_IF_ERROR(rr.Str("audio_tracks", spec.audio_tracks));
      VG_RETURN_IF_ERROR(rr.Finish());
      if (spec.name.empty()) {
        return InvalidArgument("config " + source + ": '" + where + ".name' is required");
      }
      if (Status s = media::CheckRenditionSpec(spec); !s.ok()) {
        return InvalidArgument("config " + source + ": [[output.rendition]] " + s.message());
      }
      for (const auto& other : c.output.rendition) {
        if (other.name == spec.name) {
          return InvalidArgument("config " + source + ": two renditions are named '" + spec.name +
                                 "'");
        }
      }
      c.output.rendition.push_back(std::move(spec));
    }
    VG_RETURN_IF_ERROR(t.Int("thumbnails", c.output.thumbnails, 0, 1000));
    VG_RETURN_IF_ERROR(t.Bool("sprite", c.output.sprite));
    VG_RETURN_IF_ERROR(t.Bool("hls", c.output.hls));
    VG_RETURN_IF_ERROR(t.Seconds("hls_segment_seconds", c.output.hls_segment_seconds, 1, 60));
    VG_RETURN_IF_ERROR(t.StrList("audio_languages", c.output.audio_languages));
    for (const auto& tag : c.output.audio_languages) {
      const bool plain =
          !tag.empty() && tag.size() <= 16 && std::all_of(tag.begin(), tag.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-';
          });
      if (!plain) {
        return InvalidArgument("config " + source + ": 'output.audio_languages' holds '" +
                               Printable(tag) +
                               "', not a language tag (letters, digits and '-', e.g. \"en\" or "
                               "\"fre\")");
      }
    }
    if (c.output.hls && c.output.rendition.empty()) {
      return InvalidArgument("config " + source +
                             ": 'output.hls' is on but there is no [[output.rendition]] to stream");
    }
    return Status();
  }));
  VG_RETURN_IF_ERROR(WithTable(r, "metrics", source,
                               [&](TableReader& t) { return t.Bool("emf", c.metrics.emf); }));
  VG_RETURN_IF_ERROR(WithTable(r, "server", source, [&](TableReader& t) {
    VG_RETURN_IF_ERROR(t.Str("listen", c.server.listen));
    VG_RETURN_IF_ERROR(t.Str("token", c.server.token));
    return t.Int64("max_upload_bytes", c.server.max_upload_bytes, 1, int64_t{5} << 40);
  }));
  VG_ASSIGN_OR_RETURN(auto alarms, r.TableArray("alarm"));
  for (size_t i = 0; i < alarms.size(); ++i) {
    VG_ASSIGN_OR_RETURN(auto rule,
                        ReadAlarm(*alarms[i], "alarm[" + std::to_string(i) + "]", source));
    for (const auto& other : c.alarm) {
      if (other.name == rule.name) {
        return InvalidArgument("config " + source + ": two [[alarm]] rules are named '" +
                               rule.name + "'");
      }
    }
    c.alarm.push_back(std::move(rule));
  }
  return r.Finish();
}

// Rejects settings this build cannot honour yet, instead of ignoring them.
Status CheckSupported(const Config& c) {
  if (!c.intake.sqs_queue_url.empty()) {
    const std::string& q = c.intake.sqs_queue_url;
    const bool web = q.starts_with("https://") || q.starts_with("http://");
    const size_t host_end = web ? q.find('/', q.find("://") + 3) : std::string::npos;
    if (!web || host_end == std::string::npos || q.ends_with('/') ||
        q.find_first_of(" \t\r\n") != std::string::npos) {
      return InvalidArgument(
          "config " + c.source + ": 'intake.sqs_queue_url' '" + q +
          "' is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
    }
    if (!c.storage.url.starts_with("s3://")) {
      return InvalidArgument("config " + c.source +
                             ": 'intake.sqs_queue_url' brings S3 event notifications, so "
                             "'storage.url' must be an s3:// store");
    }
  }
  if (!c.intake.endpoint.empty() && !c.intake.endpoint.starts_with("http://") &&
      !c.intake.endpoint.starts_with("https://")) {
    return InvalidArgument("config " + c.source + ": 'intake.endpoint' '" + c.intake.endpoint +
                           "' must start with http:// or https://");
  }
  for (size_t i = 0; i < c.notify.sns.size(); ++i) {
    const SnsConfig& sns = c.notify.sns[i];
    for (size_t j = 0; j < i; ++j) {
      if (c.notify.sns[j].topic_arn == sns.topic_arn) {
        return InvalidArgument("config " + c.source + ": 'notify.sns[" + std::to_string(i) +
                               "].topic_arn' repeats notify.sns[" + std::to_string(j) +
                               "]'s: each event would be published twice");
      }
    }
    const std::string where = "config " + c.source + ": 'notify.sns[" + std::to_string(i) + "].";
    if (!sns.topic_arn.starts_with("arn:") || sns.topic_arn.find(":sns:") == std::string::npos) {
      return InvalidArgument(where + "topic_arn' '" + sns.topic_arn +
                             "' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
    }
    if (!sns.endpoint.empty() && !sns.endpoint.starts_with("http://") &&
        !sns.endpoint.starts_with("https://")) {
      return InvalidArgument(where + "endpoint' '" + sns.endpoint +
                             "' must start with http:// or https://");
    }
  }
  if (c.retry.max_delay_seconds < c.retry.base_delay_seconds) {
    return InvalidArgument("config " + c.source +
                           ": 'retry.max_delay_seconds' must not be below "
                           "'retry.base_delay_seconds'");
  }
  return Status();
}

// A SQLite catalog inside one of the store's four folders would be taken
// for uploads (or moved with a video): refuse it, naming both keys.
Status CheckCatalogOutsideTheFolders(const Config& c) {
  namespace fs = std::filesystem;
  std::string store = c.storage.url;
  if (store.starts_with("file://")) {
    store = store.substr(7);
  } else if (store.find("://") != std::string::npos) {
    return Status();
  }
  if (!c.database.url.starts_with("sqlite://")) return Status();
  std::error_code ec;
  const fs::path db = fs::weakly_canonical(fs::absolute(c.database.url.substr(9)), ec);
  if (ec) return Status();
  const fs::path root = fs::weakly_canonical(fs::absolute(store), ec);
  if (ec) return Status();
  for (const char* folder : {"uploads", "failed", "processed", "unable_to_process"}) {
    const fs::path inside = root / folder;
    auto [end, _] = std::mismatch(inside.begin(), inside.end(), db.begin(), db.end());
    if (end == inside.end()) {
      return InvalidArgument("config " + c.source + ": 'database.url' (" + db.string() +
                             ") lies inside the store's " + folder +
                             "/ folder, where vidgate would take it for a video; put the "
                             "catalog elsewhere, e.g. " +
                             (root / "vidgate.db").string());
    }
  }
  return Status();
}

}  // namespace

Result<Config> ParseConfig(const std::string& toml_text, const std::string& source) {
  Config c;
  c.source = source;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return InvalidArgument("config " + source + " line " + std::to_string(where.line) +
                           ", column " + std::to_string(where.column) + ": " +
                           std::string(e.description()));
  }
  VG_RETURN_IF_ERROR(ReadRoot(root, source, c));
  VG_RETURN_IF_ERROR(CheckSupported(c));
  return c;
}

// The environment's say on the AWS keys, as a container or a function is
// configured (no file to mount there): checked like the file's.
static Status ApplyAwsOverrides(Config& c) {
  bool changed = false;
  if (const char* v = std::getenv("VIDGATE_SQS_QUEUE_URL"); v && *v) {
    c.intake.sqs_queue_url = v;
    if (!c.intake.poll_seconds_given) c.intake.poll_seconds = 300;
    changed = true;
  }
  if (const char* v = std::getenv("VIDGATE_SNS_TOPIC_ARN"); v && *v) {
    const bool known = std::any_of(c.notify.sns.begin(), c.notify.sns.end(),
                                   [&](const SnsConfig& s) { return s.topic_arn == v; });
    if (!known) c.notify.sns.push_back(SnsConfig{v, "", ""});
    changed = true;
  }
  if (const char* v = std::getenv("VIDGATE_METRICS_EMF"); v && *v) {
    const std::string_view value = v;
    if (value == "true" || value == "1") {
      c.metrics.emf = true;
    } else if (value == "false" || value == "0") {
      c.metrics.emf = false;
    } else {
      return InvalidArgument("environment variable VIDGATE_METRICS_EMF is '" + std::string(value) +
                             "': it must be true, false, 1 or 0");
    }
  }
  if (!changed) return Status();
  c.source += " and the environment";
  return CheckSupported(c);
}

Result<Config> LoadConfig(const std::optional<std::string>& path) {
  std::optional<std::string> file = path;
  if (!file) {
    if (const char* env = std::getenv("VIDGATE_CONFIG"); env && *env) file = env;
  }
  if (!file && std::filesystem::exists("vidgate.toml")) file = "vidgate.toml";
  Config c;
  if (file) {
    std::error_code ec;
    if (!std::filesystem::exists(*file, ec)) {
      return NotFound("config file '" + *file + "' does not exist");
    }
    VG_ASSIGN_OR_RETURN(std::string text, ReadLocalFile(*file, "read config file"));
    VG_ASSIGN_OR_RETURN(c, ParseConfig(text, "'" + *file + "'"));
  }
  if (const char* v = std::getenv("VIDGATE_STORAGE_URL"); v && *v) c.storage.url = v;
  if (const char* v = std::getenv("VIDGATE_DATABASE_URL"); v && *v) c.database.url = v;
  if (const char* v = std::getenv("VIDGATE_LISTEN"); v && *v) c.server.listen = v;
  if (const char* v = std::getenv("VIDGATE_DATABASE_PASSWORD"); v && *v) c.database.password = v;
  VG_RETURN_IF_ERROR(ApplyAwsOverrides(c));
  if (c.database.url.empty()) {
    std::string root = c.storage.url;
    if (root.starts_with("file://")) {
      root = root.substr(7);
    } else if (root.find("://") != std::string::npos) {
      return InvalidArgument("config " + c.source +
                             ": 'database.url' must be set when the store is not a file:// folder");
    }
    c.database.url = "sqlite://" + (std::filesystem::path(root) / "vidgate.db").string();
  }
  VG_RETURN_IF_ERROR(CheckCatalogOutsideTheFolders(c));
  return c;
}

}  // namespace vidgate::app
