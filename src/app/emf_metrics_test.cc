// The EMF lines against the rules of CloudWatch's Embedded Metric Format
// specification (the _aws metadata, metric directives, target members), and
// whole lines under concurrent writers.
#include "app/emf_metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

namespace vidgate::app {
namespace {

// The specification's rules; "" when `doc` keeps them, else the first one
// broken.
std::string EmfProblem(const nlohmann::json& doc) {
  static const std::set<std::string> kUnits = {"Seconds",
                                               "Microseconds",
                                               "Milliseconds",
                                               "Bytes",
                                               "Kilobytes",
                                               "Megabytes",
                                               "Gigabytes",
                                               "Terabytes",
                                               "Bits",
                                               "Kilobits",
                                               "Megabits",
                                               "Gigabits",
                                               "Terabits",
                                               "Percent",
                                               "Count",
                                               "Bytes/Second",
                                               "Kilobytes/Second",
                                               "Megabytes/Second",
                                               "Gigabytes/Second",
                                               "Terabytes/Second",
                                               "Bits/Second",
                                               "Kilobits/Second",
                                               "Megabits/Second",
                                               "Gigabits/Second",
                                               "Terabits/Second",
                                               "Count/Second",
                                               "None"};
  if (!doc.is_object()) return "the root is not an object";
  if (!doc.contains("_aws") || !doc["_aws"].is_object()) return "no _aws object";
  const auto& aws = doc["_aws"];
  if (!aws.contains("Timestamp") || !aws["Timestamp"].is_number_integer() ||
      aws["Timestamp"].get<int64_t>() < 0) {
    return "_aws.Timestamp is not a non-negative integer of milliseconds";
  }
  if (!aws.contains("CloudWatchMetrics") || !aws["CloudWatchMetrics"].is_array()) {
    return "_aws.CloudWatchMetrics is not an array";
  }
  for (const auto& d : aws["CloudWatchMetrics"]) {
    if (!d.is_object()) return "a metric directive is not an object";
    if (!d.contains("Namespace") || !d["Namespace"].is_string() ||
        d["Namespace"].get<std::string>().empty() ||
        d["Namespace"].get<std::string>().size() > 255) {
      return "a Namespace is not a string of 1 to 255 characters";
    }
    if (!d.contains("Dimensions") || !d["Dimensions"].is_array())
      return "Dimensions is not an array";
    for (const auto& set : d["Dimensions"]) {
      if (!set.is_array() || set.size() > 30)
        return "a dimension set is not an array of at most 30";
      for (const auto& name : set) {
        if (!name.is_string()) return "a dimension name is not a string";
        const std::string n = name.get<std::string>();
        if (!doc.contains(n) || !doc[n].is_string())
          return "dimension " + n + " has no string member";
        if (doc[n].get<std::string>().empty() || doc[n].get<std::string>().size() > 1024) {
          return "dimension " + n + "'s value is empty or over 1024 characters";
        }
      }
    }
    if (!d.contains("Metrics") || !d["Metrics"].is_array() || d["Metrics"].size() > 100) {
      return "Metrics is not an array of at most 100";
    }
    for (const auto& m : d["Metrics"]) {
      if (!m.is_object() || !m.contains("Name") || !m["Name"].is_string()) {
        return "a metric definition has no Name";
      }
      const std::string n = m["Name"].get<std::string>();
      if (n.empty() || n.size() > 1024) return "metric name " + n + " is empty or too long";
      if (m.contains("Unit") && (!m["Unit"].is_string() || !kUnits.contains(m["Unit"]))) {
        return "metric " + n + " has a unit CloudWatch does not know";
      }
      if (!doc.contains(n)) return "metric " + n + " has no member";
      const auto& v = doc[n];
      const bool number = v.is_number();
      const bool numbers =
          v.is_array() && v.size() <= 100 &&
          std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); });
      if (!number && !numbers) return "metric " + n + "'s member is not a number";
    }
  }
  return "";
}

