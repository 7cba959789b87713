// hls_master.h: the HLS master playlist that lists a video's renditions,
// each already written as a media playlist by RenditionEncoder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace vidgate::media {

struct HlsVariant {
  std::string uri;               // the media playlist, relative to the master ("main/index.m3u8")
  int64_t peak_bit_rate = 0;     // BANDWIDTH
  int64_t average_bit_rate = 0;  // AVERAGE-BANDWIDTH
  int width = 0, height = 0;     // RESOLUTION, left out when 0 (audio only)
  double frame_rate = 0;         // FRAME-RATE, left out when 0
  std::string codecs;            // CODECS, left out when empty
  std::string video_range;       // VIDEO-RANGE (SDR, PQ, HLG), left out when empty
  std::string audio_group;       // AUDIO: the group of its sound tracks, left out when empty
};

// Measures a media playlist written on local disk, in bits per second: the
// average over the whole (init section included) and the peak over its
// segments of at least half the target duration (a short tail segment would
// overstate it), never below the average. kNotFound / kInvalidArgument when it or a segment is
// missing or the playlist lists no segment.
struct SegmentBitRates {
  int64_t peak = 0;
  int64_t average = 0;
};
Result<SegmentBitRates> MeasureMediaPlaylist(const std::string& path);

// A subtitle rendition (EXT-X-MEDIA TYPE=SUBTITLES) of the master.
struct HlsSubtitles {
  std::string uri;       // its media playlist, relative to the master
  std::string name;      // NAME ("en", "en.sdh"): unique in the master
  std::string language;  // LANGUAGE; left out when "und"
};

// A sound track of an audio group (EXT-X-MEDIA TYPE=AUDIO).
struct HlsAudio {
  std::string group;     // GROUP-ID, as the variants' AUDIO names it
  std::string name;      // NAME: unique in the group
  std::string language;  // LANGUAGE; left out when "und"
  std::string uri;       // its media playlist; "" for the sound in the variant's own playlist
  bool is_default = false;
};

// The text of a master playlist (RFC 8216 section 4.3.4) listing `variants`
// in the order given, each with the group of `subtitles` when there are any
// and its audio group's `audio` tracks.
std::string HlsMasterPlaylist(const std::vector<HlsVariant>& variants,
                              const std::vector<HlsSubtitles>& subtitles = {},
                              const std::vector<HlsAudio>& audio = {});

// A media playlist of one WebVTT file (`vtt_uri`, relative to it) covering
// `seconds`.
std::string HlsSubtitlePlaylist(const std::string& vtt_uri, double seconds);

}  // namespace vidgate::media
