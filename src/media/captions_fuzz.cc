// libFuzzer target: caption files (media/captions.h). Whatever the bytes,
// reading never crashes, and what is written is WebVTT that reads back as
// the same cues, without a problem.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/text.h"
#include "media/captions.h"

using namespace vidgate::media;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (CaptionFormat format : {CaptionFormat::kSrt, CaptionFormat::kWebVtt}) {
    const CaptionTrack track = ReadCaptions(bytes, format, 3600);
    if (track.problems.size() > kMaxCaptionProblems) std::abort();
    const std::string vtt = ToWebVtt(track.cues);
    if (!vidgate::IsValidUtf8(vtt)) std::abort();
    const CaptionTrack again = ReadCaptions(vtt, CaptionFormat::kWebVtt, 3600);
    // Overlaps are reported again (WebVTT allows them); nothing else is.
    if (again.cues.size() != track.cues.size()) std::abort();
    for (size_t i = 0; i < again.cues.size(); ++i) {
      if (again.cues[i].text != track.cues[i].text) std::abort();
    }
  }
  return 0;
}
