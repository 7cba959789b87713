// alarms_test.cc: rules over the catalog's figures, sent once per change
// across processes, on their interval, and orphans resolved.
#include "pipeline/alarms.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/log.h"
#include "common/util.h"

namespace vidgate::pipeline {
namespace {

class AlarmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vidgate-alarms-test-" + NewUuid());
    catalog_ = OpenCatalog();
    ASSERT_TRUE(catalog_->Migrate().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<catalog::Catalog> OpenCatalog() {
    return std::move(catalog::Open("sqlite://" + (dir_ / "c.db").string())).value();
  }

  // A video set aside now: one unable_to_process event in the outbox.
  void SetAside(const std::string& name) {
    catalog::Video v;
    v.name = name;
    auto event =
        events_.Make(kVideoUnable, v, catalog::State::kUnableToProcess, 5, {}, clock_.Now());
    auto id = catalog_->Register(catalog::NewVideo{name, "uploads/" + name + ".mp4",
                                                   catalog::State::kUnableToProcess, clock_.Now()},
                                 {event});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }

  static AlarmRule SetAsideRule() {
    AlarmRule r;
    r.name = "set-aside";
    r.metric = AlarmMetric::kUnableToProcess;
    r.above = 0;
    r.window_seconds = 900;
    r.severity = "critical";
    return r;
  }

  AlarmEvaluator Make(catalog::Catalog* catalog, std::vector<AlarmRule> rules) {
    return AlarmEvaluator(catalog, &events_, &clock_, nullptr, log_.get(), std::move(rules));
  }

  // The alarm events in the outbox, in order.
  std::vector<nlohmann::json> AlarmEvents() {
    std::vector<nlohmann::json> out;
    auto all = catalog_->EventsAfter(0, 1000);
    EXPECT_TRUE(all.ok());
    for (const auto& e : *all) {
      const std::string type = e.document.value("type", "");
      if (type.rfind("vidgate.alarm.", 0) == 0) out.push_back(e.document);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  FakeClock clock_;
  EventFactory events_{"vidgate://test", {"log"}};
  std::shared_ptr<spdlog::logger> log_ = NullLogger();
};

TEST(AlarmMetricTest, NamesRoundTripAndUnknownIsRefused) {
  for (auto m : {AlarmMetric::kUnableToProcess, AlarmMetric::kFailureRatio,
                 AlarmMetric::kOldestQueuedSeconds, AlarmMetric::kAwaitingMetadata}) {
    EXPECT_EQ(ParseAlarmMetric(AlarmMetricName(m)), m);
  }
  EXPECT_FALSE(ParseAlarmMetric("failures").has_value());
  EXPECT_NE(AlarmMetricNames().find("failure_ratio"), std::string::npos);
}

TEST(AlarmMetricTest, FailureRatioCountsInterruptedAsFailedAndIsZeroWithoutAttempts) {
  catalog::FleetStats s;
  EXPECT_DOUBLE_EQ(ValueOf(s, AlarmMetric::kFailureRatio), 0);
  s.attempts = {{"succeeded", 6}, {"rejected", 1}, {"failed", 2}, {"interrupted", 1}};
  EXPECT_DOUBLE_EQ(ValueOf(s, AlarmMetric::kFailureRatio), 0.3);
  EXPECT_DOUBLE_EQ(ValueOf(s, AlarmMetric::kFailedAttempts), 3);
}

TEST_F(AlarmsTest, TriggersOnceWhileFiringAndResolvesWhenTheWindowEmpties) {
  auto alarms = Make(catalog_.get(), {SetAsideRule()});
  EXPECT_EQ(*alarms.EvaluateAll(), 0);
  EXPECT_TRUE(AlarmEvents().empty());

  SetAside("a");
  EXPECT_EQ(*alarms.EvaluateAll(), 1);
  SetAside("b");
  clock_.Advance(60);
  EXPECT_EQ(*alarms.EvaluateAll(), 0);  // still firing: nothing new to say
  auto records = catalog_->Alarms();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_TRUE((*records)[0].firing);
  EXPECT_DOUBLE_EQ((*records)[0].value, 2);

  clock_.Advance(900);  // both set-asides are out of the window
  EXPECT_EQ(*alarms.EvaluateAll(), 1);
  auto events = AlarmEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "vidgate.alarm.triggered");
  EXPECT_EQ(events[0]["subject"], "alarm/set-aside");
  EXPECT_EQ(events[0]["data"]["name"], "set-aside");
  EXPECT_EQ(events[0]["data"]["state"], "firing");
  EXPECT_TRUE(events[0]["data"]["video_id"].is_null());
  EXPECT_EQ(events[0]["data"]["attempts"], 0);
  EXPECT_EQ(events[0]["data"]["value"], 1);
  EXPECT_EQ(events[0]["data"]["alarm"]["metric"], "unable_to_process");
  EXPECT_EQ(events[0]["data"]["alarm"]["severity"], "critical");
  EXPECT_EQ(events[0]["data"]["alarm"]["window_seconds"], 900);
  EXPECT_EQ(events[1]["type"], "vidgate.alarm.resolved");
  EXPECT_EQ(events[1]["data"]["state"], "resolved");
  EXPECT_DOUBLE_EQ(events[1]["data"]["fired_seconds"].get<double>(), 960);
  EXPECT_FALSE((*catalog_->Alarms())[0].firing);
}

TEST_F(AlarmsTest, SeveralProcessesSendEachChangeOnce) {
  auto other_catalog = OpenCatalog();
  auto one = Make(catalog_.get(), {SetAsideRule()});
  auto two = Make(other_catalog.get(), {SetAsideRule()});
  SetAside("a");
  EXPECT_EQ(*one.EvaluateAll() + *two.EvaluateAll(), 1);
  clock_.Advance(1000);
  EXPECT_EQ(*two.EvaluateAll() + *one.EvaluateAll(), 1);
  EXPECT_EQ(AlarmEvents().size(), 2u);
}

TEST_F(AlarmsTest, ARuleIsEvaluatedOnItsInterval) {
  auto rule = SetAsideRule();
  rule.interval_seconds = 30;
  auto alarms = Make(catalog_.get(), {rule});
  EXPECT_EQ(*alarms.EvaluateDue(), 0);  // evaluated: nothing set aside yet
  SetAside("a");
  clock_.Advance(10);
  EXPECT_EQ(*alarms.EvaluateDue(), 0);  // not due for another 20 s
  clock_.Advance(21);
  EXPECT_EQ(*alarms.EvaluateDue(), 1);
}

TEST_F(AlarmsTest, OldestQueuedJobFiresWhileItWaits) {
  AlarmRule rule;
  rule.name = "stuck";
  rule.metric = AlarmMetric::kOldestQueuedSeconds;
  rule.above = 600;
  auto alarms = Make(catalog_.get(), {rule});
  auto id = catalog_->Register(
      catalog::NewVideo{"q", "uploads/q.mp4", catalog::State::kQueued, clock_.Now()}, {});
  ASSERT_TRUE(id.ok());
  clock_.Advance(300);
  EXPECT_EQ(*alarms.EvaluateAll(), 0);
  clock_.Advance(301);
  EXPECT_EQ(*alarms.EvaluateAll(), 1);
  EXPECT_FALSE(AlarmEvents()[0]["data"]["alarm"].contains("window_seconds"));
}

TEST_F(AlarmsTest, AFiringAlarmWhoseRuleIsGoneIsResolvedOnlyOnceNobodyChecksIt) {
  SetAside("a");
  auto old = Make(catalog_.get(), {SetAsideRule()});
  EXPECT_EQ(*old.EvaluateAll(), 1);
  // The rule was taken out of the config, the last one there was: the run
  // loop's EvaluateDue still looks for orphans.
  auto renewed = Make(catalog_.get(), {});
  clock_.Advance(100);
  EXPECT_EQ(*renewed.EvaluateDue(), 0);  // a process with the rule checked it lately
  clock_.Advance(900);
  EXPECT_EQ(*renewed.EvaluateDue(), 1);
  auto events = AlarmEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["type"], "vidgate.alarm.resolved");
  EXPECT_EQ(events[1]["data"]["alarm"]["metric"], "unable_to_process");
}

TEST_F(AlarmsTest, AFiringAlarmTakesItsRulesNewSettings) {
  SetAside("a");
  auto warning = Make(catalog_.get(), {SetAsideRule()});
  EXPECT_EQ(*warning.EvaluateAll(), 1);
  auto rule = SetAsideRule();
  rule.severity = "warning";
  auto changed = Make(catalog_.get(), {rule});
  clock_.Advance(10);
  EXPECT_EQ(*changed.EvaluateAll(), 0);  // still firing: nothing sent
  EXPECT_EQ((*catalog_->Alarms())[0].detail["severity"], "warning");
}

}  // namespace
}  // namespace vidgate::pipeline
