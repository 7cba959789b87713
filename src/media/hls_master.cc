#include "media/hls_master.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

namespace vidgate::media {

Result<SegmentBitRates> MeasureMediaPlaylist(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("HLS playlist '" + path + "' does not exist");
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto size_of = [&](const std::string& name) -> Result<int64_t> {
    std::error_code ec;
    const auto size = std::filesystem::file_size(dir / name, ec);
    if (ec) return NotFound("HLS segment '" + (dir / name).string() + "' is missing");
    return static_cast<int64_t>(size);
  };
  struct Segment {
    int64_t bytes;
    double seconds;
  };
  std::vector<Segment> segments;
  int64_t init_bytes = 0;
  double target = 0, segment_seconds = -1;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("#EXT-X-MAP:URI=\"")) {
      const std::string uri = line.substr(16, line.find('"', 16) - 16);
      VG_ASSIGN_OR_RETURN(init_bytes, size_of(uri));
    } else if (line.starts_with("#EXT-X-TARGETDURATION:")) {
      target = std::atof(line.c_str() + 22);
    } else if (line.starts_with("#EXTINF:")) {
      segment_seconds = std::atof(line.c_str() + 8);
    } else if (!line.empty() && line[0] != '#' && segment_seconds >= 0) {
      VG_ASSIGN_OR_RETURN(int64_t bytes, size_of(line));
      segments.push_back({bytes, segment_seconds});
      segment_seconds = -1;
    }
  }
  int64_t total_bytes = init_bytes;
  double total_seconds = 0;
  for (const auto& seg : segments) {
    total_bytes += seg.bytes;
    total_seconds += seg.seconds;
  }
  if (segments.empty() || total_seconds <= 0) {
    return InvalidArgument("HLS playlist '" + path + "' lists no segment");
  }
  SegmentBitRates out;
  out.average =
      static_cast<int64_t>(std::ceil(static_cast<double>(total_bytes) * 8 / total_seconds));
  // The peak over full segments: a short one (the tail) holding a key frame
  // would overstate it. All short: the average stands for the peak.
  for (const auto& seg : segments) {
    if (seg.seconds > 0 && seg.seconds >= target / 2) {
      out.peak = std::max(out.peak, static_cast<int64_t>(std::ceil(static_cast<double>(seg.bytes) *
                                                                   8 / seg.seconds)));
    }
  }
  out.peak = std::max(out.peak, out.average);
  return out;
}

namespace {

// A quoted-string attribute value cannot hold '"', CR or LF (RFC 8216 4.2).
std::string Quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c != '"' && c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

}  // namespace

std::string HlsMasterPlaylist(const std::vector<HlsVariant>& variants,
                              const std::vector<HlsSubtitles>& subtitles,
                              const std::vector<HlsAudio>& audio) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const auto& a : audio) {
    out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=" + Quoted(a.group) + ",NAME=" + Quoted(a.name);
    if (!a.language.empty() && a.language != "und") out += ",LANGUAGE=" + Quoted(a.language);
    out += std::string(",DEFAULT=") + (a.is_default ? "YES" : "NO") + ",AUTOSELECT=YES";
    if (!a.uri.empty()) out += ",URI=" + Quoted(a.uri);
    out += "\n";
  }
  for (const auto& s : subtitles) {
    out += "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=" + Quoted(s.name);
    if (!s.language.empty() && s.language != "und") out += ",LANGUAGE=" + Quoted(s.language);
    out += ",DEFAULT=NO,AUTOSELECT=YES,URI=" + Quoted(s.uri) + "\n";
  }
  for (const auto& v : variants) {
    out += fmt::format("#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={}", v.peak_bit_rate,
                       v.average_bit_rate);
    if (v.width > 0 && v.height > 0) out += fmt::format(",RESOLUTION={}x{}", v.width, v.height);
    if (v.frame_rate > 0) out += fmt::format(",FRAME-RATE={:.3f}", v.frame_rate);
    if (!v.codecs.empty()) out += fmt::format(",CODECS=\"{}\"", v.codecs);
    if (!v.video_range.empty()) out += ",VIDEO-RANGE=" + v.video_range;
    if (!v.audio_group.empty()) out += ",AUDIO=" + Quoted(v.audio_group);
    if (!subtitles.empty()) out += ",SUBTITLES=\"subs\"";
    out += "\n" + v.uri + "\n";
  }
  return out;
}

std::string HlsSubtitlePlaylist(const std::string& vtt_uri, double seconds) {
  const double length = std::max(seconds, 0.001);
  return fmt::format(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{:.3f},\n{}\n#EXT-X-ENDLIST\n",
      static_cast<int64_t>(std::ceil(length)), length, vtt_uri);
}

}  // namespace vidgate::media