TEST(EmfTest, TheValidatorRefusesWhatTheSpecificationRefuses) {
  const auto good = EmfMetrics::EventDocument("vidgate.video.unable_to_process", 1.7e9);
  ASSERT_EQ(EmfProblem(good), "");
  auto no_member = good;
  no_member.erase("events");
  EXPECT_NE(EmfProblem(no_member), "");
  auto bad_unit = good;
  bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Videos";
  EXPECT_NE(EmfProblem(bad_unit), "");
  auto float_time = good;
  float_time["_aws"]["Timestamp"] = 1.5;
  EXPECT_NE(EmfProblem(float_time), "");
  auto number_dimension = good;
  number_dimension["event"] = 3;
  EXPECT_NE(EmfProblem(number_dimension), "");
}

TEST(EmfTest, AnAttemptIsOneValidLineWithItsFigures) {
  pipeline::AttemptReport r;
  r.video = "my clip été";
  r.attempt = 2;
  r.outcome = "processed";
  r.fetch_seconds = 0.25;
  r.process_seconds = 1.5;
  r.publish_seconds = 0.125;
  r.bytes_in = 1000;
  r.bytes_out = 2000;
  const auto doc = EmfMetrics::AttemptDocument(r, 1764518400.123);
  EXPECT_EQ(EmfProblem(doc), "") << doc.dump();
  EXPECT_EQ(doc["_aws"]["Timestamp"], 1764518400123);
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "vidgate");
  EXPECT_EQ(doc["outcome"], "processed");
  EXPECT_DOUBLE_EQ(doc["fetch_duration"].get<double>(), 250);
  EXPECT_DOUBLE_EQ(doc["process_duration"].get<double>(), 1500);
  EXPECT_DOUBLE_EQ(doc["publish_duration"].get<double>(), 125);
  EXPECT_EQ(doc["bytes_in"], 1000);
  EXPECT_EQ(doc["bytes_out"], 2000);
  EXPECT_EQ(doc["attempts"], 1);
  EXPECT_EQ(doc["video"], "my clip été");
}

TEST(EmfTest, TheBacklogIsOneValidLineWithNoDimension) {
  const auto doc = EmfMetrics::PendingDocument(7, 2, 1, 1764518400);
  EXPECT_EQ(EmfProblem(doc), "") << doc.dump();
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], nlohmann::json::parse("[[]]"));
  EXPECT_EQ(doc["pending_jobs"], 7);
  EXPECT_EQ(doc["pending_deliveries"], 2);
  EXPECT_EQ(doc["awaiting_metadata"], 1);
}

TEST(EmfTest, OnlyAlarmWorthyEventsGetALineAndLinesStayWhole) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  SystemClock clock;
  {
    EmfMetrics emf(out, &clock);
    emf.EventRecorded("vidgate.video.processed");  // counted by the attempt lines
    emf.EventRecorded("vidgate.metadata.missing");
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&emf, t] {
        for (int i = 0; i < 50; ++i) {
          pipeline::AttemptReport r;
          r.video = std::string("v\xff") + std::to_string(t);  // not UTF-8: replaced, not thrown
          r.attempt = 1;
          r.outcome = "failed";
          emf.AttemptFinished(r);
        }
      });
    }
    for (auto& w : writers) w.join();
  }
  std::fclose(out);
  std::istringstream lines(std::string(buffer, size));
  std::free(buffer);
  int attempts = 0, events = 0;
  for (std::string line; std::getline(lines, line);) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << line;
    ASSERT_EQ(EmfProblem(doc), "") << line;
    attempts += doc.contains("outcome");
    if (doc.contains("event")) {
      ++events;
      EXPECT_EQ(doc["event"], "vidgate.metadata.missing");
    }
  }
  EXPECT_EQ(attempts, 200);
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace vidgate::app
