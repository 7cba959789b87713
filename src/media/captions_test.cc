#include "media/captions.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "media/text_subtitles.h"

namespace vidgate::media {
namespace {

bool AnyProblemStartsWith(const CaptionTrack& t, const std::string& prefix) {
  for (const auto& p : t.problems) {
    if (p.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string AllProblems(const CaptionTrack& t) {
  std::string out;
  for (const auto& p : t.problems) out += p + "\n";
  return out;
}

TEST(CaptionsTest, FormatComesFromTheExtensionInAnyCase) {
  EXPECT_EQ(CaptionFormatOf("clip.en.srt"), CaptionFormat::kSrt);
  EXPECT_EQ(CaptionFormatOf("clip.EN.SRT"), CaptionFormat::kSrt);
  EXPECT_EQ(CaptionFormatOf("clip.fr.Vtt"), CaptionFormat::kWebVtt);
  EXPECT_FALSE(CaptionFormatOf("clip.mp4"));
  EXPECT_FALSE(CaptionFormatOf("srt"));
}

TEST(CaptionsTest, SubRipBecomesWebVtt) {
  const std::string srt =
      "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> & <font color=\"red\">{\\an8}world</font>"
      "\r\nsecond line\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000 X1:10 X2:20\r\nI <3 you\r\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  EXPECT_TRUE(t.problems.empty()) << AllProblems(t);
  EXPECT_EQ(t.encoding, "UTF-8");
  ASSERT_EQ(t.cues.size(), 2u);
  EXPECT_EQ(t.cues[0].line, 2);
  EXPECT_EQ(ToWebVtt(t.cues),
            "WEBVTT\n\n"
            "00:00:01.000 --> 00:00:02.500\n<i>Hello</i> &amp; world\nsecond line\n\n"
            "00:00:03.000 --> 00:00:04.000\nI &lt;3 you\n\n");
}

TEST(CaptionsTest, ABadTimestampIsReportedWithItsLineAndTheRestIsKept) {
  const std::string srt =
      "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n"
      "2\n00:00:0x,000 --> 00:00:04,000\nTwo\n\n"
      "3\n00:00:05,000 -> 00:00:06,000\nThree\n\n"
      "4\n00:00:07,000 --> 00:00:08,000\nFour\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.cues.size(), 2u);
  EXPECT_EQ(t.cues[0].text, "One");
  EXPECT_EQ(t.cues[1].text, "Four");
  ASSERT_EQ(t.problems.size(), 2u) << AllProblems(t);
  EXPECT_EQ(t.problems[0],
            "line 6: '00:00:0x,000 --> 00:00:04,000' is not a valid timing line (HH:MM:SS,mmm "
            "--> HH:MM:SS,mmm); the cue is left out");
  EXPECT_TRUE(AnyProblemStartsWith(t, "line 10: '00:00:05,000 -> 00:00:06,000' is not a timing"))
      << AllProblems(t);
}

TEST(CaptionsTest, WebVttKeepsSettingsAndSkipsNotesAndStyles) {
  const std::string vtt =
      "WEBVTT - a title\nKind: captions\n\nNOTE some words\nover lines\n\nSTYLE\n::cue { color: "
      "red }\n\nintro\n00:01.000 --> 00:02.000 line:0 align:start bogus\n<v Bob>Hi</v>\n\n"
      "00:00:03.000 --> 00:00:04.000\nThere --> here\n";
  const CaptionTrack t = ReadCaptions(vtt, CaptionFormat::kWebVtt, 10);
  EXPECT_TRUE(t.problems.empty()) << AllProblems(t);
  ASSERT_EQ(t.cues.size(), 2u);
  EXPECT_EQ(t.cues[0].settings, "line:0 align:start");
  EXPECT_EQ(t.cues[0].text, "<v Bob>Hi</v>");
  EXPECT_EQ(t.cues[1].text, "There --&gt; here");
  EXPECT_EQ(t.cues[0].line, 11);
}

TEST(CaptionsTest, WebVttWithoutItsSignatureIsAProblemButItsCuesAreRead) {
  const CaptionTrack t =
      ReadCaptions("00:00:01.000 --> 00:00:02.000\nHi\n", CaptionFormat::kWebVtt, 10);
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_EQ(t.problems.front(), "line 1: a WebVTT file starts with the line WEBVTT");
}

TEST(CaptionsTest, Windows1252IsReadAndNamedWithItsLine) {
  const std::string srt = "1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9 \x93quoted\x94\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  EXPECT_EQ(t.encoding, "windows-1252");
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_EQ(t.cues[0].text, "Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d");
  ASSERT_EQ(t.problems.size(), 1u);
  EXPECT_EQ(t.problems[0], "line 3: not UTF-8; the file was read as windows-1252");
}

std::string Utf16(const std::string& ascii, bool little_endian) {
  std::string out;
  for (char c : ascii) {
    out += little_endian ? std::string{c, '\0'} : std::string{'\0', c};
  }
  return out;
}

TEST(CaptionsTest, Utf16WithAndWithoutAByteOrderMarkIsRead) {
  const std::string srt = "1\n00:00:01,000 --> 00:00:02,000\nWide\n";
  CaptionTrack t = ReadCaptions("\xFF\xFE" + Utf16(srt, true), CaptionFormat::kSrt, 10);
  EXPECT_EQ(t.encoding, "UTF-16LE");
  EXPECT_TRUE(t.problems.empty()) << AllProblems(t);
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_EQ(t.cues[0].text, "Wide");
  t = ReadCaptions(Utf16(srt, false), CaptionFormat::kSrt, 10);
  EXPECT_EQ(t.encoding, "UTF-16BE");
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_EQ(t.cues[0].text, "Wide");
  EXPECT_EQ(t.problems.front(), "the file has no byte-order mark; read as UTF-16BE");
  // A UTF-8 byte-order mark is dropped.
  t = ReadCaptions("\xEF\xBB\xBFWEBVTT\n\n00:01.000 --> 00:02.000\nx\n", CaptionFormat::kWebVtt,
                   10);
  EXPECT_TRUE(t.problems.empty()) << AllProblems(t);
  EXPECT_EQ(t.cues.size(), 1u);
}

TEST(CaptionsTest, CuesPastTheVideosEndAreCutOrLeftOut) {
  const std::string srt =
      "1\n00:00:08,000 --> 00:00:12,000\nCut\n\n2\n00:00:11,000 --> 00:00:13,000\nGone\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_DOUBLE_EQ(t.cues[0].end, 10);
  ASSERT_EQ(t.problems.size(), 2u) << AllProblems(t);
  EXPECT_EQ(t.problems[0],
            "line 2: the cue ends at 00:00:12.000, after the video's end (00:00:10.000); it is "
            "cut there");
  EXPECT_EQ(t.problems[1],
            "line 6: the cue starts at 00:00:11.000, after the video's end (00:00:10.000); it is "
            "left out");
}

TEST(CaptionsTest, OverlapsAndDisorderAreReportedAndCuesSorted) {
  const std::string srt =
      "1\n00:00:05,000 --> 00:00:07,000\nA\n\n2\n00:00:06,000 --> 00:00:08,000\nB\n\n"
      "3\n00:00:01,000 --> 00:00:02,000\nC\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.cues.size(), 3u);
  EXPECT_EQ(t.cues[0].text, "C");
  EXPECT_EQ(t.cues[1].text, "A");
  ASSERT_EQ(t.problems.size(), 2u) << AllProblems(t);
  EXPECT_EQ(t.problems[0],
            "line 6: the cue starts at 00:00:06.000, before the cue at line 2 ends (00:00:07.000)");
  EXPECT_EQ(t.problems[1],
            "line 10: the cue starts at 00:00:01.000, before the cue at line 6 (00:00:06.000); put "
            "in order");
}

TEST(CaptionsTest, BackwardsAndEmptyCuesAreLeftOut) {
  const std::string srt =
      "1\n00:00:05,000 --> 00:00:04,000\nBackwards\n\n2\n00:00:06,000 --> 00:00:07,000\n"
      "<font color=red></font>\n\n3\n00:00:08,000 --> 00:00:09,000\nKept\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.cues.size(), 1u);
  EXPECT_EQ(t.cues[0].text, "Kept");
  EXPECT_TRUE(AnyProblemStartsWith(t, "line 2: the cue ends (00:00:04.000) before it starts"))
      << AllProblems(t);
  EXPECT_TRUE(AnyProblemStartsWith(t, "line 6: the cue has no text")) << AllProblems(t);
}

TEST(CaptionsTest, AMissingBlankLineBetweenCuesStillGivesBoth) {
  const std::string srt =
      "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.cues.size(), 2u);
  EXPECT_EQ(t.cues[0].text, "One");
  EXPECT_EQ(t.cues[1].text, "Two");
  EXPECT_EQ(t.problems, std::vector<std::string>{"line 4: no blank line before this cue"});
}

TEST(CaptionsTest, ProblemsAreCappedAndCounted) {
  std::string srt;
  for (int i = 0; i < 50; ++i) srt += std::to_string(i) + "\nbad --> worse\ntext\n\n";
  const CaptionTrack t = ReadCaptions(srt, CaptionFormat::kSrt, 10);
  ASSERT_EQ(t.problems.size(), kMaxCaptionProblems);
  EXPECT_EQ(t.problems.back(), "and 32 more problems");  // 50 cues + "no cue" - 19 listed
  EXPECT_TRUE(t.cues.empty());
}

TEST(CaptionsTest, GarbageGivesNoCueAndNoCrash) {
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes += static_cast<char>((i * 37) % 256);
  for (CaptionFormat f : {CaptionFormat::kSrt, CaptionFormat::kWebVtt}) {
    const CaptionTrack t = ReadCaptions(bytes, f, 10);
    EXPECT_TRUE(t.cues.empty());
    EXPECT_FALSE(t.problems.empty());
  }
  EXPECT_EQ(ReadCaptions("", CaptionFormat::kSrt, 10).problems,
            std::vector<std::string>{"no cue could be read"});
}

TEST(CaptionsTest, TimestampsAcceptCommonVariants) {
  const CaptionTrack t =
      ReadCaptions("1\n0:00:01.5 --> 0:00:02,25\nA\n\n2\n01:02:03,004 --> 01:02:04,000\nB\n",
                   CaptionFormat::kSrt, 0);
  ASSERT_EQ(t.cues.size(), 2u) << AllProblems(t);
  EXPECT_DOUBLE_EQ(t.cues[0].start, 1.5);
  EXPECT_DOUBLE_EQ(t.cues[0].end, 2.25);
  EXPECT_NEAR(t.cues[1].start, 3723.004, 1e-9);
  // Minutes or seconds over 59 are not a time.
  EXPECT_TRUE(
      ReadCaptions("1\n00:61:00,000 --> 00:62:00,000\nA\n", CaptionFormat::kSrt, 0).cues.empty());
}

// Found by review: every '<' searched the rest of the text for its '>',
// and every cue of a file without blank lines searched to the end for the
// block's: quadratic, minutes for a hostile 8 MiB file.
TEST(CaptionsTest, HostileFilesReadInLinearTime) {
  // This thread's CPU time, not the wall's: a loaded machine (and the
  // sanitizers' 8x) stay far under a quadratic read's 5 s of CPU.
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const double start = cpu_seconds();
  const std::string brackets = "1\n00:00:01,000 --> 00:00:02,000\n" + std::string(400000, '<') +
                               std::string(400000, '{') + "\\";
  const CaptionTrack a = ReadCaptions(brackets, CaptionFormat::kSrt, 10);
  ASSERT_EQ(a.cues.size(), 1u);
  EXPECT_EQ(a.cues[0].text.substr(0, 8), "&lt;&lt;");
  std::string unbroken;
  for (int i = 0; i < 40000; ++i) unbroken += "1\n0:00:01,000 --> 0:00:00,000\nx\n";
  const CaptionTrack b = ReadCaptions(unbroken, CaptionFormat::kSrt, 10);
  EXPECT_TRUE(b.cues.empty());
  EXPECT_LT(cpu_seconds() - start, 3.0);
}

TEST(CaptionsTest, AssStylesBecomeWebVttTags) {
  EXPECT_EQ(CueTextFromMarkup("{\\i1}Hi{\\i0} {\\b1\\an8}there{\\b0}\\N{\\u1}you"),
            "<i>Hi</i> <b>there</b>\n<u>you");
}

// Found by review: embedded subtitle text had no bound (16 streams of
// 100000 cues of any length).
TEST(CaptionsTest, CollectedSubtitlesAreBounded) {
  SubtitleCollector collector;
  SubtitleCue cue;
  cue.stream_index = 3;
  cue.text = std::string(100000, '&');
  for (int i = 0; i < 1000; ++i) {
    cue.start = i;
    cue.end = i + 0.5;
    ASSERT_TRUE(collector.OnSubtitle(cue).ok());
  }
  ASSERT_TRUE(collector.Finish().ok());
  const std::vector<Cue>& kept = collector.cues().at(3);
  size_t bytes = 0;
  for (const auto& c : kept) bytes += c.text.size();
  EXPECT_LE(bytes, kMaxSubtitleBytes + 5 * kMaxCueBytes);
  EXPECT_EQ(kept[0].text.size(), 5 * kMaxCueBytes);  // "&amp;" each
  EXPECT_LT(kept.size(), 1000u);
}

TEST(CaptionsTest, CoverageIsTheShareOfSpeechUnderCues) {
  std::vector<Cue> cues(2);
  cues[0].start = 0, cues[0].end = 4;
  cues[1].start = 3, cues[1].end = 6;  // overlaps the first: counted once
  const std::vector<Span> speech = {{2, 8}, {10, 12}};
  EXPECT_DOUBLE_EQ(*CaptionCoverage(cues, speech), 4.0 / 8.0);
  EXPECT_FALSE(CaptionCoverage(cues, {{0, 0.5}}));
  EXPECT_DOUBLE_EQ(*CaptionCoverage({}, speech), 0);
}

}  // namespace
}  // namespace vidgate::media
