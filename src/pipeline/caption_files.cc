#include "pipeline/caption_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "pipeline/naming.h"

namespace vidgate::pipeline {

Result<std::vector<CaptionKey>> CaptionsBeside(storage::Store& store, std::string_view video_key) {
  const std::string video_file = FileName(video_key);
  const std::string folder = Folder(video_key);
  const std::string stem = Stem(video_file);
  VG_ASSIGN_OR_RETURN(auto listed, store.List(folder + stem + "."));
  // The videos whose names start like this one's ("talk.part2.mp4" beside
  // "talk.mp4"), also those still arriving ("talk.part2.mp4.part"), and
  // this one (it may have moved on already). A name is judged as in
  // uploads/, wherever the folder is (`vidgate qc` looks beside a local
  // file).
  std::map<std::string, std::string, std::less<>> videos = {{stem, video_file}};
  auto add_video = [&](const storage::ObjectInfo& obj) {
    const std::string_view file = std::string_view(obj.key).substr(folder.size());
    if (!obj.refused.empty() || file.find('/') != std::string_view::npos) return;
    std::string name(file);
    if (ParseKey(std::string(kUploads) + name).kind != KeyKind::kVideo) {
      auto arriving = ArrivingAs(file);
      if (!arriving || ParseKey(std::string(kUploads) + *arriving).kind != KeyKind::kVideo) return;
      name = *arriving;
    }
    // A name that is surely no video ("talk.part2.jpg") takes no stem.
    if (!SurelyNoVideo(name)) videos.try_emplace(Stem(name), name);
  };
  for (const auto& obj : listed) add_video(obj);
  // rsync writes ".talk.part2.mp4.AbC123" first: looked for where uploads
  // arrive, when a caption there could be a longer video name's (any
  // label but "und": "talk.part2.srt", "talk.en.srt" beside ".talk.en.mp4.AbC123").
  const bool arrivals = folder.starts_with(kUploads) || folder.starts_with(kFailed);
  if (arrivals && std::any_of(listed.begin(), listed.end(), [&](const storage::ObjectInfo& obj) {
        auto label = CaptionLabel(std::string_view(obj.key).substr(folder.size()), video_file);
        return label && *label != "und";
      })) {
    VG_ASSIGN_OR_RETURN(auto arriving, store.List(folder + "." + stem + "."));
    for (const auto& obj : arriving) add_video(obj);
  }
  const VideoWithStem video_with_stem = [&](std::string_view s) -> std::optional<std::string> {
    auto it = videos.find(s);
    return it == videos.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  std::vector<CaptionKey> out;
  for (const auto& obj : listed) {
    if (!obj.refused.empty()) continue;  // a symbolic link or the like: not taken
    const std::string_view file = std::string_view(obj.key).substr(folder.size());
    const std::optional<std::string> owner = CaptionOwner(file, video_with_stem);
    if (!owner || Stem(*owner) != stem) continue;
    if (out.size() >= kMaxCaptionFiles) break;  // the rest stay where they are
    out.push_back({obj.key, *CaptionLabel(file, video_file)});
  }
  return out;
}

Result<std::vector<CaptionInput>> ReadCaptionFiles(storage::Store& store,
                                                   const std::vector<CaptionKey>& captions) {
  std::vector<CaptionInput> out;
  for (const auto& c : captions) {
    CaptionInput in;
    in.file_name = FileName(c.key);
    in.label = c.label;
    auto bytes = store.Read(c.key, kMaxCaptionBytes);
    if (bytes.status().code() == Code::kNotFound) continue;
    if (bytes.status().code() == Code::kInvalidArgument) {
      in.unread = fmt::format("over {} MiB; not read", kMaxCaptionBytes >> 20);
    } else if (!bytes.ok()) {
      // A caption is an extra: one that cannot be read (permissions, a
      // failing disk) is reported, and never holds the video back.
      in.unread = "cannot be read: " + bytes.status().message();
    } else {
      in.bytes = std::move(bytes).value();
    }
    out.push_back(std::move(in));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> CaptionMoves(storage::Store& store,
                                                                      std::string_view from_video,
                                                                      std::string_view to_video) {
  VG_ASSIGN_OR_RETURN(auto captions, CaptionsBeside(store, from_video));
  std::vector<std::pair<std::string, std::string>> moves;
  for (const auto& c : captions) {
    moves.emplace_back(
        c.key, Folder(to_video) +
                   CaptionNameFor(FileName(c.key), FileName(from_video), FileName(to_video)));
  }
  return moves;
}

Status MoveCaptions(storage::Store& store, std::string_view from_video, std::string_view to_video,
                    const MoveFunction& move) {
  VG_ASSIGN_OR_RETURN(auto moves, CaptionMoves(store, from_video, to_video));
  Status first;
  for (const auto& [from, to] : moves) {
    if (from == to) continue;
    Status s = move(from, to);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace vidgate::pipeline
