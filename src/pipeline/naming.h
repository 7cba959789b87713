// naming.h: how storage keys map to videos, sidecars and destinations
// (ARCHITECTURE.md "Contract: storage layout").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vidgate::pipeline {

inline constexpr std::string_view kUploads = "uploads/";
inline constexpr std::string_view kFailed = "failed/";
inline constexpr std::string_view kProcessed = "processed/";
inline constexpr std::string_view kUnable = "unable_to_process/";
inline constexpr std::string_view kWork = ".vidgate/";

// Inside a filed folder (processed/NAME/, unable_to_process/NAME/), the
// original and its sidecar keep their own file names, and everything vidgate
// writes (report.json, renditions/, hls/, thumbnails/) sits under this one
// folder. Every original's and sidecar's file name there starts with NAME's
// last component followed by nothing or a '.', so the one name that could
// clash is an extensionless upload called "vidgate": ParseKey refuses it.
inline constexpr std::string_view kOwnFolder = "vidgate";

// `folder`/vidgate/`relative`: where vidgate's own file `relative`
// ("report.json", "renditions/main.mp4") of a filed video lives.
std::string OwnKey(std::string_view folder, std::string_view relative);

// The longest key a video uploaded at `video_key` can be given when it is
// filed: under unable_to_process/, its folder numbered up to -99999, with its
// sidecar ("clip.mp4.json") or vidgate's own files (rendition names are at
// most 64 bytes, so vidgate/hls/NAME/SEGMENT fits in 128). A store with a key
// limit (S3: 1024 bytes) refuses longer uploads at intake, rather than
// failing to file them after the work.
size_t LongestFiledKey(std::string_view video_key);

// kRefused: a name vidgate cannot take (see kOwnFolder); left where it is.
// kCaption: a caption sidecar (".srt", ".vtt"), taken with its video.
enum class KeyKind { kVideo, kSidecar, kCaption, kIgnored, kRefused };

struct ParsedKey {
  KeyKind kind = KeyKind::kIgnored;
  std::string name;       // NAME: path under the prefix, without extension
  std::string file_name;  // last component, e.g. "clip.mp4"
};

// Classifies a key under uploads/ or failed/. In-progress uploads (a name
// starting with '.', or ending in .part, .tmp, .crdownload) and keys outside
// those prefixes are ignored; ".json" files are sidecars.
ParsedKey ParseKey(std::string_view key);

// Sidecar keys for a video key, in order of preference: "a/clip.json" then
// "a/clip.mp4.json" (same folder).
std::vector<std::string> SidecarCandidates(std::string_view video_key);

// Caption sidecars sit beside their video: "clip.en.srt" and "clip.pt-BR.vtt"
// beside "clip.mp4" ("clip.srt": no language). The label is what lies
// between the video's stem and the extension ("en", "pt-BR", "en.sdh"):
// dot-separated parts of letters, digits, '-' and '_', at most 32 bytes;
// its first part is the language. "und" when there is none; none when
// `caption_file` is not a caption of `video_file`.
inline constexpr size_t kMaxCaptionLabel = 32;
std::optional<std::string> CaptionLabel(std::string_view caption_file, std::string_view video_file);

// The video `caption_file` belongs to, of those `video_with_stem` finds in
// its folder (the video file whose stem is that, if any): the one with the
// longest stem it is a caption of ("talk.part2.en.srt" is talk.part2.mp4's
// when that is there, else talk.mp4's); none when no video takes it. A file
// that is surely no video (subtitles in another format such as
// "talk.en.ass", text, pictures, backups) owns none.
using VideoWithStem = std::function<std::optional<std::string>(std::string_view stem)>;

// Whether `file`, though vidgate would take it as a video (the probe
// judges any name), is surely none: subtitles in a format vidgate does not
// read ("talk.en.ass"), text, pictures, editors' backups ("x~", ".bak").
bool SurelyNoVideo(std::string_view file);

// The name a file still arriving will have: "x.mp4" for "x.mp4.part",
// "x.mp4.tmp", "x.mp4.crdownload", and rsync's ".x.mp4.AbC123" (a leading
// dot, six letters or digits after the last); none for any other name.
std::optional<std::string> ArrivingAs(std::string_view file);
std::optional<std::string> CaptionOwner(std::string_view caption_file,
                                        const VideoWithStem& video_with_stem);

// The caption's file name beside the video now called `video_file`, for one
// called `caption_file` beside `current_video` ("clip.en.srt" beside
// "clip.mp4" is "clip-2.en.srt" beside "clip-2.mp4").
std::string CaptionNameFor(std::string_view caption_file, std::string_view current_video,
                           std::string_view video_file);

// The key's last component.
std::string FileName(std::string_view key);

// `file_name` without its extension ("clip.mp4" -> "clip"; ".hidden" and
// "noext" stay whole).
std::string Stem(std::string_view file_name);

// The folder part of `key` with its slash ("a/b/clip.mp4" -> "a/b/"), "" for
// none.
std::string Folder(std::string_view key);

// The sidecar's file name beside a video called `video_file`, keeping the
// form the uploader chose ("clip.json" or "clip.mp4.json").
std::string SidecarNameFor(std::string_view current_sidecar, std::string_view current_video,
                           std::string_view video_file);

// `part` for n = 1, "part-n" after that: the forms a taken folder name
// takes ("clip", "clip-2", ...).
std::string Numbered(std::string_view part, int n);

// "failed/a/clip.mp4" for n = 1, "failed/a/clip-n.mp4" after that.
std::string NumberedFile(std::string_view prefix, std::string_view name, std::string_view file_name,
                         int n);

}  // namespace vidgate::pipeline
