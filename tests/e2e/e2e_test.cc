// End-to-end tests of vidgate: the real binary, a file:// store with SQLite,
// a real webhook receiver. They check the "Contract" sections of
// ARCHITECTURE.md (states, storage layout, configuration, command line,
// notifications). See harness.h for the fixture.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The outcomes of the attempts in a `show --json` document.
std::vector<std::string> Outcomes(const json& shown) {
  std::vector<std::string> out;
  if (!shown.is_object() || !shown.contains("attempts")) return out;
  for (const auto& a : shown["attempts"]) out.push_back(a.value("outcome", "?"));
  return out;
}

std::set<std::string> Subjects(const std::vector<json>& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(e.value("subject", ""));
  return out;
}

// A CloudEvents 1.0 document as the notification contract describes it.
void ExpectCloudEvent(const json& e, const std::string& type, const std::string& subject) {
  SCOPED_TRACE(e.dump());
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e.value("specversion", ""), "1.0");
  ASSERT_TRUE(e.contains("id") && e["id"].is_string());
  EXPECT_FALSE(e["id"].get<std::string>().empty());
  ASSERT_TRUE(e.contains("source") && e["source"].is_string());
  EXPECT_FALSE(e["source"].get<std::string>().empty());
  EXPECT_EQ(e.value("type", ""), type);
  ASSERT_TRUE(e.contains("time") && e["time"].is_string());
  EXPECT_GT(ParseTime(e["time"].get<std::string>()), 0) << "time is not RFC 3339 UTC";
  EXPECT_EQ(e.value("subject", ""), subject);
  ASSERT_TRUE(e.contains("data") && e["data"].is_object());
  const json& d = e["data"];
  EXPECT_TRUE(d.contains("video_id") && d["video_id"].is_number_integer());
  EXPECT_EQ(d.value("name", ""), subject);
  EXPECT_TRUE(d.contains("state") && d["state"].is_string());
  EXPECT_TRUE(d.contains("attempts") && d["attempts"].is_number_integer());
}

// Every file under `dir` with its bytes.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& f : FilesUnder(dir)) out[f] = ReadFile(dir + "/" + f);
  return out;
}

class E2eTest : public VidgateTest {
 protected:
  void TearDown() override {
    // Whatever the test: every request vidgate made to the webhook was
    // signed with the configured secret and carried a CloudEvent.
    const auto requests = hook_.Requests();
    for (const auto& r : requests) {
      EXPECT_TRUE(r.signature_ok) << "bad or missing X-Vidgate-Signature on " << r.body;
      ASSERT_TRUE(r.event.is_object()) << "webhook body is not a JSON object: " << r.body;
      ExpectCloudEvent(r.event, r.event.value("type", ""), r.event.value("subject", ""));
    }
    // ...and carried a Standard Webhooks signature its reference library
    // accepts.
    EXPECT_TRUE(VerifiedByStandardWebhooks(requests, secret_));
    VidgateTest::TearDown();
  }

  int CountOf(std::string_view type) { return static_cast<int>(hook_.Events(type).size()); }
};

// ---------------------------------------------------------------------------
// 1. A video without a sidecar waits in uploads/; the notice goes out once;
// the sidecar arriving later releases it.
TEST_F(E2eTest, SeedScenarioMissingMetadataNotification) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  PutFile("uploads/clip.mp4", clip);

  RunUntilIdle();

  auto missing = hook_.EventsFor("vidgate.metadata.missing", "clip");
  ASSERT_EQ(missing.size(), 1u) << "expected one vidgate.metadata.missing for clip";
  ExpectCloudEvent(missing[0], "vidgate.metadata.missing", "clip");
  const json& data = missing[0]["data"];
  EXPECT_EQ(data.value("state", ""), "awaiting_metadata");
  EXPECT_EQ(data.value("attempts", -1), 0);

  EXPECT_TRUE(SameBytes(Path("uploads/clip.mp4"), clip)) << "the video must wait in uploads/";
  for (const char* folder : {"uploads", "failed", "processed", "unable_to_process"}) {
    if (kOnS3) break;  // a bucket has no empty folders
    EXPECT_TRUE(fs::is_directory(Path(folder))) << "run must create " << folder << "/";
  }
  json shown = Show("clip");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "awaiting_metadata");
  EXPECT_EQ(shown.value("id", int64_t{-1}), data.value("video_id", int64_t{-2}));
  EXPECT_TRUE(FilesUnder(Path("processed")).empty());

  // The sidecar arrives: the next run processes the video.
  PutSidecar("uploads/clip.json", Metadata("Late but here"));
  RunUntilIdle();

  shown = Show("clip");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(shown.value("location", ""), "processed/clip");
  EXPECT_EQ(shown["metadata"], Metadata("Late but here"));
  EXPECT_TRUE(SameBytes(Path("processed/clip/clip.mp4"), clip));
  EXPECT_EQ(hook_.EventsFor("vidgate.video.processed", "clip").size(), 1u);
  EXPECT_EQ(hook_.EventsFor("vidgate.metadata.missing", "clip").size(), 1u)
      << "the missing notice must go out once";
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
}

// ---------------------------------------------------------------------------
// 2. submit + run: the processed folder, the catalog, the event, the list.
// `[metrics] emf = true`: stdout carries one CloudWatch EMF line per
// finished attempt (and per alarm-worthy event), and nothing else.
TEST_F(E2eTest, EmfLinesOnStdoutForEveryAttempt) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  settings_.extra_toml = "\n[metrics]\nemf = true\n";
  WriteConfig();
  Upload("clip.mp4", clip, "A clip");
  PutFile("uploads/broken.mp4", clip);  // no sidecar: it waits
  WriteFile(root() + "/garbage.mp4", "not a video at all");
  Upload("garbage.mp4", root() + "/garbage.mp4", "Garbage");
  RunResult run = RunUntilIdle();
  ASSERT_EQ(run.exit_code, 0) << Tail(run.err);
  std::istringstream lines(run.out);
  std::map<std::string, json> by_outcome;
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    json doc = json::parse(line, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << "not an EMF line: " << line;
    ASSERT_TRUE(doc.contains("_aws")) << line;
    EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "vidgate");
    if (doc.contains("outcome")) by_outcome[doc["outcome"]] = doc;
    ++count;
  }
  ASSERT_TRUE(by_outcome.contains("processed")) << run.out;
  const json& done = by_outcome["processed"];
  EXPECT_EQ(done["video"], "clip");
  EXPECT_EQ(done["bytes_in"].get<int64_t>(), static_cast<int64_t>(fs::file_size(clip)));
  // bytes_out: what the pass made and filed beside the original (report.json
  // and the manifest, written after, are no output of the pass).
  int64_t filed_outputs = 0;
  for (const auto& f : FilesUnder(Path("processed/clip/vidgate"))) {
    if (f == "report.json" || f == "manifest-sha256.txt") continue;
    filed_outputs += static_cast<int64_t>(fs::file_size(Path("processed/clip/vidgate/" + f)));
  }
  EXPECT_GT(filed_outputs, 0);
  EXPECT_EQ(done["bytes_out"].get<int64_t>(), filed_outputs);
  EXPECT_GT(done["process_duration"].get<double>(), 0);
  ASSERT_TRUE(by_outcome.contains("unable_to_process")) << run.out;
  EXPECT_EQ(by_outcome["unable_to_process"]["video"], "garbage");
  EXPECT_NE(run.out.find("\"event\":\"vidgate.video.unable_to_process\""), std::string::npos);
  EXPECT_NE(run.out.find("\"pending_jobs\":"), std::string::npos) << "the backlog, told at start";
  EXPECT_GE(count, 3);
}

