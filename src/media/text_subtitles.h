// text_subtitles.h: the decode pass's share of a file's text subtitle
// streams (SubRip, mov_text, ASS, WebVTT...): each packet decoded as it is
// read, its text handed to the sinks as a SubtitleCue. Bitmap subtitles
// (DVD, PGS) have no text to carry and are left alone.
#pragma once

extern "C" {
#include <libavformat/avformat.h>
}

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/av.h"
#include "media/captions.h"
#include "media/decode_pass.h"

namespace vidgate::media {

// At most this many text subtitle streams of a file are decoded.
inline constexpr size_t kMaxSubtitleStreams = 16;

// Whether libav's codec `name` ("subrip", "hdmv_pgs_subtitle") is a text
// subtitle format.
bool IsTextSubtitleCodec(const std::string& name);

class TextSubtitles {
 public:
  // Opens a decoder for each text subtitle stream of `input` (the first
  // kMaxSubtitleStreams); times are given in seconds from `origin` (the
  // pictures' start). A stream whose decoder will not open is skipped.
  void Open(const AVFormatContext& input, double origin);

  bool Handles(int stream_index) const { return decoders_.contains(stream_index); }

  // Decodes `packet` of a handled stream and hands its text to `sinks`. A
  // packet the decoder refuses is skipped (the video is what matters).
  Status Decode(const AVPacket& packet, const std::vector<FrameSink*>& sinks);

 private:
  struct Stream {
    const AVStream* stream = nullptr;
    CodecContextPtr codec;
  };
  std::map<int, Stream> decoders_;
  double origin_ = 0;
};

// A sink that keeps the cues of each text subtitle stream as WebVTT cue
// text, sorted by start once the pass is done: at most kMaxCues and
// kMaxSubtitleBytes of text a stream, a cue's text cut at kMaxCueBytes.
inline constexpr size_t kMaxSubtitleBytes = size_t{8} << 20;
inline constexpr size_t kMaxCueBytes = 4096;
class SubtitleCollector final : public FrameSink {
 public:
  Status OnSubtitle(const SubtitleCue& cue) override;
  Status Finish() override;
  bool TakesVideo() const override { return false; }
  bool TakesAudio() const override { return false; }
  bool TakesSubtitles() const override { return true; }
  // Stream index -> its cues.
  const std::map<int, std::vector<Cue>>& cues() const { return cues_; }

 private:
  std::map<int, std::vector<Cue>> cues_;
  std::map<int, size_t> bytes_;  // of text kept, per stream
};

// The text of an ASS dialogue event as libav gives it ("ReadOrder, Layer,
// Style, Name, MarginL, MarginR, MarginV, Effect, Text"): its Text field.
std::string AssDialogueText(std::string_view event);

}  // namespace vidgate::media
