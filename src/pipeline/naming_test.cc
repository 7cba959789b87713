#include "pipeline/naming.h"

#include <gtest/gtest.h>

#include <map>

namespace vidgate::pipeline {
namespace {

TEST(NamingTest, VideosAndSidecars) {
  auto v = ParseKey("uploads/a/clip.mp4");
  EXPECT_EQ(v.kind, KeyKind::kVideo);
  EXPECT_EQ(v.name, "a/clip");
  EXPECT_EQ(v.file_name, "clip.mp4");
  auto s = ParseKey("uploads/a/clip.json");
  EXPECT_EQ(s.kind, KeyKind::kSidecar);
  EXPECT_EQ(ParseKey("failed/clip.mov").name, "clip");
  EXPECT_EQ(ParseKey("uploads/no_extension").name, "no_extension");
  EXPECT_EQ(ParseKey("uploads/my clip #1 +50%.mp4").name, "my clip #1 +50%");
}

TEST(NamingTest, CaptionSidecarsAreTheirOwnKind) {
  EXPECT_EQ(ParseKey("uploads/a/clip.en.srt").kind, KeyKind::kCaption);
  EXPECT_EQ(ParseKey("failed/clip.pt-BR.VTT").kind, KeyKind::kCaption);
  EXPECT_EQ(ParseKey("uploads/clip.srt.part").kind, KeyKind::kIgnored);
  EXPECT_EQ(CaptionLabel("clip.en.srt", "clip.mp4"), "en");
  EXPECT_EQ(CaptionLabel("clip.pt-BR.vtt", "clip.mp4"), "pt-BR");
  EXPECT_EQ(CaptionLabel("clip.en.sdh.VTT", "clip.mp4"), "en.sdh");
  EXPECT_EQ(CaptionLabel("clip.srt", "clip.mp4"), "und");
  EXPECT_EQ(CaptionLabel("clip.srt", "clip"), "und");
  for (const char* not_one :
       {"clip.en.json", "clipper.en.srt", "clip..srt", "clip.en..srt", "clip.e n.srt",
        "clip.en.srt.srt.x", "other.en.srt", "clip.mp4", "a/clip.en.srt", "clip.en\xff.srt"}) {
    EXPECT_FALSE(CaptionLabel(not_one, "clip.mp4")) << not_one;
  }
  EXPECT_FALSE(CaptionLabel("clip." + std::string(33, 'x') + ".srt", "clip.mp4"));
  EXPECT_EQ(CaptionNameFor("clip.en.srt", "clip.mp4", "clip-2.mp4"), "clip-2.en.srt");
  EXPECT_EQ(CaptionNameFor("clip-2.srt", "clip-2.mp4", "clip.mp4"), "clip.srt");
}

TEST(NamingTest, ACaptionBelongsToTheVideoWithTheLongestStemThatTakesIt) {
  const std::map<std::string, std::string, std::less<>> videos = {
      {"talk", "talk.mp4"}, {"talk.part2", "talk.part2.mov"}, {"a.b", "a.b.mkv"}};
  const VideoWithStem beside = [&](std::string_view stem) -> std::optional<std::string> {
    auto it = videos.find(stem);
    return it == videos.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  EXPECT_EQ(CaptionOwner("talk.en.srt", beside), "talk.mp4");
  EXPECT_EQ(CaptionOwner("talk.srt", beside), "talk.mp4");
  EXPECT_EQ(CaptionOwner("talk.part2.en.srt", beside), "talk.part2.mov");
  EXPECT_EQ(CaptionOwner("talk.part2.srt", beside), "talk.part2.mov");
  EXPECT_EQ(CaptionOwner("talk.part3.en.srt", beside), "talk.mp4");  // label "part3.en"
  EXPECT_EQ(CaptionOwner("a.b.fr.vtt", beside), "a.b.mkv");
  // The same subtitles in a format vidgate does not read, or a backup,
  // is no video that could take them.
  const VideoWithStem with_others = [&](std::string_view stem) -> std::optional<std::string> {
    if (stem == "talk.en") return std::string("talk.en.ASS");
    if (stem == "talk.fr") return std::string("talk.fr.srt~");
    return beside(stem);
  };
  EXPECT_EQ(CaptionOwner("talk.en.srt", with_others), "talk.mp4");
  EXPECT_EQ(CaptionOwner("talk.fr.vtt", with_others), "talk.mp4");
  for (const char* none :
       {"other.en.srt", "talk.español.srt", ".en.srt", "talk", "talk.en.txt", "........"}) {
    EXPECT_FALSE(CaptionOwner(none, beside)) << none;
  }
}

TEST(NamingTest, AFileStillArrivingIsKnownByTheNameItWillHave) {
  const std::map<std::string, std::string> arriving = {{"talk.part2.mp4.part", "talk.part2.mp4"},
                                                       {"talk.mp4.tmp", "talk.mp4"},
                                                       {"talk.mp4.crdownload", "talk.mp4"},
                                                       {".talk.part2.mp4.Xy12Ab", "talk.part2.mp4"},
                                                       {".a.Xy12Ab", "a"}};
  for (const auto& [file, name] : arriving) EXPECT_EQ(ArrivingAs(file), name) << file;
  for (const char* not_arriving :
       {"talk.mp4", ".part", ".talk.mp4", ".talk.mp4.ab-12c", "talk.mp4.Xy12Ab", "..Xy12Ab"}) {
    EXPECT_FALSE(ArrivingAs(not_arriving)) << not_arriving;
  }
}

TEST(NamingTest, InProgressUploadsAreIgnored) {
  for (const char* key :
       {"uploads/.hidden.mp4", "uploads/a/.partial/x.mp4", "uploads/x.mp4.part", "uploads/x.tmp",
        "uploads/x.mp4.crdownload", "processed/x/x.mp4", "uploads/"}) {
    EXPECT_EQ(ParseKey(key).kind, KeyKind::kIgnored) << key;
  }
}

TEST(NamingTest, LongestFiledKeyCoversEveryKeyAVideoCanBeFiledAt) {
  const std::string key = "uploads/a/clip.mp4";
  const size_t longest = LongestFiledKey(key);
  // Its numbered folder under unable_to_process/, with the sidecar and the
  // deepest of vidgate's own files (an HLS segment of a 64-byte rendition).
  const std::string folder = Numbered(std::string(kUnable) + "a/clip", 99999);
  EXPECT_GE(longest, (folder + "/clip.mp4.json").size());
  EXPECT_GE(longest, (folder + "/clip." + std::string(kMaxCaptionLabel, 'l') + ".vtt").size());
  EXPECT_GE(longest, OwnKey(folder, "hls/" + std::string(64, 'r') + "/segment_00001.m4s").size());
  EXPECT_LE(longest, 200u) << "a short name must fit any store";
  // A long name counts twice (its folder and its file), past S3's limit.
  const std::string file = std::string(500, 'x') + ".mp4";
  const std::string long_folder =
      Numbered(std::string(kUnable) + "a/" + std::string(500, 'x'), 99999);
  EXPECT_GE(LongestFiledKey("uploads/a/" + file), (long_folder + "/" + file + ".json").size());
  EXPECT_GT(LongestFiledKey("uploads/a/" + file), 1024u);
}

TEST(NamingTest, TheOneNameThatWouldClashWithVidgatesFolderIsRefused) {
  EXPECT_EQ(ParseKey("uploads/vidgate").kind, KeyKind::kRefused);
  EXPECT_EQ(ParseKey("uploads/a/VidGate").kind, KeyKind::kRefused);
  // With an extension, the original is "vidgate.mp4" beside vidgate/: fine.
  EXPECT_EQ(ParseKey("uploads/vidgate.mp4").kind, KeyKind::kVideo);
  EXPECT_EQ(ParseKey("uploads/vidgate.json").kind, KeyKind::kSidecar);
  EXPECT_EQ(ParseKey("uploads/vidgate/clip.mp4").kind, KeyKind::kVideo);
  // Vidgate's own names are ordinary upload names: they live under vidgate/.
  for (const char* key : {"uploads/report.mp4", "uploads/renditions", "uploads/hls",
                          "uploads/thumbnails", "uploads/manifest-sha256.txt"}) {
    EXPECT_EQ(ParseKey(key).kind, KeyKind::kVideo) << key;
  }
}

// Whatever a video's file and sidecar are called, no two files of a filed
// folder share a name: the original and sidecar start with NAME's last
// component, and vidgate's files are all under vidgate/.
TEST(NamingTest, NoUploadNameCollidesWithVidgatesFiles) {
  for (const char* key : {"uploads/report.mp4", "uploads/vidgate.mp4", "uploads/a/renditions",
                          "uploads/thumbnails.mov", "uploads/hls", "uploads/x.mp4"}) {
    ParsedKey p = ParseKey(key);
    ASSERT_EQ(p.kind, KeyKind::kVideo) << key;
    const std::string folder = "processed/" + p.name;
    const std::string original = folder + "/" + p.file_name;
    for (const auto& sidecar : SidecarCandidates(key)) {
      const std::string filed_sidecar = folder + "/" + FileName(sidecar);
      for (const std::string& own :
           {OwnKey(folder, "report.json"), OwnKey(folder, "renditions/a.mp4")}) {
        EXPECT_NE(original, own);
        EXPECT_NE(filed_sidecar, own);
        EXPECT_FALSE(own.starts_with(original + "/")) << key;
        EXPECT_FALSE(own.starts_with(filed_sidecar + "/")) << key;
      }
    }
  }
}

TEST(NamingTest, StemFolderAndSidecarNames) {
  EXPECT_EQ(Stem("clip.mp4"), "clip");
  EXPECT_EQ(Stem("clip.tar.gz"), "clip.tar");
  EXPECT_EQ(Stem("noext"), "noext");
  EXPECT_EQ(Stem(".hidden"), ".hidden");
  EXPECT_EQ(Folder("failed/a/b/clip.mp4"), "failed/a/b/");
  EXPECT_EQ(Folder("clip.mp4"), "");
  // The uploader's form is kept: stem.json, or the video's full name + .json.
  EXPECT_EQ(SidecarNameFor("uploads/clip.json", "uploads/clip.mp4", "clip-2.mp4"), "clip-2.json");
  EXPECT_EQ(SidecarNameFor("uploads/clip.mp4.json", "uploads/clip.mp4", "clip-2.mp4"),
            "clip-2.mp4.json");
}

TEST(NamingTest, SidecarCandidatesKeepTheFolder) {
  EXPECT_EQ(SidecarCandidates("uploads/a/clip.mp4"),
            (std::vector<std::string>{"uploads/a/clip.json", "uploads/a/clip.mp4.json"}));
  EXPECT_EQ(SidecarCandidates("uploads/v1.2/clip")[0], "uploads/v1.2/clip.json");
}

TEST(NamingTest, NumberedDestinations) {
  EXPECT_EQ(Numbered("clip", 1), "clip");
  EXPECT_EQ(Numbered("clip", 3), "clip-3");
  EXPECT_EQ(OwnKey("processed/a/clip", "report.json"), "processed/a/clip/vidgate/report.json");
  EXPECT_EQ(NumberedFile("failed/", "a/clip", "clip.mp4", 1), "failed/a/clip.mp4");
  EXPECT_EQ(NumberedFile("failed/", "a/clip", "clip.mp4", 2), "failed/a/clip-2.mp4");
}

}  // namespace
}  // namespace vidgate::pipeline