TEST_F(E2eTest, SeedScenarioSuccessfulProcessing) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  fs::create_directories(root() + "/incoming");
  const std::string video = root() + "/incoming/clip.mp4";
  const std::string sidecar = root() + "/incoming/clip.json";
  fs::copy_file(clip, video);
  WriteFile(sidecar, Metadata("A clip").dump(2));

  RunResult submit = Run({"submit", video, "--metadata", sidecar});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_EQ(submit.out, "uploads/clip.mp4\n");
  EXPECT_TRUE(SameBytes(Path("uploads/clip.mp4"), clip));

  RunResult run = Run({"run", "--until-idle"});
  ASSERT_EQ(run.exit_code, 0) << Tail(run.err);
  EXPECT_EQ(run.err.find(secret_), std::string::npos) << "the webhook secret was logged";

  // processed/clip/{clip.mp4, clip.json, report.json}, originals byte for byte.
  EXPECT_TRUE(SameBytes(Path("processed/clip/clip.mp4"), clip));
  EXPECT_TRUE(SameBytes(Path("processed/clip/clip.json"), sidecar));
  ASSERT_TRUE(FileExists(Path("processed/clip/vidgate/report.json")));
  json report = json::parse(ReadFile(Path("processed/clip/vidgate/report.json")), nullptr, false);
  ASSERT_TRUE(report.is_object()) << "report.json is not a JSON object";
  // The web preset only warns about anything but missing video or broken
  // frames: a clean test clip passes or warns (its tone is quieter than
  // the web loudness target), and is processed either way.
  const std::string verdict = report.value("verdict", "");
  EXPECT_TRUE(verdict == "pass" || verdict == "warn") << verdict;
  EXPECT_TRUE(report.contains("checks") && report["checks"].is_array());
  EXPECT_FALSE(report["checks"].empty());
  EXPECT_EQ(report["video"].value("decode_errors", -1), 0);
  for (const auto& c : report["checks"]) {
    if (c["severity"] == "error") {
      EXPECT_EQ(c["status"], "pass") << c.dump();
    }
  }
  for (const char* key : {"black_segments", "freeze_segments", "decode_errors"}) {
    EXPECT_TRUE(report["video"].contains(key)) << key;
  }
  EXPECT_TRUE(report["audio"].contains("silence_segments"));
  EXPECT_TRUE(report["audio"]["loudness"].contains("integrated_lufs"));
  // The report's history shows the attempt that produced it as finished.
  ASSERT_EQ(report["attempts"].size(), 1u) << report["attempts"].dump();
  EXPECT_EQ(report["attempts"][0].value("outcome", ""), "succeeded");
  EXPECT_TRUE(report["attempts"][0]["finished_at"].is_string());
  // The default rendition, probed and recorded.
  EXPECT_TRUE(FileExists(Path("processed/clip/vidgate/renditions/main.mp4")));
  EXPECT_TRUE(FileExists(Path("processed/clip/vidgate/thumbnails/poster.jpg")));
  EXPECT_TRUE(FileExists(Path("processed/clip/vidgate/thumbnails/0001.jpg")));
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty()) << "uploads/ must be empty";
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());

  json shown = Show("clip");
  ASSERT_TRUE(shown.is_object());
  for (const char* key :
       {"id", "name", "state", "attempts", "metadata", "probe", "qc", "outputs", "location"}) {
    EXPECT_TRUE(shown.contains(key)) << "show --json lacks '" << key << "'";
  }
  EXPECT_EQ(shown.value("name", ""), "clip");
  EXPECT_EQ(shown.value("state", ""), "processed");
  ASSERT_EQ(shown["attempts"].size(), 1u);
  const json& attempt = shown["attempts"][0];
  EXPECT_EQ(attempt.value("number", 0), 1);
  EXPECT_EQ(attempt.value("outcome", ""), "succeeded");
  for (const char* key : {"number", "started_at", "finished_at", "outcome", "error", "retryable"}) {
    EXPECT_TRUE(attempt.contains(key)) << "attempt lacks '" << key << "'";
  }
  // One history, written alike in report.json and show --json.
  EXPECT_EQ(report["attempts"], shown["attempts"]);
  EXPECT_TRUE(attempt["error"].is_null()) << attempt.dump();
  EXPECT_EQ(shown["metadata"], Metadata("A clip"));
  ASSERT_TRUE(shown["probe"].contains("format"));
  ASSERT_TRUE(shown["probe"].contains("streams"));
  EXPECT_EQ(shown["probe"]["format"].value("size", int64_t{0}),
            static_cast<int64_t>(fs::file_size(clip)));
  std::set<std::string> types;
  for (const auto& s : shown["probe"]["streams"]) types.insert(s.value("type", ""));
  EXPECT_EQ(types, (std::set<std::string>{"video", "audio"}));
  EXPECT_EQ(shown.value("location", ""), "processed/clip");
  EXPECT_EQ(shown["qc"].value("verdict", ""), report.value("verdict", "?"));
  ASSERT_GE(shown["outputs"].size(), 2u) << shown["outputs"].dump();
  EXPECT_EQ(shown["outputs"][0]["key"], "processed/clip/vidgate/renditions/main.mp4");
  EXPECT_EQ(shown["outputs"][0]["codec"], "h264");
  EXPECT_GT(shown["outputs"][0]["size"].get<int64_t>(), 0);

  auto processed = hook_.EventsFor("vidgate.video.processed", "clip");
  ASSERT_EQ(processed.size(), 1u);
  ExpectCloudEvent(processed[0], "vidgate.video.processed", "clip");
  EXPECT_EQ(processed[0]["data"].value("attempts", 0), 1);
  EXPECT_EQ(processed[0]["data"].value("state", ""), "processed");
  EXPECT_EQ(processed[0]["data"].value("video_id", int64_t{-1}), shown.value("id", int64_t{-2}));
  for (const auto& r : hook_.Requests()) EXPECT_TRUE(r.signature_ok);

  json list = List();
  ASSERT_TRUE(list.is_object() && list.contains("videos") && list["videos"].is_array())
      << list.dump();
  ASSERT_EQ(list["videos"].size(), 1u);
  const json& v = list["videos"][0];
  EXPECT_TRUE(v.contains("id") && v["id"].is_number_integer());
  EXPECT_EQ(v.value("name", ""), "clip");
  EXPECT_EQ(v.value("state", ""), "processed");
  EXPECT_EQ(v.value("attempts", 0), 1);
  ASSERT_TRUE(v.contains("updated_at") && v["updated_at"].is_string());
  EXPECT_GT(ParseTime(v["updated_at"].get<std::string>()), 0);
}

