#include "app/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/util.h"

namespace vidgate::app {
namespace {

TEST(ConfigTest, EmptyFileGivesTheDefaults) {
  auto c = ParseConfig("", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.url, "file://./vidgate-data");
  EXPECT_DOUBLE_EQ(c->storage.settle_seconds, 2);
  EXPECT_EQ(c->retry.max_attempts, 5);
  EXPECT_DOUBLE_EQ(c->retry.base_delay_seconds, 30);
  EXPECT_DOUBLE_EQ(c->retry.max_delay_seconds, 3600);
  EXPECT_EQ(c->metadata.required, std::vector<std::string>{"title"});
  EXPECT_DOUBLE_EQ(c->metadata.wait_seconds, 60);
  EXPECT_DOUBLE_EQ(c->workers.lease_seconds, 30);
  EXPECT_EQ(c->server.listen, "127.0.0.1:8080");
}

TEST(ConfigTest, ReadsEveryContractKey) {
  auto c = ParseConfig(R"(
[storage]
url = "file:///tmp/x"
settle_seconds = 0.5
[database]
url = "sqlite:///tmp/x.db"
password = "env:PGPASS"
[metadata]
wait_seconds = 1
required = ["title", "owner"]
[retry]
max_attempts = 3
base_delay_seconds = 0.2
max_delay_seconds = 10
retry_qc_rejections = true
[workers]
count = 2
lease_seconds = 5
attempt_timeout_seconds = 60
[intake]
poll_seconds = 0.1
[metrics]
emf = false
[qc]
preset = "broadcast-ebu-r128"
max_height = 1080
max_duration_seconds = 7200
allowed_video_codecs = ["h264", "hevc"]
[qc.severity]
black = "error"
[[notify.webhook]]
url = "http://127.0.0.1:9/hook"
secret = "env:HOOK_SECRET"
[[notify.webhook]]
url = "http://127.0.0.1:10/other"
[server]
listen = "127.0.0.1:0"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->storage.settle_seconds, 0.5);
  EXPECT_EQ(c->metadata.required.size(), 2u);
  EXPECT_EQ(c->database.password, "env:PGPASS");
  EXPECT_EQ(c->qc.preset, "broadcast-ebu-r128");
  EXPECT_EQ(c->qc.max_height, 1080);
  EXPECT_DOUBLE_EQ(c->qc.max_duration_seconds, 7200);
  EXPECT_EQ(c->qc.allowed_video_codecs.size(), 2u);
  EXPECT_EQ(c->qc.severity.at("black"), "error");
  EXPECT_EQ(c->retry.max_attempts, 3);
  EXPECT_DOUBLE_EQ(c->retry.base_delay_seconds, 0.2);
  EXPECT_TRUE(c->retry.retry_qc_rejections);
  EXPECT_EQ(c->workers.count, 2);
  ASSERT_EQ(c->notify.webhook.size(), 2u);
  EXPECT_EQ(c->notify.webhook[0].secret, "env:HOOK_SECRET");
  EXPECT_DOUBLE_EQ(c->intake.poll_seconds, 0.1);
  EXPECT_EQ(c->storage.url, "file:///tmp/x");
  EXPECT_EQ(c->database.url, "sqlite:///tmp/x.db");
  EXPECT_DOUBLE_EQ(c->metadata.wait_seconds, 1);
  EXPECT_DOUBLE_EQ(c->retry.max_delay_seconds, 10);
  EXPECT_DOUBLE_EQ(c->workers.lease_seconds, 5);
  EXPECT_DOUBLE_EQ(c->workers.attempt_timeout_seconds, 60);
  EXPECT_EQ(c->notify.webhook[0].url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(c->notify.webhook[1].url, "http://127.0.0.1:10/other");
  EXPECT_EQ(c->server.listen, "127.0.0.1:0");
}

TEST(ConfigTest, AQueueMakesTheListingASlowSafetyNet) {
  const std::string queue =
      "[storage]\nurl = \"s3://media/in\"\n[database]\nurl = \"sqlite:///tmp/c.db\"\n"
      "[intake]\nsqs_queue_url = \"https://sqs.eu-west-1.amazonaws.com/123456789012/uploads\"\n";
  auto c = ParseConfig(queue, "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_DOUBLE_EQ(c->intake.poll_seconds, 300);
  auto given = ParseConfig(queue + "poll_seconds = 30\n", "test.toml");
  ASSERT_TRUE(given.ok()) << given.status().message();
  EXPECT_DOUBLE_EQ(given->intake.poll_seconds, 30);
  EXPECT_DOUBLE_EQ(ParseConfig("", "test.toml")->intake.poll_seconds, 2);
}

TEST(ConfigTest, DedupeKeys) {
  auto d = ParseConfig("", "test.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dedupe.policy, "flag");
  EXPECT_DOUBLE_EQ(d->dedupe.similarity, 0.5);
  auto c = ParseConfig("[dedupe]\npolicy = \"skip\"\nsimilarity = 0\n", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dedupe.policy, "skip");
  EXPECT_DOUBLE_EQ(c->dedupe.similarity, 0);
  for (const char* bad : {"policy = \"merge\"", "similarity = 1.5", "similarity = -0.1",
                          "similarity = \"high\"", "threshold = 3"}) {
    auto e = ParseConfig(std::string("[dedupe]\n") + bad + "\n", "test.toml");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("dedupe."), std::string::npos) << e.status().message();
  }
}

TEST(ConfigTest, OutputDefaultsToOneMainRendition) {
  auto c = ParseConfig("", "test.toml");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->output.rendition.size(), 1u);
  EXPECT_EQ(c->output.rendition[0].name, "main");
  EXPECT_EQ(c->output.rendition[0].codec, "h264");
  EXPECT_EQ(c->output.rendition[0].max_height, 1080);
  EXPECT_EQ(c->output.thumbnails, 4);
  EXPECT_FALSE(c->output.hls);
  EXPECT_TRUE(c->output.sprite);
}

TEST(ConfigTest, ReadsRenditionsAndHls) {
  auto c = ParseConfig(R"(
[output]
thumbnails = 2
sprite = false
hls = true
hls_segment_seconds = 4
audio_languages = ["fr", "eng"]
[[output.rendition]]
name = "hd"
codec = "hevc"
height = 720
crf = 28
preset = "faster"
audio_codec = "opus"
audio_bitrate = 96000
loudness_target = -16
true_peak_limit = -2
dynamic_range = "keep"
audio_tracks = "all"
min_ssim = 0.95
[[output.rendition]]
name = "small"
codec = "av1"
height = 360
bitrate = 500000
preset = "12"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->output.rendition.size(), 2u);
  EXPECT_EQ(c->output.rendition[0].codec, "hevc");
  EXPECT_EQ(c->output.rendition[0].max_height, 720);
  EXPECT_EQ(c->output.rendition[0].crf, 28);
  EXPECT_EQ(c->output.rendition[0].audio_codec, "opus");
  EXPECT_EQ(c->output.rendition[0].audio_bitrate, 96000);
  EXPECT_EQ(c->output.rendition[0].loudness_target, -16.0);
  EXPECT_EQ(c->output.rendition[0].true_peak_limit, -2.0);
  EXPECT_FALSE(c->output.rendition[1].loudness_target.has_value());
  EXPECT_EQ(c->output.rendition[0].dynamic_range, "keep");
  EXPECT_EQ(c->output.rendition[0].audio_tracks, "all");
  EXPECT_EQ(c->output.rendition[1].audio_tracks, "one");
  EXPECT_EQ(c->output.rendition[0].min_ssim, 0.95);
  EXPECT_EQ(c->output.rendition[1].dynamic_range, "sdr");
  EXPECT_FALSE(c->output.rendition[1].min_ssim.has_value());
  EXPECT_EQ(c->output.rendition[1].true_peak_limit, -1.0);
  EXPECT_EQ(c->output.rendition[1].bitrate, 500000);
  EXPECT_EQ(c->output.rendition[1].preset, "12");
  EXPECT_EQ(c->output.thumbnails, 2);
  EXPECT_FALSE(c->output.sprite);
  EXPECT_TRUE(c->output.hls);
  EXPECT_DOUBLE_EQ(c->output.hls_segment_seconds, 4);
  EXPECT_EQ(c->output.audio_languages, (std::vector<std::string>{"fr", "eng"}));

  auto none = ParseConfig("[output]\nrendition = []\n", "test.toml");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->output.rendition.empty());
}

struct BadCase {
  const char* toml;
  const char* must_mention;
};

class ConfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrorTest, NamesTheKey) {
  auto c = ParseConfig(GetParam().toml, "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find(GetParam().must_mention), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("bad.toml"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigErrorTest,
    ::testing::Values(
        BadCase{"[retry]\nmax_attempt = 3\n", "retry.max_attempt"},
        BadCase{"[retry]\nmax_attempts = \"five\"\n", "retry.max_attempts"},
        BadCase{"[retry]\nmax_attempts = 0\n", "retry.max_attempts"},
        BadCase{"[storage]\nsettle_seconds = \"2\"\n", "storage.settle_seconds"},
        BadCase{"[storage]\nsettle_seconds = -1\n", "storage.settle_seconds"},
        BadCase{"colour = 1\n", "colour"},
        BadCase{"[metadata]\nrequired = \"title\"\n", "metadata.required"},
        BadCase{"[[notify.webhook]]\nurl = \"http://x\"\nsecert = \"s\"\n",
                "notify.webhook[0].secert"},
        BadCase{"[[notify.webhook]]\nsecret = \"s\"\n", "notify.webhook[0].url"},
        BadCase{"[workers\n", "line 1"}, BadCase{"[qc]\npreset = \"cinema\"\n", "cinema"},
        BadCase{"[qc.severity]\nblak = \"error\"\n", "'blak'"},
        BadCase{"[qc.severity]\nblack = \"fatal\"\n", "'fatal'"},
        BadCase{"[qc.severity]\nblack = 1\n", "qc.severity.black"},
        BadCase{"storage = 3\n", "storage"},
        BadCase{"[[output.rendition]]\ncodec = \"h264\"\n", "output.rendition[0].name"},
        BadCase{"[[output.rendition]]\nname = \"a\"\ncodec = \"mpeg2\"\n", "codec 'mpeg2'"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nheight = 721\n", "height 721"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nloudness_target = -3\n", "loudness_target"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nloudness_target = \"loud\"\n",
                "loudness_target"},
        BadCase{"[[output.rendition]]\nname = \"a\"\ntrue_peak_limit = 1\n", "true_peak_limit"},
        BadCase{"[[output.rendition]]\nname = \"a\"\ndynamic_range = \"hdr\"\n", "dynamic_range"},
        BadCase{"[[output.rendition]]\nname = \"a\"\naudio_tracks = \"some\"\n",
                "audio_tracks 'some' is not one of one, all"},
        BadCase{"[[output.rendition]]\nname = \"a\"\ndynamic_range = \"keep\"\n",
                "dynamic_range keep needs codec hevc or av1"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nmin_ssim = 2\n", "min_ssim"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nmin_ssim = 0.9\nquality_figures = false\n",
                "min_ssim needs quality_figures"},
        BadCase{"[[output.rendition]]\nname = \"a\"\nresolution = 720\n",
                "output.rendition[0].resolution"},
        BadCase{"[[output.rendition]]\nname = \"a\"\n[[output.rendition]]\n"
                "name = \"a\"\n",
                "two renditions are named 'a'"},
        BadCase{"[output]\nhls = true\nrendition = []\n", "output.hls"},
        BadCase{"[output]\nthumbnails = -1\n", "output.thumbnails"},
        BadCase{"[output]\nhls_segment_seconds = 61\n",
                "'output.hls_segment_seconds' must be between 1 and 60"},
        BadCase{"[output]\naudio_languages = [\"en\", \"fr ca\"]\n",
                "'output.audio_languages' holds 'fr ca', not a language tag"},
        BadCase{"[output]\naudio_languages = \"en\"\n", "output.audio_languages"},
        BadCase{"[storage]\nsettle_seconds = -1\n", "between 0 and 1e9"},
        BadCase{"[storage]\nurl = \"s3://media\"\n[intake]\nsqs_queue_url = \"uploads-queue\"\n",
                "is not a queue URL"},
        BadCase{"[intake]\nsqs_queue_url = \"https://sqs.us-east-1.amazonaws.com/1/q\"\n",
                "must be an s3:// store"},
        BadCase{"[intake]\nendpoint = \"127.0.0.1:4566\"\n", "'intake.endpoint'"},
        BadCase{"[[notify.sns]]\ntopic_arn = \"vidgate-events\"\n", "'notify.sns[0].topic_arn'"},
        BadCase{"[[notify.sns]]\ntopic_arn = \"arn:aws:sns:us-east-1:1:t\"\n"
                "[[notify.sns]]\ntopic_arn = \"arn:aws:sns:us-east-1:1:t\"\n",
                "published twice"},
        BadCase{"[[notify.sns]]\ntopic_arn = \"arn:aws:sns:us-east-1:1:t\"\nendpoint = \"x\"\n",
                "'notify.sns[0].endpoint'"},
        BadCase{"[[alarm]]\nmetric = \"failure_ratio\"\nabove = 0.1\n", "'alarm[0].name'"},
        BadCase{"[[alarm]]\nname = \"a b\"\nmetric = \"failure_ratio\"\nabove = 0.1\n",
                "'alarm[0].name'"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"failures\"\nabove = 0.1\n",
                "'alarm[0].metric' must be one of unable_to_process"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"failure_ratio\"\n", "'alarm[0].above'"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"failure_ratio\"\nabove = \"10%\"\n",
                "'alarm[0].above' must be a number"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"failure_ratio\"\nabove = 1\n"
                "severity = \"page\"\n",
                "'alarm[0].severity'"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"failure_ratio\"\nabove = 1\nfor = 60\n",
                "alarm[0].for"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"rejected\"\nabove = 1\n[[alarm]]\n"
                "name = \"a\"\nmetric = \"rejected\"\nabove = 2\n",
                "two [[alarm]] rules are named 'a'"},
        BadCase{"[[alarm]]\nname = \"a\"\nmetric = \"rejected\"\nabove = 1\n"
                "window_seconds = 0\n",
                "'alarm[0].window_seconds'"}));

TEST(ConfigTest, AlarmRulesAreReadWithTheirDefaults) {
  auto c = ParseConfig(
      "[[alarm]]\nname = \"set-aside\"\nmetric = \"unable_to_process\"\nabove = 0\n"
      "severity = \"critical\"\n[[alarm]]\nname = \"failing\"\nmetric = \"failure_ratio\"\n"
      "above = 0.1\nwindow_seconds = 600\ninterval_seconds = 5\n",
      "alarms.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->alarm.size(), 2u);
  EXPECT_EQ(c->alarm[0].name, "set-aside");
  EXPECT_EQ(c->alarm[0].metric, pipeline::AlarmMetric::kUnableToProcess);
  EXPECT_DOUBLE_EQ(c->alarm[0].window_seconds, 900);
  EXPECT_DOUBLE_EQ(c->alarm[0].interval_seconds, 30);
  EXPECT_EQ(c->alarm[0].severity, "critical");
  EXPECT_DOUBLE_EQ(c->alarm[1].above, 0.1);
  EXPECT_DOUBLE_EQ(c->alarm[1].window_seconds, 600);
  EXPECT_DOUBLE_EQ(c->alarm[1].interval_seconds, 5);
  EXPECT_EQ(c->alarm[1].severity, "warning");
  EXPECT_TRUE(ParseConfig("", "empty.toml")->alarm.empty());
}

}  // namespace
}  // namespace vidgate::app

namespace vidgate::app {
namespace {

TEST(ConfigTest, ACatalogInsideTheStoresFoldersIsRefused) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("vidgate-config-" + NewUuid());
  fs::create_directories(dir);
  const fs::path file = dir / "vidgate.toml";
  auto load = [&](const std::string& store, const std::string& db) {
    EXPECT_TRUE(WriteLocalFile(file.string(), "[storage]\nurl = \"file://" + store +
                                                  "\"\n[database]\nurl = \"sqlite://" + db + "\"\n")
                    .ok());
    return LoadConfig(file.string());
  };
  const std::string store = (dir / "data").string();
  for (const std::string& db : {store + "/uploads/vidgate.db", store + "/failed/x/../cat.db",
                                store + "/processed/a.db", store + "/unable_to_process/b.db"}) {
    auto c = load(store, db);
    ASSERT_FALSE(c.ok()) << db;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_NE(c.status().message().find("database.url"), std::string::npos);
  }
  EXPECT_TRUE(load(store, store + "/vidgate.db").ok());
  EXPECT_TRUE(load(store, store + "/uploads-archive.db").ok());
  EXPECT_TRUE(load(store, (dir / "elsewhere.db").string()).ok());
  fs::remove_all(dir);
}

// A container or a Lambda function is configured by its environment: the
// AWS keys can come from there, and are checked as the file's are.
TEST(ConfigTest, TheAwsKeysComeFromTheEnvironmentTooAndAreChecked) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("vidgate-config-" + NewUuid());
  fs::create_directories(dir);
  const std::string file = (dir / "vidgate.toml").string();
  ASSERT_TRUE(WriteLocalFile(file,
                             "[storage]\nurl = \"s3://media/p\"\n[database]\n"
                             "url = \"postgresql://v@db:5432/v\"\n[[notify.sns]]\n"
                             "topic_arn = \"arn:aws:sns:eu-west-1:123456789012:a\"\n")
                  .ok());
  const char* vars[] = {"VIDGATE_SQS_QUEUE_URL", "VIDGATE_SNS_TOPIC_ARN", "VIDGATE_METRICS_EMF"};
  auto clear = [&] {
    for (const char* v : vars) unsetenv(v);
  };
  clear();
  auto plain = LoadConfig(file);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->intake.poll_seconds, 2);
  EXPECT_FALSE(plain->metrics.emf);

