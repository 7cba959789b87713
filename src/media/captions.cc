#include "media/captions.h"

#include <fmt/format.h>
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <memory>

#include "common/text.h"

namespace vidgate::media {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Collects problems up to the cap; the last line then counts the rest.
class Problems {
 public:
  void Add(int line, const std::string& what) {
    ++total_;
    if (list_.size() + 1 < kMaxCaptionProblems) {
      list_.push_back(line > 0 ? fmt::format("line {}: {}", line, what) : what);
    }
  }
  std::vector<std::string> Take() {
    if (total_ > list_.size()) {
      list_.push_back(fmt::format("and {} more problems", total_ - list_.size()));
    }
    return std::move(list_);
  }

 private:
  std::vector<std::string> list_;
  size_t total_ = 0;
};

// A piece of the file quoted in a message: short and printable.
std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string cut(text.substr(0, kMax));
  while (!cut.empty() && !IsValidUtf8(cut)) cut.pop_back();  // not inside a character
  return "'" + Printable(cut) + (text.size() > kMax ? "...'" : "'");
}

std::string Clock(double seconds) {
  const int64_t ms = std::llround(std::max(0.0, seconds) * 1000);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

struct IconvCloser {
  void operator()(iconv_t* cd) const {
    iconv_close(*cd);
    delete cd;
  }
};

// `bytes` from `charset` to UTF-8; a sequence the charset does not define
// becomes U+FFFD (`unit` bytes skipped). Empty when iconv lacks the charset.
std::optional<std::string> ToUtf8(std::string_view bytes, const char* charset, size_t unit) {
  iconv_t cd = iconv_open("UTF-8", charset);
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::unique_ptr<iconv_t, IconvCloser> hold(new iconv_t(cd));
  std::string out;
  out.reserve(bytes.size() * 2);
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char buffer[4096];
  while (in_left > 0) {
    char* to = buffer;
    size_t to_left = sizeof(buffer);
    const size_t done = iconv(cd, &in, &in_left, &to, &to_left);
    out.append(buffer, static_cast<size_t>(to - buffer));
    if (done != static_cast<size_t>(-1)) continue;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL (a cut sequence at the end): replace and move on.
    out += "\xEF\xBF\xBD";
    const size_t skip = std::min(unit, in_left);
    in += skip;
    in_left -= skip;
  }
  return out;
}

// The line (1-based) of the first line of `text` that is not UTF-8.
int FirstBadLine(std::string_view text) {
  int line = 1;
  for (size_t start = 0; start <= text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (!IsValidUtf8(text.substr(start, end - start))) return line;
    start = end + 1;
  }
  return 0;
}

// The file's text as UTF-8, and what it was read as.
std::string DecodeText(std::string_view bytes, std::string& encoding, Problems& problems) {
  auto starts = [&](std::string_view bom) { return bytes.substr(0, bom.size()) == bom; };
  if (starts("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  std::string_view utf16;
  bool little_endian = true;
  if (starts("\xFF\xFE")) {
    utf16 = bytes.substr(2);
  } else if (starts("\xFE\xFF")) {
    utf16 = bytes.substr(2);
    little_endian = false;
  } else if (bytes.size() >= 4) {
    // No byte-order mark, but every other byte of plain text zero.
    size_t even = 0, odd = 0;
    const size_t look = std::min<size_t>(bytes.size() & ~size_t{1}, 1024);
    for (size_t i = 0; i < look; ++i) (i % 2 ? odd : even) += bytes[i] == '\0';
    if (odd * 10 > look * 4 || even * 10 > look * 4) {
      little_endian = odd > even;
      utf16 = bytes;
      problems.Add(0, std::string("the file has no byte-order mark; read as UTF-16") +
                          (little_endian ? "LE" : "BE"));
    }
  }
  if (utf16.data() != nullptr) {
    encoding = little_endian ? "UTF-16LE" : "UTF-16BE";
    if (auto text = ToUtf8(utf16, encoding.c_str(), 2)) return *text;
  }
  if (IsValidUtf8(bytes)) {
    encoding = "UTF-8";
    return std::string(bytes);
  }
  // Subtitles from older tools are mostly Windows code page 1252.
  encoding = "windows-1252";
  problems.Add(FirstBadLine(bytes), "not UTF-8; the file was read as windows-1252");
  if (auto text = ToUtf8(bytes, "WINDOWS-1252", 1)) return *text;
  encoding = "ISO-8859-1";
  return ToUtf8(bytes, "ISO-8859-1", 1).value_or("");
}

std::vector<std::string_view> SplitLines(const std::string& text) {
  std::vector<std::string_view> lines;
  std::string_view rest(text);
  while (true) {
    const size_t end = rest.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      lines.push_back(rest);
      return lines;
    }
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end + (rest.substr(end, 2) == "\r\n" ? 2 : 1));
  }
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\f\v") == std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  const size_t from = s.find_first_not_of(" \t");
  if (from == std::string_view::npos) return {};
  return s.substr(from, s.find_last_not_of(" \t") - from + 1);
}

// Digits at the front of `s`, consumed; -1 when none (or too many).
int64_t TakeNumber(std::string_view& s, size_t max_digits) {
  size_t n = 0;
  int64_t value = 0;
  while (n < s.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s[n]))) {
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n == 0 || (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])))) return -1;
  s.remove_prefix(n);
  return value;
}

