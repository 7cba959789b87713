#include "pipeline/naming.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "media/captions.h"

namespace vidgate::pipeline {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Extension(std::string_view file_name) {
  auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return file_name.substr(dot);
}

}  // namespace

std::string FileName(std::string_view key) {
  auto slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

std::string Stem(std::string_view file_name) {
  return std::string(file_name.substr(0, file_name.size() - Extension(file_name).size()));
}

std::string Folder(std::string_view key) {
  auto slash = key.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(key.substr(0, slash + 1));
}

std::string SidecarNameFor(std::string_view current_sidecar, std::string_view current_video,
                           std::string_view video_file) {
  if (FileName(current_sidecar) == FileName(current_video) + ".json") {
    return std::string(video_file) + ".json";
  }
  return Stem(video_file) + ".json";
}

ParsedKey ParseKey(std::string_view key) {
  ParsedKey out;
  std::string_view rest;
  if (key.starts_with(kUploads)) {
    rest = key.substr(kUploads.size());
  } else if (key.starts_with(kFailed)) {
    rest = key.substr(kFailed.size());
  } else {
    return out;
  }
  if (rest.empty()) return out;
  // Any hidden component (".partial/", ".DS_Store") marks work in progress.
  for (size_t start = 0; start < rest.size();) {
    if (rest[start] == '.') return out;
    auto slash = rest.find('/', start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  out.file_name = FileName(rest);
  for (std::string_view suffix : {".part", ".tmp", ".crdownload"}) {
    if (EndsWith(out.file_name, suffix)) return out;
  }
  std::string_view ext = Extension(out.file_name);
  out.name = std::string(rest.substr(0, rest.size() - ext.size()));
  out.kind = ext == ".json"                ? KeyKind::kSidecar
             : media::CaptionFormatOf(ext) ? KeyKind::kCaption
                                           : KeyKind::kVideo;
  // Compared without case, for file systems that ignore it.
  if (out.kind == KeyKind::kVideo && out.file_name.size() == kOwnFolder.size() &&
      std::equal(out.file_name.begin(), out.file_name.end(), kOwnFolder.begin(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
    out.kind = KeyKind::kRefused;
  }
  return out;
}

std::optional<std::string> CaptionLabel(std::string_view caption_file,
                                        std::string_view video_file) {
  if (caption_file.find('/') != std::string_view::npos) return std::nullopt;
  if (!media::CaptionFormatOf(caption_file)) return std::nullopt;
  const std::string stem = Stem(video_file);
  const std::string_view ext = Extension(caption_file);
  if (caption_file.size() < stem.size() + ext.size() || !caption_file.starts_with(stem)) {
    return std::nullopt;
  }
  std::string_view label =
      caption_file.substr(stem.size(), caption_file.size() - stem.size() - ext.size());
  if (label.empty()) return std::string("und");
  if (label[0] != '.') return std::nullopt;
  label.remove_prefix(1);
  if (label.empty() || label.size() > kMaxCaptionLabel) return std::nullopt;
  bool part_empty = true;
  for (char c : label) {
    if (c == '.') {
      if (part_empty) return std::nullopt;
      part_empty = true;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      part_empty = false;
    } else {
      return std::nullopt;
    }
  }
  if (part_empty) return std::nullopt;
  return std::string(label);
}

// Files that are taken as videos (vidgate lets the probe judge any name)
// but are surely none, so they own no caption: the same subtitles in
// another format ("talk.en.ass" beside "talk.en.srt"), text, pictures,
// editors' backups.
bool SurelyNoVideo(std::string_view file) {
  if (file.ends_with('~')) return true;
  std::string ext(Extension(file));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // (.part and the like are ParseKey's in-progress names, never videos.)
  static constexpr std::string_view kNotVideo[] = {
      ".ass", ".ssa",  ".sub", ".idx", ".sbv", ".ttml", ".dfxp", ".scc", ".smi",
      ".stl", ".lrc",  ".txt", ".md",  ".nfo", ".xml",  ".pdf",  ".doc", ".docx",
      ".jpg", ".jpeg", ".png", ".gif", ".bak", ".orig", ".swp"};
  return std::find(std::begin(kNotVideo), std::end(kNotVideo), ext) != std::end(kNotVideo);
}

std::optional<std::string> ArrivingAs(std::string_view file) {
  for (std::string_view suffix : {".part", ".tmp", ".crdownload"}) {
    if (file.size() > suffix.size() && EndsWith(file, suffix)) {
      return std::string(file.substr(0, file.size() - suffix.size()));
    }
  }
  constexpr size_t kRsyncTail = 7;  // ".AbC123"
  if (file.size() >= 2 + kRsyncTail && file[0] == '.' && file[file.size() - kRsyncTail] == '.' &&
      std::all_of(file.end() - kRsyncTail + 1, file.end(),
                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
    return std::string(file.substr(1, file.size() - 1 - kRsyncTail));
  }
  return std::nullopt;
}

std::optional<std::string> CaptionOwner(std::string_view caption_file,
                                        const VideoWithStem& video_with_stem) {
  for (size_t dot = caption_file.rfind('.'); dot != std::string_view::npos && dot > 0;
       dot = caption_file.rfind('.', dot - 1)) {
    std::optional<std::string> video = video_with_stem(caption_file.substr(0, dot));
    if (video && !SurelyNoVideo(*video) && CaptionLabel(caption_file, *video)) return video;
  }
  return std::nullopt;
}

std::string CaptionNameFor(std::string_view caption_file, std::string_view current_video,
                           std::string_view video_file) {
  return Stem(video_file) + std::string(caption_file.substr(Stem(current_video).size()));
}

std::vector<std::string> SidecarCandidates(std::string_view video_key) {
  std::string_view file = video_key.substr(video_key.rfind('/') + 1);
  std::string_view ext = Extension(file);
  std::string stem(video_key.substr(0, video_key.size() - ext.size()));
  return {stem + ".json", std::string(video_key) + ".json"};
}

std::string Numbered(std::string_view part, int n) {
  std::string out(part);
  if (n > 1) out += "-" + std::to_string(n);
  return out;
}

size_t LongestFiledKey(std::string_view video_key) {
  constexpr size_t kNumbering = 6;      // "-99999"
  constexpr size_t kOwnRelative = 128;  // hls/NAME/SEGMENT and the rest
  const ParsedKey parsed = ParseKey(video_key);
  const size_t folder = kUnable.size() + parsed.name.size() + kNumbering + 1;
  // The sidecar ("clip.mp4.json") or a caption ("clip.LABEL.vtt").
  const size_t original = std::max(parsed.file_name.size() + std::string_view(".json").size(),
                                   Stem(parsed.file_name).size() + 1 + kMaxCaptionLabel + 4) +
                          kNumbering;
  const size_t own = kOwnFolder.size() + 1 + kOwnRelative;
  return folder + std::max(original, own);
}

std::string OwnKey(std::string_view folder, std::string_view relative) {
  return std::string(folder) + "/" + std::string(kOwnFolder) + "/" + std::string(relative);
}

std::string NumberedFile(std::string_view prefix, std::string_view name, std::string_view file_name,
                         int n) {
  std::string_view ext = Extension(file_name);
  std::string out = std::string(prefix) + std::string(name);
  if (n > 1) out += "-" + std::to_string(n);
  return out + std::string(ext);
}

}  // namespace vidgate::pipeline