// Configured renditions in every codec family, HLS with a master playlist,
// and fewer thumbnails: all from the one pass, each probed and recorded.
TEST_F(E2eTest, ConfiguredRenditionsAndHls) {
  settings_.extra_toml = R"(
[output]
thumbnails = 2
hls = true
hls_segment_seconds = 1
[[output.rendition]]
name = "hd"
codec = "h264"
height = 240
[[output.rendition]]
name = "small"
codec = "vp9"
height = 120
crf = 40
audio_codec = "opus"
audio_bitrate = 64000
)";
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  Upload("clip.mp4", clip, "Renditions");
  RunUntilIdle();

  const std::string dir = Path("processed/clip");
  for (const char* f :
       {"renditions/hd.mp4", "renditions/small.mp4", "hls/master.m3u8", "hls/hd/index.m3u8",
        "hls/hd/init.mp4", "hls/hd/00000.m4s", "hls/small/index.m3u8", "thumbnails/poster.jpg",
        "thumbnails/0002.jpg", "thumbnails/sprite.jpg", "thumbnails/sprite.vtt"}) {
    EXPECT_TRUE(FileExists(dir + "/vidgate/" + f)) << f;
  }
  EXPECT_FALSE(FileExists(dir + "/vidgate/renditions/main.mp4"));
  EXPECT_FALSE(FileExists(dir + "/vidgate/thumbnails/0003.jpg"));
  const std::string master = ReadFile(dir + "/vidgate/hls/master.m3u8");
  EXPECT_NE(master.find("hd/index.m3u8"), std::string::npos) << master;
  EXPECT_NE(master.find("small/index.m3u8"), std::string::npos) << master;
  EXPECT_NE(master.find("CODECS=\"avc1."), std::string::npos) << master;

  json shown = Show("clip");
  std::map<std::string, json> outputs;
  for (const auto& o : shown["outputs"]) outputs[o.value("key", "")] = o;
  const json& hd = outputs["processed/clip/vidgate/renditions/hd.mp4"];
  EXPECT_EQ(hd.value("codec", ""), "h264");
  EXPECT_EQ(hd.value("height", 0), 240);
  const json& small = outputs["processed/clip/vidgate/renditions/small.mp4"];
  EXPECT_EQ(small.value("codec", ""), "vp9");
  EXPECT_EQ(small.value("height", 0), 120);
  EXPECT_EQ(outputs["processed/clip/vidgate/hls/small/index.m3u8"].value("codec", ""), "vp9");
  EXPECT_EQ(outputs["processed/clip/vidgate/hls/master.m3u8"].value("codec", ""), "hls");
  EXPECT_EQ(outputs["processed/clip/vidgate/thumbnails/sprite.vtt"].value("codec", ""), "webvtt");
  EXPECT_FALSE(outputs.contains("processed/clip/vidgate/hls/hd/00000.m4s"))
      << "segments are not listed";
  json report = json::parse(ReadFile(dir + "/vidgate/report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["outputs"].size(), shown["outputs"].size());
}

// Output of a shell command (ffprobe).
std::string Capture(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

// Caption sidecars in two languages and formats travel with their video:
// the originals filed byte for byte beside it, WebVTT in captions/, the HLS
// master's subtitle renditions (as ffprobe reads them), the manifest, and a
// broken line reported with its number, never losing the video.
TEST_F(E2eTest, CaptionSidecarsAreFiledConvertedAndInTheHlsMaster) {
  settings_.extra_toml = "[output]\nthumbnails = 0\nhls = true\nhls_segment_seconds = 1\n";
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::string srt =
      "1\r\n00:00:00,200 --> 00:00:01,000\r\nHello <i>there</i>\r\n\r\n"
      "2\r\n00:00:01,O00 --> 00:00:01,100\r\nBroken\r\n\r\n"
      "3\r\n00:00:01,100 --> 00:00:01,400\r\nAgain\r\n";  // the clip lasts 1.52 s
  const std::string vtt = "WEBVTT\n\n00:00.300 --> 00:01.400 line:0\nBonjour\n";
  PutBytes("uploads/clip.en.srt", srt);
  PutBytes("uploads/clip.fr.vtt", vtt);
  Upload("clip.mp4", clip, "Captions");
  RunUntilIdle();
  ASSERT_EQ(StateOf("clip"), "processed");

  const std::string dir = Path("processed/clip");
  EXPECT_EQ(ReadFile(dir + "/clip.en.srt"), srt);
  EXPECT_EQ(ReadFile(dir + "/clip.fr.vtt"), vtt);
  EXPECT_FALSE(FileExists(Path("uploads/clip.en.srt")));
  EXPECT_EQ(ReadFile(dir + "/vidgate/captions/en.vtt"),
            "WEBVTT\n\n00:00:00.200 --> 00:00:01.000\nHello <i>there</i>\n\n"
            "00:00:01.100 --> 00:00:01.400\nAgain\n\n");
  EXPECT_EQ(ReadFile(dir + "/vidgate/captions/fr.vtt"),
            "WEBVTT\n\n00:00:00.300 --> 00:00:01.400 line:0\nBonjour\n\n");
  const std::string manifest = ReadFile(dir + "/vidgate/manifest-sha256.txt");
  EXPECT_NE(manifest.find("  clip.en.srt\n"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("  clip.fr.vtt\n"), std::string::npos) << manifest;

  const std::string master = ReadFile(dir + "/vidgate/hls/master.m3u8");
  EXPECT_NE(master.find("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",LANGUAGE=\"en\""),
            std::string::npos)
      << master;
  EXPECT_NE(master.find("SUBTITLES=\"subs\""), std::string::npos) << master;
  // FFmpeg reads HLS subtitle renditions only when told to. On S3 the
  // objects are no files that reference each other by path: checked on
  // file:// only.
  if (s3_prefix().empty()) {
    const std::string streams = Capture(
        "ffprobe -v error -strict experimental -show_entries "
        "stream=codec_type,codec_name:stream_tags=language -of csv=p=0 '" +
        dir + "/vidgate/hls/master.m3u8'");
    EXPECT_NE(streams.find("webvtt,subtitle,en"), std::string::npos) << streams;
    EXPECT_NE(streams.find("webvtt,subtitle,fr"), std::string::npos) << streams;
    EXPECT_NE(streams.find("h264,video"), std::string::npos) << streams;
  }

  json report = json::parse(ReadFile(dir + "/vidgate/report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  ASSERT_EQ(report["captions"].size(), 2u) << report["captions"].dump();
  const json& en = report["captions"][0];
  EXPECT_EQ(en.value("source", ""), "clip.en.srt");
  EXPECT_EQ(en.value("key", ""), "captions/en.vtt");
  EXPECT_EQ(en.value("cues", 0), 2);
  ASSERT_EQ(en["problems"].size(), 1u);
  EXPECT_EQ(en["problems"][0].get<std::string>().rfind("line 6: '00:00:01,O00 --> ", 0), 0u)
      << en["problems"][0];
  bool warned = false;
  for (const auto& c : report["checks"]) {
    if (c.value("id", "") != "captions") continue;
    warned = c.value("status", "") == "fail" &&
             c.value("message", "").rfind("clip.en.srt line 6: ", 0) == 0;
  }
  EXPECT_TRUE(warned) << report["checks"].dump();
  EXPECT_EQ(report.value("verdict", ""), "warn");
  json shown = Show("clip");
  std::set<std::string> keys;
  for (const auto& o : shown["outputs"]) keys.insert(o.value("key", ""));
  EXPECT_TRUE(keys.contains("processed/clip/vidgate/captions/fr.vtt")) << shown["outputs"].dump();
}

// `vidgate qc FILE` reads the captions beside FILE as `run` would beside a
// video in uploads/: a symbolic link is not followed, and a caption named
// after a longer video name is that video's.
TEST_F(E2eTest, QcCommandReadsTheCaptionsBesideTheFileAsRunWould) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::string dir = root() + "/qc-captions";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(clip, dir + "/talk.mp4");
  std::filesystem::copy_file(clip, dir + "/talk.part2.mp4");
  WriteFile(dir + "/talk.en.srt", "1\n00:00:00,200 --> 00:00:01,000\nHello\n");
  WriteFile(dir + "/talk.part2.de.srt", "1\n00:00:00,200 --> 00:00:01,000\nHallo\n");
  WriteFile(dir + "/elsewhere.vtt", "WEBVTT\n\n00:00.300 --> 00:01.400\nBonjour\n");
  std::filesystem::create_symlink(dir + "/elsewhere.vtt", dir + "/talk.fr.vtt");
  RunResult qc = Run({"qc", dir + "/talk.mp4", "--json"});
  EXPECT_EQ(qc.exit_code, 0) << qc.err;
  json report = json::parse(qc.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << qc.out;
  ASSERT_EQ(report["captions"].size(), 1u) << report["captions"].dump();
  EXPECT_EQ(report["captions"][0].value("label", ""), "en");
  EXPECT_EQ(report["captions"][0].value("cues", 0), 1);
  // Run from inside the folder with a bare name, the same.
  RunResult bare = Run({"qc", "talk.part2.mp4", "--json"}, Seconds(60), dir);
  EXPECT_EQ(bare.exit_code, 0) << bare.err;
  report = json::parse(bare.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << bare.out;
  ASSERT_EQ(report["captions"].size(), 1u) << report["captions"].dump();
  EXPECT_EQ(report["captions"][0].value("label", ""), "de");
}

// `vidgate submit --caption` puts captions beside the video, before it;
// one not named after the video is refused with nothing written.
TEST_F(E2eTest, SubmitTakesCaptionsNamedAfterTheVideo) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  fs::create_directories(root() + "/incoming");
  const std::string video = root() + "/incoming/clip.mp4";
  fs::copy_file(clip, video);
  const std::string good = root() + "/incoming/clip.en.srt";
  const std::string bad = root() + "/incoming/other.en.srt";
  WriteFile(good, "1\n00:00:00,000 --> 00:00:01,000\nHi\n");
  WriteFile(bad, "x");
  RunResult refused = Run({"submit", video, "--caption", good, "--caption", bad});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("'other.en.srt' is not named as a caption of 'clip.mp4'"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(FileExists(Path("uploads/clip.mp4")));
  EXPECT_FALSE(FileExists(Path("uploads/clip.en.srt")));
  RunResult submit = Run({"submit", video, "--caption", good});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_EQ(ReadFile(Path("uploads/clip.en.srt")), "1\n00:00:00,000 --> 00:00:01,000\nHi\n");
  EXPECT_TRUE(FileExists(Path("uploads/clip.mp4")));
}

// `vidgate qc FILE` judges as `run` would (the config's [qc]) unless a
// preset is named; exit 0 for pass/warn, 1 for reject, one JSON document.
TEST_F(E2eTest, QcCommandUsesTheConfigOrTheNamedPreset) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  RunResult web = Run({"qc", clip, "--json"});
  EXPECT_EQ(web.exit_code, 0) << web.err;
  json report = json::parse(web.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << web.out;
  EXPECT_EQ(report.value("policy", ""), "web");
  EXPECT_NE(report.value("verdict", ""), "reject");
  EXPECT_TRUE(report["series"]["bit_rate"].is_array());

  // The test clip's tone is far below -23 LUFS: a broadcast config rejects it.
  settings_.extra_toml = "[qc]\npreset = \"broadcast-ebu-r128\"\n";
  WriteConfig();
  RunResult strict = Run({"qc", clip, "--json"});
  EXPECT_EQ(strict.exit_code, 1) << strict.err;
  report = json::parse(strict.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << strict.out;
  EXPECT_EQ(report.value("policy", ""), "broadcast-ebu-r128");
  EXPECT_EQ(report.value("verdict", ""), "reject");
  RunResult named = Run({"qc", clip, "--policy", "web"});
  EXPECT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("(policy web)"), std::string::npos) << named.out;

  // The config's [qc] limits too: a picture over max_height is rejected
  // from the probe.
  settings_.extra_toml = "[qc]\nmax_height = 100\n";
  WriteConfig();
  RunResult limited = Run({"qc", clip, "--json"});
  EXPECT_EQ(limited.exit_code, 1) << limited.err;
  report = json::parse(limited.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << limited.out;
  EXPECT_NE(report["checks"].dump().find("probe_limits"), std::string::npos) << limited.out;
  settings_.extra_toml = "";
  WriteConfig();

  const std::string text = root() + "/notes.mp4";
  WriteFile(text, "not a video at all\n");
  RunResult bad = Run({"qc", text});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("notes.mp4"), std::string::npos) << bad.err;
  RunResult missing = Run({"qc", root() + "/nope.mp4"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.mp4"), std::string::npos) << missing.err;
}

// `vidgate retry` brings a video waiting out a long back-off forward; a
// finished one is refused with a sentence saying how to process it again.
TEST_F(E2eTest, RetryCommandQueuesAWaitingVideoNow) {
  settings_.retry_base_delay_seconds = 3600;
  settings_.retry_max_delay_seconds = 3600;
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  // The first attempt fails on a real storage error: processed/clip is a
  // link, which the store never writes through.
  fs::create_directories(Path("processed"));
  BlockFolder("processed/clip");
  Upload("clip.mp4", clip, "Soon");
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(WaitUntil([&] { return StateOf("clip") == "retry_wait"; }, Seconds(30),
                        "clip to wait for its retry"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(10)), 0);

  UnblockFolder("processed/clip");
  RunResult r = Run({"retry", "clip"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(StateOf("clip"), "queued");
  RunUntilIdle(Seconds(60));  // would wait an hour for the back-off otherwise
  json shown = Show("clip");
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(Outcomes(shown), (std::vector<std::string>{"failed", "succeeded"}));

  r = Run({"retry", "clip"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("clip is processed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("uploads/"), std::string::npos) << "say how: " << r.err;
  r = Run({"retry", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

// A video set aside (unable_to_process) runs again from its kept original
// with `vidgate retry`: its files go back to uploads/ under their own names
// and make a new video; the old record keeps its attempts; its folder is
// gone; a second retry of the old record says why not.
TEST_F(E2eTest, RetryCommandRunsAVideoSetAsideAgain) {
  settings_.max_attempts = 1;
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  fs::create_directories(Path("processed/a"));
  BlockFolder("processed/a/clip");
  Upload("a/clip.mp4", clip, "Again");
  RunUntilIdle();
  json before = Show("a/clip");
  ASSERT_EQ(before.value("state", ""), "unable_to_process") << before.dump();
  ASSERT_TRUE(FileExists(Path("unable_to_process/a/clip/clip.mp4")));
  const int64_t old_id = before["id"];

  UnblockFolder("processed/a/clip");
  RunResult r = Run({"retry", std::to_string(old_id)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("uploads/a/clip.mp4"), std::string::npos) << r.out;
  EXPECT_TRUE(SameBytes(Path("uploads/a/clip.mp4"), clip));
  EXPECT_TRUE(FileExists(Path("uploads/a/clip.json")));
  EXPECT_TRUE(FilesUnder(Path("unable_to_process")).empty()) << "the old report went too";
  RunUntilIdle();
  json after = Show("a/clip");
  EXPECT_EQ(after.value("state", ""), "processed") << after.dump();
  EXPECT_NE(after["id"], old_id) << "a new video";
  EXPECT_TRUE(SameBytes(Path("processed/a/clip/clip.mp4"), clip));
  EXPECT_EQ(after["metadata"]["title"], "Again");
  json old = Show(std::to_string(old_id));
  EXPECT_EQ(old.value("state", ""), "unable_to_process");
  EXPECT_EQ(Outcomes(old), (std::vector<std::string>{"failed"}));
  r = Run({"retry", std::to_string(old_id)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no kept original"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------
// 3. A retry put into failed/ by hand is adopted; every attempt fails on a
// real storage error (processed/NAME is a link, so the folder cannot be
// made); after retry.max_attempts it is set aside with its history.
TEST_F(E2eTest, SeedScenarioRetryLogic) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  PutSidecar("failed/clip.json", Metadata("Doomed"));
  PutFile("failed/clip.mp4", clip);
  fs::create_directories(Path("processed"));
  BlockFolder("processed/clip");

  RunUntilIdle(Seconds(90));

  json shown = Show("clip");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "unable_to_process");
  EXPECT_EQ(shown.value("location", ""), "unable_to_process/clip");
  EXPECT_EQ(Outcomes(shown), std::vector<std::string>(5, "failed"));

  EXPECT_TRUE(SameBytes(Path("unable_to_process/clip/clip.mp4"), clip));
  EXPECT_TRUE(FileExists(Path("unable_to_process/clip/clip.json")));
  ASSERT_TRUE(FileExists(Path("unable_to_process/clip/vidgate/report.json")));
  json report =
      json::parse(ReadFile(Path("unable_to_process/clip/vidgate/report.json")), nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_TRUE(report.contains("reason") && report["reason"].is_string());
  ASSERT_TRUE(report.contains("attempts") && report["attempts"].is_array());
  ASSERT_EQ(report["attempts"].size(), 5u) << report["attempts"].dump(2);
  // Contract: a storage error is retryable, and every attempt it ended is
  // recorded with retryable: true, the last one included (it failed for the
  // same reason; only the attempt budget ran out).
  for (const auto& a : report["attempts"]) {
    EXPECT_EQ(a.value("retryable", false), true) << "report.json attempt: " << a.dump();
    EXPECT_EQ(a.value("outcome", ""), "failed");
  }
  for (const auto& a : shown["attempts"]) {
    EXPECT_EQ(a.value("retryable", false), true) << "show --json attempt: " << a.dump();
  }
  EXPECT_EQ(report["attempts"], shown["attempts"]) << "one history, written alike";
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  if (!kOnS3) {
    EXPECT_TRUE(fs::is_symlink(Path("processed/clip"))) << "the blocking link must be left alone";
  }

  auto failed = hook_.EventsFor("vidgate.video.failed", "clip");
  ASSERT_EQ(failed.size(), 4u);
  std::vector<int> numbers;
  for (const auto& e : failed) {
    const json& d = e["data"];
    numbers.push_back(d.value("attempt", 0));
    EXPECT_EQ(d.value("max_attempts", 0), 5);
    EXPECT_EQ(d.value("state", ""), "retry_wait");
    ASSERT_TRUE(d.contains("next_attempt_at") && d["next_attempt_at"].is_string());
    EXPECT_GE(ParseTime(d["next_attempt_at"].get<std::string>()), ParseTime(e.value("time", "")));
    ASSERT_TRUE(d.contains("error") && d["error"].is_string());
    EXPECT_FALSE(d["error"].get<std::string>().empty());
  }
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<int>{1, 2, 3, 4}));

  auto unable = hook_.EventsFor("vidgate.video.unable_to_process", "clip");
  ASSERT_EQ(unable.size(), 1u);
  const json& d = unable[0]["data"];
  EXPECT_EQ(d.value("state", ""), "unable_to_process");
  EXPECT_EQ(d.value("attempts", 0), 5);
  ASSERT_TRUE(d.contains("history") && d["history"].is_array());
  EXPECT_EQ(d["history"].size(), 5u);
  for (const auto& a : d["history"]) {
    EXPECT_EQ(a.value("retryable", false), true) << "data.history attempt: " << a.dump();
  }
}

// ---------------------------------------------------------------------------
// 4. The storage error goes away after two attempts: the third succeeds.
TEST_F(E2eTest, RetrySucceedsOnALaterAttempt) {
  // Longer back-off than the default harness settings: the third attempt
  // comes 2-4 s after the second failed, time to hear of it and remove the
  // blocker even on a loaded machine.
  settings_.retry_base_delay_seconds = 2;
  settings_.retry_max_delay_seconds = 4;
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  fs::create_directories(Path("processed"));
  BlockFolder("processed/clip");
  Upload("clip.mp4", clip, "Second time lucky");

  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(WaitUntil([&] { return CountOf("vidgate.video.failed") >= 2; }, Seconds(30),
                        "two vidgate.video.failed events"));
  UnblockFolder("processed/clip");
  ASSERT_TRUE(WaitUntil([&] { return CountOf("vidgate.video.processed") >= 1; }, Seconds(30),
                        "vidgate.video.processed"));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(15)), 0) << "run must exit 0 on SIGTERM";

  auto processed = hook_.EventsFor("vidgate.video.processed", "clip");
  ASSERT_EQ(processed.size(), 1u);
  EXPECT_EQ(processed[0]["data"].value("attempts", 0), 3);
  EXPECT_EQ(CountOf("vidgate.video.failed"), 2);
  json shown = Show("clip");
  EXPECT_EQ(Outcomes(shown), (std::vector<std::string>{"failed", "failed", "succeeded"}));
  for (size_t i = 0; i < 2 && i < shown["attempts"].size(); ++i) {
    EXPECT_EQ(shown["attempts"][i].value("retryable", false), true);
  }
  EXPECT_TRUE(SameBytes(Path("processed/clip/clip.mp4"), clip));
  EXPECT_TRUE(FileExists(Path("processed/clip/clip.json")));
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
}

// ---------------------------------------------------------------------------
// 5. Media that cannot be opened is set aside at once: one attempt,
// retryable false.
TEST_F(E2eTest, BadInputIsSetAsideWithoutRetries) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::string bytes = ReadFile(clip);
  const size_t cut = bytes.size() * 2 / 5;
  // Precondition: the index (moov) is after the cut, so the cut file has none.
  ASSERT_NE(bytes.rfind("moov"), std::string::npos);
  ASSERT_GT(bytes.rfind("moov"), cut) << "the fixture's moov is not at the end";

  const std::map<std::string, std::string> inputs = {
      {"empty", ""},
      {"text", "This is a text file, not a video.\nIt only has a video's name.\n"},
      {"cut", bytes.substr(0, cut)},
  };
  for (const auto& [name, content] : inputs) {
    PutSidecar("uploads/" + name + ".json", Metadata(name));
    PutBytes("uploads/" + name + ".mp4", content);
  }

  RunUntilIdle();

  for (const auto& [name, content] : inputs) {
    SCOPED_TRACE(name);
    const std::string folder = Path("unable_to_process/" + name);
    EXPECT_TRUE(FileExists(folder + "/" + name + ".mp4"));
    EXPECT_EQ(ReadFile(folder + "/" + name + ".mp4"), content);
    EXPECT_TRUE(FileExists(folder + "/" + name + ".json"));
    json report = json::parse(ReadFile(folder + "/vidgate/report.json"), nullptr, false);
    ASSERT_TRUE(report.is_object()) << "no report.json in " << folder;
    ASSERT_TRUE(report.contains("attempts") && report["attempts"].is_array());
    ASSERT_EQ(report["attempts"].size(), 1u);
    EXPECT_EQ(report["attempts"][0].value("retryable", true), false);

    json shown = Show(name);
    ASSERT_TRUE(shown.is_object());
    EXPECT_EQ(shown.value("state", ""), "unable_to_process");
    ASSERT_EQ(shown["attempts"].size(), 1u);
    EXPECT_EQ(shown["attempts"][0].value("retryable", true), false);

    auto unable = hook_.EventsFor("vidgate.video.unable_to_process", name);
    ASSERT_EQ(unable.size(), 1u);
    EXPECT_EQ(unable[0]["data"].value("attempts", 0), 1);
  }
  EXPECT_EQ(CountOf("vidgate.video.failed"), 0) << "bad input must not be retried";
  EXPECT_EQ(CountOf("vidgate.video.rejected"), 0) << "bad input is not a QC verdict";
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
}

// ---------------------------------------------------------------------------
// 6. Invalid sidecars: one notice each naming the problem; the video waits;
// a changed sidecar is read again.
TEST_F(E2eTest, InvalidSidecarIsReportedThenReRead) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  std::string deep = R"({"title": "deep", "nest": )";
  deep += std::string(100, '[') + std::string(100, ']') + "}";
  json huge = Metadata("huge");
  huge["padding"] = std::string((1 << 20) + 4096, 'x');
  struct Case {
    std::string name;
    std::string sidecar;
    std::string problem;  // what the error must mention (lower case)
  };
  const std::vector<Case> cases = {
      {"badjson", R"({"title": "broken", )", "json"},
      {"notitle", R"({"description": "no title here"})", "title"},
      {"huge", huge.dump(), "1 mib|1048576|limit|large"},
      {"deep", deep, "deep|nest|depth"},
  };
  for (const auto& c : cases) {
    PutBytes("uploads/" + c.name + ".json", c.sidecar);
    PutFile("uploads/" + c.name + ".mp4", clip);
  }

  RunUntilIdle();

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto invalid = hook_.EventsFor("vidgate.metadata.invalid", c.name);
    ASSERT_EQ(invalid.size(), 1u);
    const json& d = invalid[0]["data"];
    EXPECT_EQ(d.value("state", ""), "awaiting_metadata");
    std::string error = d.value("error", "");
    std::transform(error.begin(), error.end(), error.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    bool named = false;
    std::istringstream alternatives(c.problem);
    for (std::string word; std::getline(alternatives, word, '|');) {
      named = named || error.find(word) != std::string::npos;
    }
    EXPECT_TRUE(named) << "the error '" << d.value("error", "") << "' does not name the problem ("
                       << c.problem << ")";
    EXPECT_EQ(StateOf(c.name), "awaiting_metadata");
    EXPECT_TRUE(SameBytes(Path("uploads/" + c.name + ".mp4"), clip));
  }

  // A valid sidecar replaces one of them: that video is processed; the
  // others, unchanged, are not reported again.
  PutSidecar("uploads/notitle.json", Metadata("Now with a title"));
  RunUntilIdle();

  EXPECT_EQ(StateOf("notitle"), "processed");
  EXPECT_TRUE(SameBytes(Path("processed/notitle/notitle.mp4"), clip));
  EXPECT_EQ(hook_.EventsFor("vidgate.video.processed", "notitle").size(), 1u);
  for (const auto& c : cases) {
    EXPECT_EQ(hook_.EventsFor("vidgate.metadata.invalid", c.name).size(), 1u) << c.name;
    if (c.name != "notitle") {
      EXPECT_EQ(StateOf(c.name), "awaiting_metadata") << c.name;
    }
  }
}

// ---------------------------------------------------------------------------
// 7. Names are paths: spaces, Unicode, symbols and sub-folders survive.
TEST_F(E2eTest, NamesWithSpacesUnicodeAndSymbols) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::string odd = "my clip #1 +50% \xC3\xA9";  // "é" in UTF-8
  Upload(odd + ".mp4", clip, "Odd name");
  Upload("a/b/clip.mp4", clip, "Nested");

  RunUntilIdle();

  EXPECT_TRUE(SameBytes(Path("processed/" + odd + "/" + odd + ".mp4"), clip));
  EXPECT_TRUE(FileExists(Path("processed/" + odd + "/" + odd + ".json")));
  EXPECT_TRUE(FileExists(Path("processed/" + odd + "/vidgate/report.json")));
  EXPECT_TRUE(SameBytes(Path("processed/a/b/clip/clip.mp4"), clip));
  EXPECT_TRUE(FileExists(Path("processed/a/b/clip/clip.json")));

  json shown = Show(odd);
  ASSERT_TRUE(shown.is_object()) << "show by a name with spaces and Unicode";
  EXPECT_EQ(shown.value("name", ""), odd);
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(shown.value("location", ""), "processed/" + odd);
  shown = Show("a/b/clip");
  ASSERT_TRUE(shown.is_object()) << "show by a name with sub-folders";
  EXPECT_EQ(shown.value("name", ""), "a/b/clip");
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(shown.value("location", ""), "processed/a/b/clip");
  EXPECT_EQ(Subjects(hook_.Events("vidgate.video.processed")),
            (std::set<std::string>{odd, "a/b/clip"}));
}

// ---------------------------------------------------------------------------
// 8. clip.mp4 and clip.mkv are two videos named clip; neither overwrites the
// other.
TEST_F(E2eTest, SameStemDifferentExtensions) {
  const std::string mp4 = Clip("mp4");
  const std::string mkv = Clip("mkv");
  ASSERT_FALSE(mp4.empty());
  ASSERT_FALSE(mkv.empty());
  PutSidecar("uploads/clip.mp4.json", Metadata("the mp4"));
  PutSidecar("uploads/clip.mkv.json", Metadata("the mkv"));
  PutFile("uploads/clip.mp4", mp4);
  PutFile("uploads/clip.mkv", mkv);

  RunUntilIdle();

  json list = List();
  ASSERT_TRUE(list.is_object());
  ASSERT_EQ(list["videos"].size(), 2u);
  std::set<std::string> locations;
  for (const auto& v : list["videos"]) {
    EXPECT_EQ(v.value("name", ""), "clip");
    EXPECT_EQ(v.value("state", ""), "processed");
    json shown = Show(std::to_string(v.value("id", int64_t{0})));
    ASSERT_TRUE(shown.is_object());
    const std::string location = shown.value("location", "");
    locations.insert(location);
    const std::string title = shown["metadata"].value("title", "");
    const std::string ext = title == "the mp4" ? "mp4" : "mkv";
    EXPECT_EQ(EntriesOf(Path(location)),
              (std::vector<std::string>{"clip." + ext, "clip." + ext + ".json", "vidgate"}))
        << location;
    EXPECT_TRUE(SameBytes(Path(location + "/clip." + ext), ext == "mp4" ? mp4 : mkv));
    EXPECT_EQ(json::parse(ReadFile(Path(location + "/clip." + ext + ".json")), nullptr, false),
              Metadata(title));
  }
  EXPECT_EQ(locations, (std::set<std::string>{"processed/clip", "processed/clip-2"}));
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
}

// ---------------------------------------------------------------------------
// 9. The same name uploaded after the first one was processed is a new video.
TEST_F(E2eTest, ReuploadAfterProcessingIsANewVideo) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  Upload("clip.mp4", clip, "First upload");
  RunUntilIdle();
  ASSERT_EQ(StateOf("clip"), "processed");
  const auto first = Snapshot(Path("processed/clip"));
  ASSERT_FALSE(first.empty());

  Upload("clip.mp4", clip, "Second upload");
  RunUntilIdle();

  EXPECT_EQ(Snapshot(Path("processed/clip")), first) << "processed/clip/ was touched";
  EXPECT_TRUE(SameBytes(Path("processed/clip-2/clip.mp4"), clip));
  EXPECT_EQ(json::parse(ReadFile(Path("processed/clip-2/clip.json")), nullptr, false),
            Metadata("Second upload"));
  json list = List();
  ASSERT_TRUE(list.is_object());
  ASSERT_EQ(list["videos"].size(), 2u);
  const json& newest = list["videos"][0];
  const json& oldest = list["videos"][1];
  EXPECT_GT(newest.value("id", 0), oldest.value("id", 0)) << "list must be newest first";
  for (const auto& v : list["videos"]) {
    EXPECT_EQ(v.value("name", ""), "clip");
    EXPECT_EQ(v.value("state", ""), "processed");
  }
  // Newest first: `show NAME` finds the newest video of that name.
  json shown = Show("clip");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("id", int64_t{0}), newest.value("id", int64_t{-1}));
  EXPECT_EQ(shown.value("location", ""), "processed/clip-2");
  EXPECT_EQ(hook_.EventsFor("vidgate.video.processed", "clip").size(), 2u);
}

// ---------------------------------------------------------------------------
// 10. A file that keeps changing is not picked up until it settles.
TEST_F(E2eTest, UnsettledFileIsNotPickedUp) {
  // Far over the 0.3 s between writes, and over a `vidgate list` on a
  // loaded machine (the writer waits for it).
  settings_.settle_seconds = 3;
  WriteConfig();
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::string bytes = ReadFile(clip);

  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(WaitUntil([&] { return StderrOf(daemon).find("vidgate run:") != std::string::npos; },
                        Seconds(10), "run to start"));
  PutSidecar("uploads/slow.json", Metadata("Slow upload"));

  // Append a seventh of the file every 0.3 s (the writer's pace, not a wait).
  const std::string target = Path("uploads/slow.mp4");
  const int kChunks = 7;
  const size_t chunk = bytes.size() / kChunks + 1;
  auto next = std::chrono::steady_clock::now();
  double last_write = 0;
  for (int i = 0; i < kChunks; ++i) {
    std::this_thread::sleep_until(next);
    next += std::chrono::milliseconds(300);
    {
      std::ofstream out(target, std::ios::binary | std::ios::app);
      const size_t from = std::min(bytes.size(), i * chunk);
      out.write(bytes.data() + from,
                static_cast<std::streamsize>(std::min(chunk, bytes.size() - from)));
    }
    last_write = WallNow();
    json list = List();
    ASSERT_TRUE(list.is_object());
    EXPECT_TRUE(list["videos"].empty())
        << "picked up while still being written (chunk " << i << "): " << list.dump();
  }
  ASSERT_TRUE(SameBytes(target, clip));

  ASSERT_TRUE(WaitUntil([&] { return StateOf("slow") == "processed"; }, Seconds(20),
                        "slow to be processed"));
  json shown = Show("slow");
  ASSERT_TRUE(shown.is_object());
  const double created = ParseTime(shown.value("created_at", ""));
  EXPECT_GE(created, last_write + settings_.settle_seconds - 0.1)
      << "registered before the file had been stable for settle_seconds";
  EXPECT_TRUE(SameBytes(Path("processed/slow/slow.mp4"), clip));
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(15)), 0);
}

// ---------------------------------------------------------------------------
// 11. A worker killed mid-attempt: the lease expires, the attempt is
// recorded as interrupted, the next process finishes the video exactly once.
TEST_F(E2eTest, KilledMidAttemptIsProcessedExactlyOnce) {
  settings_.workers = 1;
  settings_.lease_seconds = 1;  // the killed attempt's lease runs out soon
  WriteConfig();
  const std::string clip = LongClip();
  ASSERT_FALSE(clip.empty());
  Upload("long.mp4", clip, "Long");

  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  // `run` has made its catalog once it says it runs; only then poll with
  // `show` (see ConcurrentCommandsOnAFreshCatalog).
  ASSERT_TRUE(WaitUntil([&] { return StderrOf(daemon).find("vidgate run:") != std::string::npos; },
                        Seconds(10), "run to start"));
  ASSERT_TRUE(WaitUntil([&] { return StateOf("long") == "processing"; }, Seconds(20),
                        "long to be processing"));
  EXPECT_EQ(Signal(daemon, SIGKILL, Seconds(10)), 128 + SIGKILL);
  ASSERT_EQ(StateOf("long"), "processing") << "the attempt ended before the kill; the clip is "
                                              "too short for this machine";

  RunUntilIdle(Seconds(90));

  json shown = Show("long");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(Outcomes(shown), (std::vector<std::string>{"interrupted", "succeeded"}));
  EXPECT_EQ(EntriesOf(Path("processed")), std::vector<std::string>{"long"});
  EXPECT_TRUE(SameBytes(Path("processed/long/long.mp4"), clip)) << "the original was half-moved";
  EXPECT_TRUE(FileExists(Path("processed/long/long.json")));
  EXPECT_TRUE(FilesUnder(Path("uploads")).empty());
  EXPECT_TRUE(FilesUnder(Path("failed")).empty());
  EXPECT_TRUE(FilesUnder(Path("unable_to_process")).empty());
  const auto work = FilesUnder(Path(".vidgate"));
  EXPECT_TRUE(work.empty()) << "left in .vidgate/: " << work.front();
  EXPECT_EQ(hook_.EventsFor("vidgate.video.processed", "long").size(), 1u);
}

// ---------------------------------------------------------------------------
// 12. SIGTERM mid-attempt releases the video: exit 0, nothing counted as
// failed, the next run finishes it.
TEST_F(E2eTest, SigtermReleasesTheAttempt) {
  settings_.workers = 1;
  WriteConfig();
  const std::string clip = LongClip();
  ASSERT_FALSE(clip.empty());
  Upload("long.mp4", clip, "Long");

  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  // `run` has made its catalog once it says it runs; only then poll with
  // `show` (see ConcurrentCommandsOnAFreshCatalog).
  ASSERT_TRUE(WaitUntil([&] { return StderrOf(daemon).find("vidgate run:") != std::string::npos; },
                        Seconds(10), "run to start"));
  ASSERT_TRUE(WaitUntil([&] { return StateOf("long") == "processing"; }, Seconds(20),
                        "long to be processing"));
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(10)), 0) << "run must exit 0 on SIGTERM";
  EXPECT_LT(Seconds(std::chrono::steady_clock::now() - sent).count(), 5.0)
      << "run took too long to stop";

  // Processing the 40 s clip takes far longer than the stop: the attempt was
  // released, not finished, and left no trace but the video back in line.
  json released = Show("long");
  ASSERT_TRUE(released.is_object());
  EXPECT_EQ(released.value("state", ""), "queued") << "after SIGTERM the video must be queued";
  EXPECT_TRUE(released["attempts"].empty()) << released["attempts"].dump();
  EXPECT_TRUE(SameBytes(Path("uploads/long.mp4"), clip));
  EXPECT_TRUE(FilesUnder(Path("processed")).empty());
  EXPECT_TRUE(FilesUnder(Path(".vidgate/work")).empty()) << "the work files must be gone";

  RunUntilIdle(Seconds(90));

  json shown = Show("long");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "processed");
  auto outcomes = Outcomes(shown);
  ASSERT_FALSE(outcomes.empty());
  EXPECT_EQ(outcomes.back(), "succeeded");
  for (const auto& o : outcomes) {
    EXPECT_TRUE(o != "failed" && o != "interrupted")
        << "a released attempt was counted: " << shown["attempts"].dump();
  }
  EXPECT_TRUE(SameBytes(Path("processed/long/long.mp4"), clip));
  EXPECT_EQ(CountOf("vidgate.video.failed"), 0);
  EXPECT_EQ(hook_.EventsFor("vidgate.video.processed", "long").size(), 1u);
}

// ---------------------------------------------------------------------------
// 13. The webhook answers 503 for a while: `run --until-idle` keeps trying,
// and in the end every event got through (at least once).
TEST_F(E2eTest, WebhookDownForAWhileStillGetsEverything) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  hook_.SetDown(true);
  Upload("first.mp4", clip, "First");
  Upload("second.mp4", clip, "Second");

  pid_t run = StartDaemon({"run", "--until-idle"});
  ASSERT_GT(run, 0);
  // Down from the start, and for 2 s more once the first delivery was
  // refused (within the delivery budget: notify.delivery_attempts = 12 tries
  // with 0.2-0.5 s back-off).
  ASSERT_TRUE(WaitUntil([&] { return !hook_.Requests().empty(); }, Seconds(30),
                        "a first delivery attempt"));
  hook_.SetDownFor(Seconds(2));
  EXPECT_EQ(WaitForExit(run, Seconds(60)), 0) << Tail(StderrOf(run));

  std::set<std::string> attempted, accepted;
  int refused = 0;
  for (const auto& r : hook_.Requests()) {
    EXPECT_TRUE(r.signature_ok);
    const std::string id = r.event.is_object() ? r.event.value("id", "") : "";
    attempted.insert(id);
    if (r.status == 200) {
      accepted.insert(id);
    } else {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0) << "the receiver was never down while vidgate delivered";
  EXPECT_EQ(accepted, attempted) << "some events were never delivered";
  EXPECT_EQ(Subjects(hook_.Events("vidgate.video.processed")),
            (std::set<std::string>{"first", "second"}));
  EXPECT_EQ(StateOf("first"), "processed");
  EXPECT_EQ(StateOf("second"), "processed");
}

// ---------------------------------------------------------------------------
// 14. The command line's contract: exit codes, messages, --json, --config,
// --log-format.
// database.password may name a Secrets Manager secret (a Lambda function's
// only way to be handed one): it is read at start, and a secret that cannot
// be read is one sentence naming the key and the secret, never its value.
// `vidgate run` serves its health on server.listen (a free port here), as
// a container platform probes it; --no-server serves nothing.
TEST_F(E2eTest, RunServesItsHealth) {
  pid_t daemon = StartDaemon({"run"});
  ASSERT_GT(daemon, 0);
  const std::string address = ServedAddress(daemon);
  ASSERT_FALSE(address.empty());
  httplib::Client client("http://" + address);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto ready = client.Get("/readyz");
        return ready && ready->status == 200;
      },
      Seconds(10), "ready"));
  // Probes that hang up before the answer (a health check that timed out):
  // each costs that connection, never the process (SIGPIPE).
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  for (int i = 0; i < 50; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const std::string request = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto after = client.Get("/healthz");
  ASSERT_TRUE(after) << "vidgate died of probes that hung up: " << Tail(StderrOf(daemon));
  EXPECT_EQ(after->status, 200);

  EXPECT_EQ(Signal(daemon, SIGTERM, Seconds(20)), 0);
  EXPECT_FALSE(client.Get("/healthz")) << "served after it stopped";

  RunResult quiet = Run({"run", "--until-idle", "--no-server"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("serving http://"), std::string::npos) << quiet.err;
}

TEST_F(E2eTest, ADatabasePasswordFromSecretsManager) {
  httplib::Server secrets;
  secrets.set_keep_alive_max_count(1);
  std::mutex mu;
  std::vector<std::string> targets;
  std::string answer =
      R"({"SecretString":"{\"username\":\"vidgate\",\"password\":\"s3cr3t-value\"}"})";
  int status = 200;
  secrets.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    targets.push_back(req.get_header_value("X-Amz-Target"));
    res.status = status;
    res.set_content(answer, "application/x-amz-json-1.1");
  });
  const int port = secrets.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { secrets.listen_after_bind(); });
  while (!secrets.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string arn = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:vidgate-db-AbCdEf";
  extra_env_ = {"VIDGATE_DATABASE_PASSWORD=" + arn,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:" + std::to_string(port),
                "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=example-secret"};

  RunResult r = Run({"list", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(targets, std::vector<std::string>{"secretsmanager.GetSecretValue"});
    answer =
        R"({"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."})";
    status = 400;
  }
  r = Run({"list"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("database.password"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(arn), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("s3cr3t-value"), std::string::npos) << r.err;
  secrets.stop();
  serving.join();
}

TEST_F(E2eTest, CliErrors) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());

  // An unknown key and a value of the wrong type: exit 2, naming the key.
  WriteFile(root() + "/unknown.toml", "[storage]\nsettle_seconds = 1\nbogus_key = 3\n");
  RunResult r = Run({"--config", root() + "/unknown.toml", "list"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("storage.bogus_key"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one sentence: " << r.err;
  WriteFile(root() + "/wrongtype.toml", "[retry]\nmax_attempts = \"five\"\n");
  r = Run({"--config", root() + "/wrongtype.toml", "list"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("retry.max_attempts"), std::string::npos) << r.err;

  // --config after the subcommand, from a folder without vidgate.toml.
  fs::create_directories(root() + "/elsewhere");
  r = Run({"list", "--config", root() + "/unknown.toml"}, Seconds(20), root() + "/elsewhere");
  EXPECT_EQ(r.exit_code, 2) << "--config after the subcommand was not read: " << r.err;
  r = Run({"list", "--json", "--config", root() + "/vidgate.toml"}, Seconds(20),
          root() + "/elsewhere");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(doc.is_object() && doc.contains("videos")) << r.out;

  // Operations that say no, and bad usage.
  r = Run({"show", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  r = Run({"list", "--state", "bogus"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
  const std::string text = root() + "/notes.txt";
  WriteFile(text, "just some notes, not media\n");
  r = Run({"probe", text});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("notes.txt"), std::string::npos) << "the error must name the file";
  // With --json, a refusal is still exactly one JSON document on stdout,
  // carrying the sentence stderr has.
  for (const auto& [args, code] :
       {std::pair{std::vector<std::string>{"probe", text, "--json"}, 1},
        std::pair{std::vector<std::string>{"qc", text, "--json"}, 1},
        std::pair{std::vector<std::string>{"show", "nosuch", "--json"}, 1},
        std::pair{std::vector<std::string>{"list", "--state", "bogus", "--json"}, 2},
        std::pair{
            std::vector<std::string>{"list", "--json", "--config", root() + "/wrongtype.toml"}, 2},
        std::pair{std::vector<std::string>{"list", "--json", "--state"}, 2}}) {
    r = Run(args);
    EXPECT_EQ(r.exit_code, code) << args[0] << " " << args.back();
    json error = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(error.is_discarded()) << args[0] << ": stdout is not one JSON document:\n"
                                       << r.out;
    ASSERT_TRUE(error.contains("error") && error["error"].is_string()) << r.out;
    EXPECT_NE(r.err.find(error["error"].get<std::string>()), std::string::npos) << r.err;
  }

  // probe --json: exactly one JSON document on stdout, of the contract shape.
  r = Run({"probe", clip, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json probe = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(probe.is_discarded()) << "stdout is not exactly one JSON document:\n" << r.out;
  ASSERT_TRUE(probe.contains("format") && probe.contains("streams")) << r.out;
  for (const char* key : {"name", "duration", "bit_rate", "size"}) {
    EXPECT_TRUE(probe["format"].contains(key)) << "format lacks " << key;
  }
  EXPECT_TRUE(probe["format"]["duration"].is_number());
  EXPECT_NEAR(probe["format"].value("duration", 0.0), 1.5, 0.2);
  EXPECT_EQ(probe["format"].value("size", int64_t{0}), static_cast<int64_t>(fs::file_size(clip)));
  ASSERT_EQ(probe["streams"].size(), 2u);
  for (const auto& s : probe["streams"]) {
    for (const char* key : {"index", "type", "codec", "width", "height", "frame_rate", "pix_fmt",
                            "sample_rate", "channels", "duration"}) {
      EXPECT_TRUE(s.contains(key)) << "stream lacks " << key << ": " << s.dump();
    }
    if (s.value("type", "") == "video") {
      EXPECT_EQ(s.value("codec", ""), "h264");
      EXPECT_EQ(s.value("width", 0), 320);
      EXPECT_EQ(s.value("height", 0), 240);
      EXPECT_TRUE(s["frame_rate"].is_number());
      EXPECT_NEAR(s.value("frame_rate", 0.0), 25.0, 0.01);
      EXPECT_EQ(s.value("pix_fmt", ""), "yuv420p");
    } else {
      EXPECT_EQ(s.value("type", ""), "audio");
      EXPECT_EQ(s.value("codec", ""), "aac");
      EXPECT_EQ(s.value("sample_rate", 0), 48000);
      EXPECT_EQ(s.value("channels", 0), 1);
    }
  }

  // --log-format json: every stderr line of a run is a JSON object.
  Upload("clip.mp4", clip, "Logged");
  r = Run({"--log-format", "json", "run", "--until-idle"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.err);
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    ++count;
    json entry = json::parse(line, nullptr, false);
    EXPECT_TRUE(entry.is_object()) << "not a JSON object: " << line;
  }
  EXPECT_GE(count, 3) << "expected log lines from the run";
  EXPECT_TRUE(r.out.empty()) << "logs must go to stderr: " << r.out;
  EXPECT_EQ(StateOf("clip"), "processed");
}

// ---------------------------------------------------------------------------
// 15. In-progress uploads are ignored: hidden names (or folders), .part,
// .tmp and .crdownload; a sidecar alone is not a video.
TEST_F(E2eTest, InProgressUploadsAreIgnored) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  const std::vector<std::string> keys = {
      "uploads/.hidden.mp4", "uploads/.partial/clip.mp4",   "uploads/clip.mp4.part",
      "uploads/clip.tmp",    "uploads/clip.mp4.crdownload",
  };
  for (const auto& key : keys) PutFile(key, clip);
  PutSidecar("uploads/clip.json", Metadata("A sidecar alone"));

  RunUntilIdle();

  json list = List();
  ASSERT_TRUE(list.is_object());
  EXPECT_TRUE(list["videos"].empty()) << list.dump(2);
  for (const auto& key : keys) EXPECT_TRUE(SameBytes(Path(key), clip)) << key;
  EXPECT_TRUE(FileExists(Path("uploads/clip.json")));
  EXPECT_TRUE(FilesUnder(Path("processed")).empty());
  EXPECT_TRUE(hook_.Requests().empty());
}

// ---------------------------------------------------------------------------
// 16. Several processes opening a brand-new catalog at once (`list` while
// `run` starts, two workers started together) must all succeed: the store
// and catalog are meant to be shared by any number of processes.
// (Once about one process in six failed with "database is locked" here.)
TEST_F(E2eTest, ConcurrentCommandsOnAFreshCatalog) {
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string dir = root() + "/fresh-" + std::to_string(round);
    fs::create_directories(dir);
    WriteFile(dir + "/vidgate.toml", "[storage]\nurl = \"file://" + dir + "/data\"\n");
    std::vector<pid_t> pids;
    for (const char* command : {"migrate", "list"}) {
      pids.push_back(StartDaemon({command}, dir));
    }
    int failures = 0;
    for (pid_t pid : pids) {
      if (pid <= 0) continue;
      int code = WaitForExit(pid, Seconds(30));
      EXPECT_EQ(code, 0) << "a concurrent first open failed: " << StderrOf(pid);
      failures += code != 0;
    }
    if (failures > 0) break;
  }
}

}  // namespace
}  // namespace vidgate::e2e

namespace vidgate::e2e {
namespace {

// `vidgate demo` drops samples that take each path through the pipeline.
TEST_F(E2eTest, DemoShowsEveryPath) {
  RunResult demo = Run({"demo"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  RunUntilIdle();
  std::map<std::string, std::string> states;
  json list = List();
  ASSERT_TRUE(list.is_object());
  for (const auto& v : list["videos"]) {
    std::string name = v["name"];
    states[name.substr(name.find('/') + 1)] = v["state"];
  }
  EXPECT_EQ(states["welcome"], "processed");
  EXPECT_EQ(states["black-intro"], "processed");
  EXPECT_EQ(states["no-metadata"], "awaiting_metadata");
  EXPECT_EQ(states["bad-sidecar"], "awaiting_metadata");
  EXPECT_EQ(states["broken"], "unable_to_process");
  EXPECT_EQ(CountOf("vidgate.metadata.missing"), 1);
  EXPECT_EQ(CountOf("vidgate.metadata.invalid"), 1);
}

}  // namespace
}  // namespace vidgate::e2e
