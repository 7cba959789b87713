// caption_files.h: a video's caption sidecars in the store ("clip.en.srt"
// beside "clip.mp4"): found beside it, read for the media stage, and moved
// wherever the original goes (failed/, its filed folder, back to uploads/).
//
// The catalog does not track them: each move looks beside the original
// again. A filing cut short may leave a caption behind in uploads/, where it
// is ignored (it is no video); the WebVTT made of it is filed either way.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/media_stage.h"
#include "storage/store.h"

namespace vidgate::pipeline {

inline constexpr size_t kMaxCaptionFiles = 32;
inline constexpr int64_t kMaxCaptionBytes = int64_t{8} << 20;

struct CaptionKey {
  std::string key;
  std::string label;  // "en" (naming.h CaptionLabel)
};

// The captions beside `video_key` in its folder, sorted by key: the first
// kMaxCaptionFiles (the rest are left where they are), and not those named
// after another video there whose name starts like this one's
// ("talk.part2.en.srt" is talk.part2.mp4's, not talk.mp4's).
Result<std::vector<CaptionKey>> CaptionsBeside(storage::Store& store, std::string_view video_key);

// Reads `captions` for the stage. One that is gone is skipped; one over
// kMaxCaptionBytes, or that cannot be read, is passed unread with the
// reason (a caption never fails the attempt).
Result<std::vector<CaptionInput>> ReadCaptionFiles(storage::Store& store,
                                                   const std::vector<CaptionKey>& captions);

// Moves the captions beside `from_video` to beside `to_video`, each renamed
// for its file name, with `move` (the caller's idempotent move). Every
// caption is tried; the first error is returned.
using MoveFunction = std::function<Status(const std::string& from, const std::string& to)>;
Status MoveCaptions(storage::Store& store, std::string_view from_video, std::string_view to_video,
                    const MoveFunction& move);

// Where MoveCaptions would put each caption beside `from_video`: {from, to}.
Result<std::vector<std::pair<std::string, std::string>>> CaptionMoves(storage::Store& store,
                                                                      std::string_view from_video,
                                                                      std::string_view to_video);

}  // namespace vidgate::pipeline
