// End-to-end tests of the trust features: declared checksums checked, the
// manifest every filed folder carries (checked with coreutils' sha256sum),
// `vidgate verify`, and exact duplicates under each [dedupe] policy.
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/util.h"
#include "tests/e2e/harness.h"

namespace vidgate::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TrustTest : public VidgateTest {
 protected:
  // Removes the store's object `key` (on S3, s3rver's files for it).
  void RemoveKey(const std::string& key) {
    const fs::path path = Path(key);
    std::error_code ec;
    fs::remove(path, ec);
    for (const auto& entry : fs::directory_iterator(path.parent_path(), ec)) {
      if (entry.path().filename().string().starts_with(path.filename().string() + "._S3rver")) {
        fs::remove(entry.path(), ec);
      }
    }
  }
  // The fixity check of a `show --json` document's QC report, null if none.
  static json CheckOf(const json& shown, const std::string& id) {
    for (const auto& c : shown["qc"]["checks"]) {
      if (c.value("id", "") == id) return c;
    }
    return nullptr;
  }
};

TEST_F(TrustTest, DeclaredChecksumsTheManifestAndVerify) {
  const std::string clip = Clip();
  const std::string other = Clip("mkv");
  ASSERT_FALSE(clip.empty() || other.empty());
  const std::string clip_sha256 = Sha256Hex(ReadFile(clip));
  json good = Metadata("Declared right");
  good["checksum"] = {{"sha256", clip_sha256}};
  PutSidecar("uploads/good.json", good);
  PutFile("uploads/good.mp4", clip);
  json bad = Metadata("Declared wrong");
  const std::string wrong(64, 'a');
  bad["checksum"] = {{"sha256", wrong}};
  PutSidecar("uploads/bad.json", bad);
  PutFile("uploads/bad.mkv", other);
  RunUntilIdle(Seconds(120));

  json shown = Show("good");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown.value("state", ""), "processed");
  EXPECT_EQ(shown.value("sha256", ""), clip_sha256);
  EXPECT_EQ(CheckOf(shown, "fixity").value("status", ""), "pass") << shown["qc"].dump();
  ASSERT_FALSE(shown["outputs"].empty());
  for (const auto& o : shown["outputs"]) {
    const std::string key = o.value("key", "");
    EXPECT_EQ(o.value("sha256", ""), Sha256Hex(ReadFile(Path(key)))) << key;
  }
  // The manifest lists every file of the folder but itself, as sha256sum
  // checks it from the folder.
  const std::string folder = Path("processed/good");
  const std::string manifest = ReadFile(folder + "/vidgate/manifest-sha256.txt");
  std::set<std::string> listed;
  for (size_t at = 0; at < manifest.size();) {
    const size_t end = manifest.find('\n', at);
    listed.insert(manifest.substr(at + 66, end - at - 66));
    at = end + 1;
  }
  std::set<std::string> present;
  for (const auto& f : FilesUnder(folder)) present.insert(f);
  present.erase("vidgate/manifest-sha256.txt");
  EXPECT_EQ(listed, present);
  EXPECT_EQ(shown["files"].size(), present.size() + 1);
  if (!kOnS3) {
    const std::string command =
        "cd '" + folder + "' && sha256sum -c --quiet vidgate/manifest-sha256.txt";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }

  // The wrong declaration: set aside at once, not decoded, never retried.
  json rejected = Show("bad");
  EXPECT_EQ(rejected.value("state", ""), "rejected");
  EXPECT_EQ(rejected["attempts"].size(), 1u);
  const std::string reason = rejected.value("last_error", "");
  EXPECT_NE(reason.find("sha256"), std::string::npos) << reason;
  EXPECT_NE(reason.find(wrong), std::string::npos) << reason;
  EXPECT_NE(reason.find(Sha256Hex(ReadFile(other))), std::string::npos) << reason;
  EXPECT_TRUE(FileExists(Path("unable_to_process/bad/bad.mkv")));
  json report = json::parse(ReadFile(Path("unable_to_process/bad/vidgate/report.json")));
  EXPECT_EQ(report["fixity"]["mismatches"][0]["declared"], wrong);
  EXPECT_EQ(hook_.EventsFor("vidgate.video.rejected", "bad").size(), 1u);

  // verify: all intact, then a flipped byte, a deleted thumbnail, an
  // added file.
  RunResult intact = Run({"verify", "good"});
  EXPECT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  EXPECT_NE(intact.out.find("files intact"), std::string::npos) << intact.out;
  std::string rendition = ReadFile(Path("processed/good/vidgate/renditions/main.mp4"));
  rendition[rendition.size() / 2] ^= 1;
  PutBytes("processed/good/vidgate/renditions/main.mp4", rendition);
  RemoveKey("processed/good/vidgate/thumbnails/0001.jpg");
  PutBytes("processed/good/extra.txt", "not vidgate's");
  RunResult changed = Run({"verify", "good"});
  EXPECT_EQ(changed.exit_code, 1) << changed.out << changed.err;
  EXPECT_NE(changed.out.find("changed  vidgate/renditions/main.mp4"), std::string::npos)
      << changed.out;
  EXPECT_NE(changed.out.find("missing  vidgate/thumbnails/0001.jpg"), std::string::npos)
      << changed.out;
  EXPECT_NE(changed.out.find("added    extra.txt"), std::string::npos) << changed.out;
  RunResult as_json = Run({"verify", "--all", "--json"});
  EXPECT_EQ(as_json.exit_code, 1) << as_json.err;
  json doc = json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << as_json.out;
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["checked"], 2);
  EXPECT_EQ(doc["failed"], 1);
  for (const auto& v : doc["videos"]) {
    if (v["name"] == "good") {
      EXPECT_EQ(v["problems"].size(), 3u) << v.dump();
    } else {
      EXPECT_EQ(v["ok"], true) << v.dump();
    }
  }
  RunResult usage = Run({"verify"});
  EXPECT_EQ(usage.exit_code, 2);
  RunResult unknown = Run({"verify", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
}

TEST_F(TrustTest, TheSameBytesUnderAnotherNameUnderEachPolicy) {
  const std::string clip = Clip();
  ASSERT_FALSE(clip.empty());
  Upload("first.mp4", clip, "First");
  RunUntilIdle(Seconds(120));
  ASSERT_EQ(StateOf("first"), "processed");
  const int64_t first_id = Show("first").value("id", 0);

  // flag (the default): processed as usual, marked.
  Upload("again.mp4", clip, "Again");
  RunUntilIdle(Seconds(120));
  json again = Show("again");
  EXPECT_EQ(again.value("state", ""), "processed");
  EXPECT_EQ(again["qc"]["duplicate_of"]["id"], first_id);
  EXPECT_FALSE(again["outputs"].empty());
  auto processed = hook_.EventsFor("vidgate.video.processed", "again");
  ASSERT_EQ(processed.size(), 1u);
  EXPECT_EQ(processed[0]["data"]["duplicate_of"]["name"], "first");
  // Each rendition's quality, in show and in the event's summary.
  ASSERT_TRUE(again["qc"]["renditions"][0]["quality"].is_object()) << again["qc"].dump();
  EXPECT_GT(again["qc"]["renditions"][0]["quality"].value("ssim_y", 0.0), 0.8);
  ASSERT_EQ(processed[0]["data"]["renditions"].size(), 1u) << processed[0].dump();
  EXPECT_EQ(processed[0]["data"]["renditions"][0]["name"], "main");
  EXPECT_GT(processed[0]["data"]["renditions"][0].value("psnr_y", 0.0), 25.0);

  // reject: set aside with the reason.
  settings_.extra_toml = "[dedupe]\npolicy = \"reject\"\n";
  WriteConfig();
  Upload("third.mp4", clip, "Third");
  RunUntilIdle(Seconds(120));
  json third = Show("third");
  EXPECT_EQ(third.value("state", ""), "rejected");
  EXPECT_NE(third.value("last_error", "").find("the same bytes as video"), std::string::npos);
  EXPECT_TRUE(FileExists(Path("unable_to_process/third/third.mp4")));
  auto rejected = hook_.EventsFor("vidgate.video.rejected", "third");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["data"]["duplicate_of"]["id"], first_id);

  // skip: filed without renditions, pointing at the processed one.
  settings_.extra_toml = "[dedupe]\npolicy = \"skip\"\n";
  WriteConfig();
  Upload("fourth.mp4", clip, "Fourth");
  RunUntilIdle(Seconds(120));
  json fourth = Show("fourth");
  EXPECT_EQ(fourth.value("state", ""), "processed");
  EXPECT_TRUE(fourth["outputs"].empty());
  EXPECT_EQ(fourth["qc"]["duplicate_of"]["location"], "processed/first");
  EXPECT_TRUE(FileExists(Path("processed/fourth/fourth.mp4")));
  EXPECT_FALSE(FileExists(Path("processed/fourth/vidgate/renditions/main.mp4")));
  RunResult verified = Run({"verify", "fourth"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // A policy that does not exist is refused, naming the key.
  settings_.extra_toml = "[dedupe]\npolicy = \"merge\"\n";
  WriteConfig();
  RunResult refused = Run({"list"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("dedupe.policy"), std::string::npos) << refused.err;
}

// Runs the ffmpeg command line; the test fails when it does.
std::string Ffmpeg(const std::string& args, const std::string& out) {
  const std::string command = "ffmpeg -nostdin -v error -y " + args + " '" + out + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return out;
}

TEST_F(TrustTest, NearDuplicatesAreReportedWithTheirTimeRanges) {
  const std::string dir = root() + "/media";
  fs::create_directories(dir);
  const std::string footage = Ffmpeg(
      "-f lavfi -i mandelbrot=s=480x270:r=25 -t 8 -c:v libx264 -preset veryfast -crf 20 "
      "-pix_fmt yuv420p",
      dir + "/footage.mp4");
  Upload("original.mp4", footage, "Original");
  RunUntilIdle(Seconds(120));
  ASSERT_EQ(StateOf("original"), "processed");
  const int64_t original_id = Show("original").value("id", 0);

  Upload("smaller.mkv",
         Ffmpeg("-i '" + footage + "' -vf scale=240:136 -r 30 -c:v mpeg4 -q:v 10", dir + "/s.mkv"),
         "Smaller");
  Upload("trimmed.mp4",
         Ffmpeg("-ss 2.3 -i '" + footage + "' -t 4 -c:v libx264 -preset veryfast -crf 30",
                dir + "/t.mp4"),
         "Trimmed");
  Upload("unrelated.mp4",
         Ffmpeg("-f lavfi -i testsrc2=s=480x270:r=25:d=6 -c:v libx264 -preset veryfast",
                dir + "/u.mp4"),
         "Unrelated");
  RunUntilIdle(Seconds(120));
  for (const std::string name : {"smaller", "trimmed"}) {
    json shown = Show(name);
    EXPECT_EQ(shown.value("state", ""), "processed") << name;
    ASSERT_TRUE(shown["qc"].contains("near_duplicates")) << name << ": " << shown["qc"].dump();
    // The original, and perhaps the other copy when it was filed first.
    json near;
    for (const auto& d : shown["qc"]["near_duplicates"]) {
      if (d["id"] == original_id) near = d;
    }
    ASSERT_TRUE(near.is_object()) << shown["qc"]["near_duplicates"].dump();
    EXPECT_GE(near["similarity"].get<double>(), 0.9) << near.dump();
    ASSERT_FALSE(near["ranges"].empty());
    auto events = hook_.EventsFor("vidgate.video.processed", name);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_FALSE(events[0]["data"]["near_duplicates"].empty());
    EXPECT_FALSE(shown["qc"].contains("duplicate_of")) << "not the same bytes";
  }
  json trimmed;
  const json trimmed_shown = Show("trimmed");
  for (const auto& d : trimmed_shown["qc"]["near_duplicates"]) {
    if (d["id"] == original_id) trimmed = d["ranges"];
  }
  EXPECT_NEAR(trimmed.front()["other_start"].get<double>(), 2.3, 0.6) << trimmed.dump();
  EXPECT_NEAR(trimmed.back()["other_end"].get<double>(), 6.3, 0.6) << trimmed.dump();
  json unrelated = Show("unrelated");
  EXPECT_FALSE(unrelated["qc"].contains("near_duplicates")) << unrelated["qc"].dump();

  // similarity = 0 looks for none.
  settings_.extra_toml = "[dedupe]\nsimilarity = 0\n";
  WriteConfig();
  Upload("again.mkv", dir + "/s.mkv", "Again");
  RunUntilIdle(Seconds(120));
  EXPECT_FALSE(Show("again")["qc"].contains("near_duplicates"));
}

}  // namespace
}  // namespace vidgate::e2e
