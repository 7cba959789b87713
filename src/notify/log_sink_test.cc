#include "notify/log_sink.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace vidgate::notify {
namespace {

TEST(LogSinkTest, WritesOneInfoLinePerEvent) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->set_pattern("%l %v");
  LogSink sink(logger);
  EXPECT_EQ(sink.id(), "log");

  nlohmann::json event = {
      {"specversion", "1.0"},
      {"id", "ev-1"},
      {"source", "vidgate://host"},
      {"type", "vidgate.video.processed"},
      {"time", "2026-01-01T00:00:00.000Z"},
      {"subject", "clip.mp4"},
      {"data", {{"video_id", "v1"}, {"name", "clip.mp4"}, {"state", "processed"}, {"attempts", 2}}},
  };
  ASSERT_TRUE(sink.Deliver(event).ok());
  EXPECT_EQ(out.str(),
            "info event vidgate.video.processed subject=clip.mp4 id=ev-1 state=processed "
            "attempts=2\n");
}

TEST(LogSinkTest, MissingFieldsShowAsDash) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->set_pattern("%v");
  LogSink sink(logger);
  ASSERT_TRUE(sink.Deliver({{"id", "ev-2"}, {"type", "vidgate.alarm.triggered"}}).ok());
  ASSERT_TRUE(sink.Deliver(nlohmann::json::array()).ok());
  EXPECT_EQ(out.str(),
            "event vidgate.alarm.triggered subject=- id=ev-2 state=- attempts=-\n"
            "event - subject=- id=- state=- attempts=-\n");
}

}  // namespace
}  // namespace vidgate::notify
