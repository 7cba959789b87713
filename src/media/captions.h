// captions.h: caption files read as people write them (SubRip, WebVTT, in
// whatever encoding), checked line by line, and written as WebVTT.
//
// Reading never fails: a caption file is an extra, and what cannot be read
// (a bad timing line, a cue past the video's end, an encoding that is not
// UTF-8) is a problem naming its line, while the cues that can be read are
// kept.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vidgate::media {

enum class CaptionFormat { kSrt, kWebVtt };

// The format a caption file's name gives (".srt", ".vtt", any case); none
// for other names.
std::optional<CaptionFormat> CaptionFormatOf(std::string_view file_name);

struct Cue {
  double start = 0, end = 0;  // seconds on the video's timeline
  std::string settings;       // WebVTT cue settings ("line:0 align:start"), kept from WebVTT
  std::string text;           // WebVTT cue text, lines joined by '\n'; never empty
  int line = 0;               // of the timing line in the file read (0: not from a file)
};

struct CaptionTrack {
  std::vector<Cue> cues;  // sorted by start
  // "line 14: ..." sentences, at most kMaxCaptionProblems (the last then
  // says how many more there were).
  std::vector<std::string> problems;
  std::string encoding;  // what the bytes were read as: "UTF-8", "UTF-16LE", "windows-1252", ...
};

inline constexpr size_t kMaxCaptionProblems = 20;
inline constexpr size_t kMaxCues = 100000;

// Where `cue` stands against a video of `video_seconds` (0: unknown): inside
// it, cut at its end (`cue.end` moved there), or starting after it (to be
// left out).
enum class CueFit { kInside, kCut, kAfterEnd };
CueFit FitToVideo(Cue& cue, double video_seconds);

// Reads `bytes` as `format`. Cues are cut at `video_seconds` (when > 0): one
// starting after it is left out, one ending after it is shortened, and both
// are problems. Overlapping and out-of-order cues are kept (WebVTT allows
// them) but reported; a cue that ends before it starts, or has no text, is
// left out.
CaptionTrack ReadCaptions(std::string_view bytes, CaptionFormat format, double video_seconds);

// SubRip/ASS markup turned into WebVTT's: <i> <b> <u> kept, <font> and
// {\an8}-style overrides dropped, ASS's \N a new line, '&' and '<' escaped
// where they are not markup.
std::string CueTextFromMarkup(std::string_view text);

// `cues` as a WebVTT file.
std::string ToWebVtt(const std::vector<Cue>& cues);

// The share (0..1) of `speech` (non-overlapping [start, end) spans) that
// `cues` cover; none when `speech` adds up to under a second.
struct Span {
  double start = 0, end = 0;
};
std::optional<double> CaptionCoverage(const std::vector<Cue>& cues,
                                      const std::vector<Span>& speech);

}  // namespace vidgate::media
