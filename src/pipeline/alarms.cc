#include "pipeline/alarms.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/util.h"

namespace vidgate::pipeline {
namespace {

constexpr std::array<std::pair<AlarmMetric, std::string_view>, 9> kMetricNames = {{
    {AlarmMetric::kUnableToProcess, "unable_to_process"},
    {AlarmMetric::kRejected, "rejected"},
    {AlarmMetric::kFailedAttempts, "failed_attempts"},
    {AlarmMetric::kFailureRatio, "failure_ratio"},
    {AlarmMetric::kMissingMetadata, "metadata_missing"},
    {AlarmMetric::kInvalidMetadata, "metadata_invalid"},
    {AlarmMetric::kOldestQueuedSeconds, "oldest_queued_seconds"},
    {AlarmMetric::kOutboxBacklog, "outbox_backlog"},
    {AlarmMetric::kAwaitingMetadata, "awaiting_metadata"},
}};

int64_t CountOf(const std::map<std::string, int64_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace

std::string_view AlarmMetricName(AlarmMetric metric) {
  for (const auto& [m, name] : kMetricNames) {
    if (m == metric) return name;
  }
  return "unknown";
}

std::optional<AlarmMetric> ParseAlarmMetric(std::string_view name) {
  for (const auto& [m, n] : kMetricNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

std::string AlarmMetricNames() {
  std::string out;
  for (const auto& [m, name] : kMetricNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool IsWindowed(AlarmMetric metric) {
  switch (metric) {
    case AlarmMetric::kOldestQueuedSeconds:
    case AlarmMetric::kOutboxBacklog:
    case AlarmMetric::kAwaitingMetadata:
      return false;
    default:
      return true;
  }
}

WindowFigures FiguresOf(const catalog::FleetStats& stats) {
  WindowFigures f;
  f.processed = CountOf(stats.attempts, "succeeded");
  f.rejected = CountOf(stats.attempts, "rejected");
  f.failed_attempts = CountOf(stats.attempts, "failed") + CountOf(stats.attempts, "interrupted");
  f.unable_to_process = CountOf(stats.events, std::string(kVideoUnable));
  f.metadata_missing = CountOf(stats.events, std::string(kMetadataMissing));
  f.metadata_invalid = CountOf(stats.events, std::string(kMetadataInvalid));
  const int64_t finished = f.processed + f.rejected + f.failed_attempts;
  f.failure_ratio =
      finished == 0 ? 0.0 : static_cast<double>(f.failed_attempts) / static_cast<double>(finished);
  return f;
}

double ValueOf(const catalog::FleetStats& stats, AlarmMetric metric) {
  const WindowFigures f = FiguresOf(stats);
  switch (metric) {
    case AlarmMetric::kUnableToProcess:
      return static_cast<double>(f.unable_to_process);
    case AlarmMetric::kRejected:
      return static_cast<double>(f.rejected);
    case AlarmMetric::kFailedAttempts:
      return static_cast<double>(f.failed_attempts);
    case AlarmMetric::kFailureRatio:
      return f.failure_ratio;
    case AlarmMetric::kMissingMetadata:
      return static_cast<double>(f.metadata_missing);
    case AlarmMetric::kInvalidMetadata:
      return static_cast<double>(f.metadata_invalid);
    case AlarmMetric::kOldestQueuedSeconds:
      return stats.oldest_queued_seconds;
    case AlarmMetric::kOutboxBacklog:
      return static_cast<double>(stats.outbox_backlog);
    case AlarmMetric::kAwaitingMetadata:
      return static_cast<double>(stats.Count(catalog::State::kAwaitingMetadata));
  }
  return 0;
}

nlohmann::json AlarmRule::Describe() const {
  nlohmann::json rule = {{"name", name},
                         {"metric", std::string(AlarmMetricName(metric))},
                         {"above", above},
                         {"severity", severity}};
  if (IsWindowed(metric)) rule["window_seconds"] = window_seconds;
  return rule;
}

AlarmEvaluator::AlarmEvaluator(catalog::Catalog* catalog, const EventFactory* events,
                               const Clock* clock, Observer* observer, spdlog::logger* log,
                               std::vector<AlarmRule> rules, AlarmOptions options)
    : catalog_(catalog),
      events_(events),
      clock_(clock),
      observer_(observer),
      log_(log),
      rules_(std::move(rules)),
      options_(options) {}

Result<int> AlarmEvaluator::EvaluateDue() {
  const double now = clock_->Now();
  std::vector<const AlarmRule*> due;
  for (const auto& rule : rules_) {
    auto it = next_due_.find(rule.name);
    if (it == next_due_.end() || it->second <= now) {
      due.push_back(&rule);
      next_due_[rule.name] = now + rule.interval_seconds;
    }
  }
  if (!due.empty()) {
    next_orphan_check_ = now + kOrphanCheckSeconds;
    return Evaluate(due);  // orphans included
  }
  // Orphans are looked for even with no rule at all: the config that took
  // the last rule out must still see its alarm resolved.
  if (now < next_orphan_check_) return 0;
  next_orphan_check_ = now + kOrphanCheckSeconds;
  VG_ASSIGN_OR_RETURN(auto records, catalog_->Alarms());
  return ResolveOrphans(records, now);
}

double AlarmEvaluator::SecondsUntilDue() const {
  const double now = clock_->Now();
  double until = std::max(0.0, next_orphan_check_ - now);
  for (const auto& rule : rules_) {
    auto it = next_due_.find(rule.name);
    until = std::min(until, it == next_due_.end() ? 0.0 : std::max(0.0, it->second - now));
  }
  return until;
}

Result<int> AlarmEvaluator::EvaluateAll() {
  std::vector<const AlarmRule*> all;
  for (const auto& rule : rules_) all.push_back(&rule);
  return Evaluate(all);
}

catalog::OutboxEvent AlarmEvaluator::MakeEvent(bool firing, const std::string& name, double value,
                                               const nlohmann::json& rule, double since,
                                               double now) const {
  // The contract's video_id, name, state and attempts are in every event's
  // data; an alarm is about no video.
  nlohmann::json data = {{"video_id", nullptr},
                         {"name", name},
                         {"state", firing ? "firing" : "resolved"},
                         {"attempts", 0},
                         {"alarm", rule},
                         {"value", value},
                         {"since", FormatTime(since)}};
  if (!firing) data["fired_seconds"] = std::max(0.0, now - since);
  return events_->MakeOther(firing ? kAlarmTriggered : kAlarmResolved, "alarm/" + name,
                            std::move(data), now);
}

Result<int> AlarmEvaluator::Evaluate(const std::vector<const AlarmRule*>& rules) {
  const double now = clock_->Now();
  VG_ASSIGN_OR_RETURN(auto records, catalog_->Alarms());
  auto record_of = [&records](const std::string& name) -> const catalog::AlarmRecord* {
    for (const auto& r : records) {
      if (r.name == name) return &r;
    }
    return nullptr;
  };
  // One reading of the catalog per window length the due rules use.
  std::map<double, catalog::FleetStats> stats;
  int queued = 0;
  for (const AlarmRule* rule : rules) {
    const double window = IsWindowed(rule->metric) ? rule->window_seconds : 0;
    auto it = stats.find(window);
    if (it == stats.end()) {
      VG_ASSIGN_OR_RETURN(auto s, catalog_->Stats(now, window));
      it = stats.emplace(window, std::move(s)).first;
    }
    const double value = ValueOf(it->second, rule->metric);
    const bool firing = value > rule->above;
    const catalog::AlarmRecord* record = record_of(rule->name);
    const bool recorded_firing = record != nullptr && record->firing;
    // A quiet rule costs no write; a firing one is checked in (its figure and
    // the time, which keeps it from being taken for an orphan).
    if (!firing && !recorded_firing) continue;
    const nlohmann::json detail = rule->Describe();
    const double since = firing || record == nullptr ? now : record->since;
    VG_ASSIGN_OR_RETURN(
        bool changed,
        catalog_->SetAlarm(rule->name, firing, value, detail,
                           MakeEvent(firing, rule->name, value, detail, since, now), now));
    if (!changed) continue;
    ++queued;
    if (observer_ != nullptr) observer_->EventRecorded(firing ? kAlarmTriggered : kAlarmResolved);
    log_->warn("alarm {} {}: {} = {} (above {})", rule->name, firing ? "triggered" : "resolved",
               AlarmMetricName(rule->metric), value, rule->above);
  }
  // Rules this process has are not orphans, so the reading above serves.
  VG_ASSIGN_OR_RETURN(int orphans, ResolveOrphans(records, now));
  return queued + orphans;
}

Result<int> AlarmEvaluator::ResolveOrphans(const std::vector<catalog::AlarmRecord>& records,
                                           double now) {
  int queued = 0;
  for (const auto& r : records) {
    if (!r.firing || now - r.checked_at < options_.orphan_after_seconds) continue;
    const bool known = std::any_of(rules_.begin(), rules_.end(),
                                   [&r](const AlarmRule& rule) { return rule.name == r.name; });
    if (known) continue;
    VG_ASSIGN_OR_RETURN(
        bool changed,
        catalog_->SetAlarm(r.name, false, r.value, r.detail,
                           MakeEvent(false, r.name, r.value, r.detail, r.since, now), now));
    if (!changed) continue;
    ++queued;
    if (observer_ != nullptr) observer_->EventRecorded(kAlarmResolved);
    log_->warn("alarm {} resolved: no process has its rule any more", r.name);
  }
  return queued;
}

}  // namespace vidgate::pipeline