  setenv("VIDGATE_SQS_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/uploads", 1);
  setenv("VIDGATE_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:b", 1);
  setenv("VIDGATE_METRICS_EMF", "true", 1);
  auto aws = LoadConfig(file);
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  EXPECT_EQ(aws->intake.sqs_queue_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/uploads");
  EXPECT_EQ(aws->intake.poll_seconds, 300);  // a queue brings the news: the listing is rare
  ASSERT_EQ(aws->notify.sns.size(), 2u);
  EXPECT_EQ(aws->notify.sns[1].topic_arn, "arn:aws:sns:eu-west-1:123456789012:b");
  EXPECT_TRUE(aws->metrics.emf);

  // The topic the file names already: not a second publisher of each event.
  setenv("VIDGATE_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:a", 1);
  EXPECT_EQ(LoadConfig(file)->notify.sns.size(), 1u);

  setenv("VIDGATE_METRICS_EMF", "yes please", 1);
  auto bad_emf = LoadConfig(file);
  EXPECT_EQ(bad_emf.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad_emf.status().message().find("VIDGATE_METRICS_EMF"), std::string::npos);
  setenv("VIDGATE_METRICS_EMF", "0", 1);

  setenv("VIDGATE_SNS_TOPIC_ARN", "not-an-arn", 1);
  auto bad_arn = LoadConfig(file);
  EXPECT_EQ(bad_arn.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad_arn.status().message().find("the environment"), std::string::npos)
      << bad_arn.status().message();
  unsetenv("VIDGATE_SNS_TOPIC_ARN");

  // A queue for a folder store is refused, wherever it is said.
  ASSERT_TRUE(
      WriteLocalFile(file, "[storage]\nurl = \"file://" + (dir / "d").string() + "\"\n").ok());
  auto folder = LoadConfig(file);
  EXPECT_EQ(folder.status().code(), Code::kInvalidArgument);
  EXPECT_NE(folder.status().message().find("s3://"), std::string::npos);
  clear();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vidgate::app
