// naming.h: how storage keys map to videos, sidecars and destinations
// (ARCHITECTURE.md "Contract: storage layout").
#pragma once

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

enum class KeyKind { kVideo, kSidecar, kIgnored };

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

// "processed/NAME" for attempt n = 1, "processed/NAME-n" after that.
std::string NumberedFolder(std::string_view prefix, std::string_view name, int n);

// "failed/a/clip.mp4" for n = 1, "failed/a/clip-n.mp4" after that.
std::string NumberedFile(std::string_view prefix, std::string_view name, std::string_view file_name,
                         int n);

}  // namespace vidgate::pipeline
