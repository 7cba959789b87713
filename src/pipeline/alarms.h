// alarms.h: `[[alarm]]` rules over the fleet's figures (the catalog's, so
// every process computes the same), evaluated periodically by every
// process; a change is sent once across the fleet (Catalog::SetAlarm).
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "pipeline/events.h"
#include "pipeline/observer.h"

namespace vidgate::pipeline {

inline constexpr std::string_view kAlarmTriggered = "vidgate.alarm.triggered";
inline constexpr std::string_view kAlarmResolved = "vidgate.alarm.resolved";

// What a rule watches. Counts and the ratio are over the rule's window;
// the rest are the fleet's state at the moment.
enum class AlarmMetric {
  kUnableToProcess,      // videos set aside (events in the window)
  kRejected,             // QC rejections (attempts in the window)
  kFailedAttempts,       // attempts failed or interrupted (in the window)
  kFailureRatio,         // failed attempts / attempts finished (0 with none)
  kMissingMetadata,      // metadata.missing notices (in the window)
  kInvalidMetadata,      // metadata.invalid notices (in the window)
  kOldestQueuedSeconds,  // how long the job due first has waited unclaimed
  kOutboxBacklog,        // notifications not yet delivered nor given up
  kAwaitingMetadata,     // videos waiting for their sidecar
};

// The names used in the config, the API and the events.
std::string_view AlarmMetricName(AlarmMetric metric);
std::optional<AlarmMetric> ParseAlarmMetric(std::string_view name);
// Every name, for messages: "unable_to_process, rejected, ...".
std::string AlarmMetricNames();
bool IsWindowed(AlarmMetric metric);

// The figures of a window, as /api/stats and the alarms define them.
struct WindowFigures {
  int64_t processed = 0;
  int64_t rejected = 0;
  int64_t failed_attempts = 0;  // failed or interrupted
  int64_t unable_to_process = 0;
  int64_t metadata_missing = 0;
  int64_t metadata_invalid = 0;
  double failure_ratio = 0;  // failed / (processed + rejected + failed); 0 with none
};
WindowFigures FiguresOf(const catalog::FleetStats& stats);
double ValueOf(const catalog::FleetStats& stats, AlarmMetric metric);

struct AlarmRule {
  std::string name;  // unique; [a-z0-9_-], as in the events' subject
  AlarmMetric metric = AlarmMetric::kUnableToProcess;
  double above = 0;                  // fires while the value is above this
  double window_seconds = 900;       // for the windowed metrics
  std::string severity = "warning";  // warning or critical: for people
  double interval_seconds = 30;      // how often it is evaluated
  nlohmann::json Describe() const;   // the rule, as the API and events show it
};

struct AlarmOptions {
  // A firing alarm whose rule no process has anymore is resolved once no
  // process has checked it for this long (a fleet mid-deploy, where only
  // some processes know a new rule, does not flap).
  double orphan_after_seconds = 900;
};

class AlarmEvaluator {
 public:
  AlarmEvaluator(catalog::Catalog* catalog, const EventFactory* events, const Clock* clock,
                 Observer* observer, spdlog::logger* log, std::vector<AlarmRule> rules,
                 AlarmOptions options = {});

  // Evaluates the rules that are due; returns the events queued (changes
  // this process was the one to record). Quick when nothing is due.
  Result<int> EvaluateDue();
  // How long until a rule is due (0 before the first evaluation; a day
  // with no rules).
  double SecondsUntilDue() const;
  // Evaluates every rule now (tests, Lambda's scheduled sweep).
  Result<int> EvaluateAll();

 private:
  Result<int> Evaluate(const std::vector<const AlarmRule*>& rules);
  Result<int> ResolveOrphans(const std::vector<catalog::AlarmRecord>& records, double now);
  catalog::OutboxEvent MakeEvent(bool firing, const std::string& name, double value,
                                 const nlohmann::json& rule, double since, double now) const;

  catalog::Catalog* catalog_;
  const EventFactory* events_;
  const Clock* clock_;
  Observer* observer_;
  spdlog::logger* log_;
  std::vector<AlarmRule> rules_;
  AlarmOptions options_;
  std::map<std::string, double> next_due_;  // by rule name
  // Firing alarms without a rule are looked for this often (and at once).
  static constexpr double kOrphanCheckSeconds = 60;
  double next_orphan_check_ = 0;
};

}  // namespace vidgate::pipeline