// "[H:]MM:SS[,.]mmm" (SubRip's comma or WebVTT's dot, hours optional,
// fractions of 1 to 3 digits), consumed from the front of `s`.
std::optional<double> TakeTimestamp(std::string_view& s) {
  int64_t parts[3] = {0, 0, 0};
  int count = 0;
  while (true) {
    const int64_t value = TakeNumber(s, count == 0 ? 9 : 2);
    if (value < 0) return std::nullopt;
    parts[count++] = value;
    if (s.empty() || s[0] != ':' || count == 3) break;
    s.remove_prefix(1);
  }
  if (count < 2) return std::nullopt;
  const int64_t hours = count == 3 ? parts[0] : 0;
  const int64_t minutes = parts[count - 2];
  const int64_t seconds = parts[count - 1];
  if (minutes > 59 || seconds > 59) return std::nullopt;
  double fraction = 0;
  if (!s.empty() && (s[0] == ',' || s[0] == '.')) {
    s.remove_prefix(1);
    size_t digits = 0;
    double scale = 0.1;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) {
      if (digits < 3) fraction += (s[digits] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    if (digits == 0 || digits > 3) return std::nullopt;
    s.remove_prefix(digits);
  }
  return static_cast<double>(hours * 3600 + minutes * 60 + seconds) + fraction;
}

struct Timing {
  double start = 0, end = 0;
  std::string settings;
};

// WebVTT's cue settings, kept when they are ones WebVTT knows.
std::string KnownSettings(std::string_view rest) {
  static constexpr std::string_view kNames[] = {"vertical", "line",  "position",
                                                "size",     "align", "region"};
  std::string out;
  while (!(rest = Trim(rest)).empty()) {
    const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
    const std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end);
    const size_t colon = token.find(':');
    if (colon == std::string_view::npos || colon + 1 == token.size()) continue;
    if (std::find(std::begin(kNames), std::end(kNames), token.substr(0, colon)) ==
        std::end(kNames)) {
      continue;
    }
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

std::optional<Timing> ParseTiming(std::string_view line, CaptionFormat format) {
  std::string_view s = Trim(line);
  Timing t;
  auto start = TakeTimestamp(s);
  if (!start) return std::nullopt;
  s = Trim(s);
  if (!s.starts_with("-->")) return std::nullopt;
  s.remove_prefix(3);
  s = Trim(s);
  auto end = TakeTimestamp(s);
  if (!end) return std::nullopt;
  if (!s.empty() && s[0] != ' ' && s[0] != '\t') return std::nullopt;
  t.start = *start;
  t.end = *end;
  // SubRip's trailing "X1:... Y2:..." box is not WebVTT's and is dropped.
  if (format == CaptionFormat::kWebVtt) t.settings = KnownSettings(s);
  return t;
}

bool IsTimingLine(std::string_view line) { return line.find("-->") != std::string_view::npos; }

bool AllDigits(std::string_view s) {
  s = Trim(s);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// WebVTT text kept as it is, but never able to end its cue early or open a
// timing line.
std::string SafeVttText(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 3) == "-->") {
      out += "--&gt;";
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Drops the blank lines a cue cannot hold, and trailing spaces.
std::string JoinCueLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& raw : lines) {
    std::string_view line(raw);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (IsBlank(line)) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

// The longest markup tag or ASS override block taken as one.
constexpr size_t kMaxTagBytes = 256;

// WebVTT's tags for the italic, bold and underline switches of an ASS
// override block's commands ("\\i1\\an8" gives "<i>").
std::string AssStyleTags(std::string_view commands) {
  std::string out;
  size_t at = 0;
  while ((at = commands.find('\\', at)) != std::string_view::npos) {
    ++at;
    if (at >= commands.size()) break;
    const char tag = commands[at];
    if (tag != 'i' && tag != 'b' && tag != 'u') continue;
    size_t digits = at + 1;
    while (digits < commands.size() && std::isdigit(static_cast<unsigned char>(commands[digits]))) {
      ++digits;
    }
    const std::string_view value = commands.substr(at + 1, digits - at - 1);
    if (value.empty()) continue;  // \\blur, \\bord...: not a switch
    const bool on = value != "0";
    out += std::string(on ? "<" : "</") + tag + ">";
  }
  return out;
}

std::string LowerTagName(std::string_view tag) {
  std::string name;
  for (char c : Trim(tag)) {
    if (c == ' ' || c == '\t' || c == '=') break;
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace

std::optional<CaptionFormat> CaptionFormatOf(std::string_view file_name) {
  const size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view ext = file_name.substr(dot);
  if (EqualsNoCase(ext, ".srt")) return CaptionFormat::kSrt;
  if (EqualsNoCase(ext, ".vtt")) return CaptionFormat::kWebVtt;
  return std::nullopt;
}

std::string CueTextFromMarkup(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      // A tag is short: looking further would make a run of '<' quadratic.
      const std::string_view window = text.substr(i + 1, kMaxTagBytes);
      const size_t close = window.find('>');
      const size_t next_open = window.find('<');
      if (close != std::string_view::npos && close < next_open) {
        const std::string name = LowerTagName(window.substr(0, close));
        const size_t end = i + 1 + close;
        if (name == "i" || name == "b" || name == "u" || name == "/i" || name == "/b" ||
            name == "/u") {
          out += "<" + name + ">";
          i = end;
          continue;
        }
        if (name == "font" || name == "/font") {
          i = end;
          continue;
        }
      }
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '{' && i + 1 < text.size() && text[i + 1] == '\\' &&
               text.substr(i, kMaxTagBytes).find('}') != std::string_view::npos) {
      // An ASS override such as {\an8}: its styles kept, the rest dropped.
      const size_t close = i + text.substr(i, kMaxTagBytes).find('}');
      out += AssStyleTags(text.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '\\' && i + 1 < text.size() && (text[i + 1] == 'N' || text[i + 1] == 'n')) {
      out += '\n';
      ++i;
    } else if (c == '&') {
      size_t n = i + 1;
      while (n < text.size() && n - i <= 8 &&
             (std::isalnum(static_cast<unsigned char>(text[n])) || text[n] == '#')) {
        ++n;
      }
      const bool entity = n < text.size() && text[n] == ';' && n > i + 1;
      out += entity ? "&" : "&amp;";
    } else if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  std::vector<std::string> lines;
  for (std::string_view line : SplitLines(out)) lines.emplace_back(line);
  return JoinCueLines(lines);
}

CueFit FitToVideo(Cue& cue, double video_seconds) {
  if (video_seconds <= 0) return CueFit::kInside;
  if (cue.start >= video_seconds) return CueFit::kAfterEnd;
  if (cue.end <= video_seconds + 0.001) return CueFit::kInside;
  cue.end = video_seconds;
  return CueFit::kCut;
}

CaptionTrack ReadCaptions(std::string_view bytes, CaptionFormat format, double video_seconds) {
  CaptionTrack track;
  Problems problems;
  const std::string text = DecodeText(bytes, track.encoding, problems);
  const std::vector<std::string_view> lines = SplitLines(text);
  size_t i = 0;
  if (format == CaptionFormat::kWebVtt) {
    const std::string_view first = lines.empty() ? std::string_view() : lines[0];
    const bool signature =
        first.starts_with("WEBVTT") && (first.size() == 6 || first[6] == ' ' || first[6] == '\t');
    if (!signature) {
      problems.Add(1, "a WebVTT file starts with the line WEBVTT");
    } else {
      while (i < lines.size() && !IsBlank(lines[i])) ++i;  // the header
    }
  }
  // Where the cue with the latest end so far is, for overlaps; and the
  // previous start, for order.
  std::optional<size_t> latest;
  double previous_start = -1;
  int previous_line = 0;
  bool out_of_order = false;
  std::vector<Cue> cues;
  auto line_no = [](size_t index) { return static_cast<int>(index + 1); };
  size_t block_end = 0;
  while (i < lines.size()) {
    if (IsBlank(lines[i])) {
      ++i;
      continue;
    }
    // Cues split off a block without blank lines share its end: found once.
    if (block_end <= i) {
      block_end = i;
      while (block_end < lines.size() && !IsBlank(lines[block_end])) ++block_end;
    }
    const size_t end = block_end;
    size_t timing = i;
    if (format == CaptionFormat::kWebVtt && !IsTimingLine(lines[i])) {
      for (std::string_view word : {"NOTE", "STYLE", "REGION"}) {
        const std::string_view l = lines[i];
        if (l.starts_with(word) &&
            (l.size() == word.size() || l[word.size()] == ' ' || l[word.size()] == '\t')) {
          timing = end;  // a comment or style block: not a cue
        }
      }
      if (timing == end) {
        i = end;
        continue;
      }
    }
    if (!IsTimingLine(lines[timing]) && timing + 1 < end) ++timing;  // after a number or id
    if (format == CaptionFormat::kSrt && timing > i && !AllDigits(lines[i])) {
      problems.Add(line_no(i), Quoted(lines[i]) + " is not a cue number");
    }
    std::optional<Timing> parsed = ParseTiming(lines[timing], format);
    if (!parsed) {
      problems.Add(line_no(timing),
                   Quoted(lines[timing]) + (IsTimingLine(lines[timing])
                                                ? " is not a valid timing line (HH:MM:SS,mmm --> "
                                                  "HH:MM:SS,mmm); the cue is left out"
                                                : " is not a timing line; the block is left out"));
      i = end;
      continue;
    }
    // A missing blank line between SubRip cues: a number followed by a
    // timing line starts the next cue.
    size_t text_end = end;
    for (size_t k = timing + 1; k + 1 < end; ++k) {
      if (AllDigits(lines[k]) && ParseTiming(lines[k + 1], format)) {
        text_end = k;
        problems.Add(line_no(k), "no blank line before this cue");
        break;
      }
    }
    Cue cue;
    cue.start = parsed->start;
    cue.end = parsed->end;
    cue.settings = std::move(parsed->settings);
    cue.line = line_no(timing);
    std::vector<std::string> body;
    for (size_t k = timing + 1; k < text_end; ++k) body.emplace_back(lines[k]);
    if (format == CaptionFormat::kSrt) {
      std::string joined;
      for (const auto& b : body) joined += (joined.empty() ? "" : "\n") + b;
      cue.text = CueTextFromMarkup(joined);
    } else {
      cue.text = SafeVttText(JoinCueLines(body));
    }
    i = text_end;
    const int at = cue.line;
    if (cue.text.empty()) {
      problems.Add(at, "the cue has no text; it is left out");
      continue;
    }
    if (cue.end <= cue.start) {
      problems.Add(at, fmt::format("the cue ends ({}) before it starts ({}); it is left out",
                                   Clock(cue.end), Clock(cue.start)));
      continue;
    }
    const double end_as_read = cue.end;
    const CueFit fit = FitToVideo(cue, video_seconds);
    if (fit == CueFit::kAfterEnd) {
      problems.Add(at, fmt::format("the cue starts at {}, after the video's end ({}); it is left "
                                   "out",
                                   Clock(cue.start), Clock(video_seconds)));
      continue;
    }
    if (fit == CueFit::kCut) {
      problems.Add(at,
                   fmt::format("the cue ends at {}, after the video's end ({}); it is cut there",
                               Clock(end_as_read), Clock(video_seconds)));
    }
    if (cue.start < previous_start) {
      out_of_order = true;
      problems.Add(at, fmt::format("the cue starts at {}, before the cue at line {} ({}); put in "
                                   "order",
                                   Clock(cue.start), previous_line, Clock(previous_start)));
    } else if (latest && cue.start < cues[*latest].end - 0.0005) {
      problems.Add(at, fmt::format("the cue starts at {}, before the cue at line {} ends ({})",
                                   Clock(cue.start), cues[*latest].line, Clock(cues[*latest].end)));
    }
    if (cues.size() >= kMaxCues) {
      problems.Add(at, fmt::format("more than {} cues; the rest are left out", kMaxCues));
      break;
    }
    previous_start = cue.start;
    previous_line = cue.line;
    if (!latest || cue.end > cues[*latest].end) latest = cues.size();
    cues.push_back(std::move(cue));
  }
  if (out_of_order) {
    std::stable_sort(cues.begin(), cues.end(),
                     [](const Cue& a, const Cue& b) { return a.start < b.start; });
  }
  if (cues.empty()) problems.Add(0, "no cue could be read");
  track.cues = std::move(cues);
  track.problems = problems.Take();
  return track;
}

std::string ToWebVtt(const std::vector<Cue>& cues) {
  std::string out = "WEBVTT\n\n";
  for (const auto& cue : cues) {
    out += Clock(cue.start) + " --> " + Clock(cue.end);
    if (!cue.settings.empty()) out += " " + cue.settings;
    out += "\n" + cue.text + "\n\n";
  }
  return out;
}

std::optional<double> CaptionCoverage(const std::vector<Cue>& cues,
                                      const std::vector<Span>& speech) {
  double total = 0;
  for (const auto& s : speech) total += std::max(0.0, s.end - s.start);
  if (total < 1) return std::nullopt;
  // The cues' union, then its overlap with each span of speech.
  std::vector<Span> covered;
  for (const auto& c : cues) covered.push_back({c.start, c.end});
  std::sort(covered.begin(), covered.end(),
            [](const Span& a, const Span& b) { return a.start < b.start; });
  std::vector<Span> merged;
  for (const auto& c : covered) {
    if (!merged.empty() && c.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, c.end);
    } else {
      merged.push_back(c);
    }
  }
  // One sweep over both (the speech spans come in order).
  std::vector<Span> spoken = speech;
  std::sort(spoken.begin(), spoken.end(),
            [](const Span& a, const Span& b) { return a.start < b.start; });
  double hit = 0;
  size_t m = 0;
  for (const auto& s : spoken) {
    while (m < merged.size() && merged[m].end <= s.start) ++m;
    for (size_t k = m; k < merged.size() && merged[k].start < s.end; ++k) {
      hit += std::max(0.0, std::min(s.end, merged[k].end) - std::max(s.start, merged[k].start));
    }
  }
  return std::min(1.0, hit / total);
}

}  // namespace vidgate::media
