// Bad input through the whole media stage (probe, probe limits, the one
// decode pass with QC, the default rendition and the thumbnails): every
// damaged or hostile file ends in a classified Status (kInvalidArgument:
// final; anything else: retried) naming the file, or in a QC report, within a
// time bound and without a crash or an allocation of gigabytes.
//
// Fixtures are made at test time: tiny clips from the ffmpeg CLI, damaged
// here byte by byte (bits flipped, a GOP garbled, header fields patched, the
// file cut short) or written from scratch (YUV4MPEG2 headers).
extern "C" {
#include <libavutil/log.h>
}

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/util.h"
#include "media/media_test_util.h"
#include "pipeline/media_stage.h"
#include "pipeline/retry.h"
#include "qc/policy.h"

namespace vidgate::pipeline {
namespace {

using ::vidgate::media::testing::RunFfmpeg;
using ::vidgate::media::testing::ScratchPath;
using ::vidgate::media::testing::WriteFile;

// Far above what any fixture needs (each takes a fraction of a second): the
// stage's should_stop reports it like an attempt time limit, and every test
// asserts it never fired.
constexpr double kHangGuardSeconds = 30;
// Peak RSS allowed to the test process: the fixtures claiming gigabyte
// pictures must not get them.
constexpr int64_t kMaxRssMiB = 1024;

std::string Video(double seconds, const std::string& size = "160x120") {
  return "-f lavfi -i testsrc2=size=" + size + ":rate=25:duration=" + std::to_string(seconds);
}
std::string Audio(double seconds) {
  return "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=" + std::to_string(seconds);
}
// H.264 with a keyframe every 25 frames (1 s), nowhere else.
const std::string kH264 =
    " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// SCRATCH/name made by `ffmpeg ARGS`; a test failure when ffmpeg fails.
std::string Make(const std::string& name, const std::string& args) {
  const std::string path = ScratchPath(name);
  EXPECT_EQ(RunFfmpeg(args, path), "");
  return path;
}

// Deterministic noise (xorshift32).
class Noise {
 public:
  explicit Noise(uint32_t seed) : x_(seed) {}
  uint32_t Next() {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 17;
    x_ ^= x_ << 5;
    return x_;
  }

 private:
  uint32_t x_;
};

uint8_t Byte(const std::string& b, size_t at) { return static_cast<uint8_t>(b[at]); }

uint32_t ReadBe32(const std::string& b, size_t at) {
  return (uint32_t{Byte(b, at)} << 24) | (uint32_t{Byte(b, at + 1)} << 16) |
         (uint32_t{Byte(b, at + 2)} << 8) | uint32_t{Byte(b, at + 3)};
}
void WriteBe32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

// One ISO BMFF box: [begin, end) is the whole box, [body, end) its payload.
struct Box {
  std::string type;
  size_t begin = 0, body = 0, end = 0;
};

// Every box of `type` in [begin, end), looking inside the containers on the
// way to the sample tables (moov, trak, mdia, minf, stbl, edts).
void FindBoxes(const std::string& b, size_t begin, size_t end, const std::string& type,
               std::vector<Box>* found) {
  size_t at = begin;
  while (at + 8 <= end) {
    uint64_t size = ReadBe32(b, at);
    size_t header = 8;
    if (size == 1 && at + 16 <= end) {
      size = (uint64_t{ReadBe32(b, at + 8)} << 32) | ReadBe32(b, at + 12);
      header = 16;
    } else if (size == 0) {
      size = end - at;
    }
    if (size < header || size > end - at) return;
    const Box box{b.substr(at + 4, 4), at, at + header, at + static_cast<size_t>(size)};
    if (box.type == type) found->push_back(box);
    for (const char* container : {"moov", "trak", "mdia", "minf", "stbl", "edts"}) {
      if (box.type == container) FindBoxes(b, box.body, box.end, type, found);
    }
    at = box.end;
  }
}
std::vector<Box> FindBoxes(const std::string& b, const std::string& type) {
  std::vector<Box> found;
  FindBoxes(b, 0, b.size(), type, &found);
  return found;
}

// Replaces the only occurrence of `from` in `bytes` with `to`, of the same
// length; false when `from` is not there exactly once.
bool PatchOnce(std::string& bytes, std::string_view from, std::string_view to) {
  const size_t at = bytes.find(from);
  if (at == std::string::npos || bytes.find(from, at + 1) != std::string::npos) return false;
  if (from.size() != to.size()) return false;
  bytes.replace(at, from.size(), to);
  return true;
}

// A YUV4MPEG2 file: the header line claims WxH (4:2:0), then `frames` frames
// of `frame_bytes` bytes each (less than W*H*3/2: a lie the decoder sees).
std::string Y4m(int width, int height, int frames, size_t frame_bytes,
                const std::string& rate = "F25:1") {
  std::string out = "YUV4MPEG2 W" + std::to_string(width) + " H" + std::to_string(height) + " " +
                    rate + " Ip A1:1 C420jpeg\n";
  for (int i = 0; i < frames; ++i) out += "FRAME\n" + std::string(frame_bytes, '\x80');
  return out;
}

// Where an MPEG-TS file carries the elementary stream of `pid`: the file
// offset of each payload byte, PES headers left out, one vector per PES
// packet.
std::vector<std::vector<size_t>> PesPayloads(const std::string& ts, int pid) {
  std::vector<std::vector<size_t>> pes;
  for (size_t at = 0; at + 188 <= ts.size(); at += 188) {
    if (Byte(ts, at) != 0x47) return {};
    if ((((Byte(ts, at + 1) & 0x1f) << 8) | Byte(ts, at + 2)) != pid) continue;
    size_t payload = at + 4;
    if ((Byte(ts, at + 3) & 0x20) != 0) payload += 1 + Byte(ts, at + 4);  // adaptation field
    if ((Byte(ts, at + 1) & 0x40) != 0) {                                 // a PES packet starts
      pes.emplace_back();
      payload += 9 + Byte(ts, payload + 8);
    }
    if (pes.empty()) continue;
    for (size_t i = payload; i < at + 188; ++i) pes.back().push_back(i);
  }
  return pes;
}

struct Outcome {
  Result<StageResult> result = Status(Code::kInternal, "not run");
  double seconds = 0;
  bool guard_hit = false;
  int64_t peak_rss_mib = 0;
};

class BadInputTest : public ::testing::Test {
 protected:
  // The damaged fixtures make libav log hundreds of (expected) errors.
  static void SetUpTestSuite() { av_log_set_level(AV_LOG_FATAL); }

  // Runs the stage with the "web" policy and the default outputs (rendition
  // "main", thumbnails). `stop` stands for the worker's should_stop; the hang
  // guard is checked first.
  Outcome Process(const std::string& path, std::function<Status()> stop = {},
                  OutputOptions outputs = {}, const std::vector<CaptionInput>& captions = {}) {
    Result<qc::Policy> policy = qc::PresetPolicy("web");
    EXPECT_TRUE(policy.ok());
    const std::string work_root = ScratchPath("work");
    std::unique_ptr<MediaStage> stage = NewQcStage(*policy, outputs, work_root);
    Outcome out;
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    out.result = stage->Process(path, "bad", captions, [&]() -> Status {
      if (elapsed() >= kHangGuardSeconds) {
        out.guard_hit = true;
        return DeadlineExceeded("hang guard: " + path + " took over 30 s");
      }
      return stop ? stop() : Status();
    });
    out.seconds = elapsed();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    out.peak_rss_mib = usage.ru_maxrss / 1024;
    EXPECT_FALSE(out.guard_hit) << path << " ran into the hang guard";
    EXPECT_LT(out.seconds, kHangGuardSeconds);
    EXPECT_LT(out.peak_rss_mib, kMaxRssMiB);
    // The outcome in the test's XML/JSON record (--gtest_output).
    RecordProperty("outcome", out.result.ok()
                                  ? "verdict " + out.result->verdict + ": " + out.result->summary +
                                        "; video " +
                                        out.result->qc.value("video", nlohmann::json()).dump()
                                  : out.result.status().ToString());
    if (!out.result.ok()) {
      // A failed attempt leaves nothing in the work area.
      std::error_code ec;
      EXPECT_TRUE(std::filesystem::is_empty(work_root, ec) || ec) << work_root;
    }
    return out;
  }

  // A final error (the video goes to unable_to_process, not retried) whose
  // message names the file and contains `what`.
  static void ExpectFinal(const Outcome& o, const std::string& path, const std::string& what) {
    ASSERT_FALSE(o.result.ok()) << "verdict " << o.result->verdict << ": " << o.result->summary;
    const Status& s = o.result.status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_FALSE(IsRetryable(s));
    EXPECT_NE(s.message().find("'" + path + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  }

  // The stage's result when it returned a report with `verdict`; null (and a
  // failure) otherwise.
  static const StageResult* ExpectReport(const Outcome& o, const std::string& verdict) {
    EXPECT_TRUE(o.result.ok()) << o.result.status().ToString();
    if (!o.result.ok()) return nullptr;
    EXPECT_EQ(o.result->verdict, verdict) << o.result->summary;
    EXPECT_EQ(o.result->qc.value("verdict", ""), verdict);
    return &*o.result;
  }

  // report["video"][key], or -1 when it is not there.
  static int64_t VideoCount(const StageResult& r, const char* key) {
    if (!r.qc.is_object() || !r.qc.contains("video") || !r.qc["video"].is_object()) return -1;
    return r.qc["video"].value(key, int64_t{-1});
  }
  static int64_t DecodeErrors(const StageResult& r) { return VideoCount(r, "decode_errors"); }
  static int64_t VideoFrames(const StageResult& r) { return VideoCount(r, "frames"); }
  static double FirstErrorTime(const StageResult& r) {
    if (!r.qc.is_object() || !r.qc.contains("video")) return -1;
    return r.qc["video"].value("first_error_time", -1.0);
  }
  static const ProducedFile* Rendition(const StageResult& r) {
    for (const auto& f : r.files) {
      if (f.relative_key == "renditions/main.mp4") return &f;
    }
    return nullptr;
  }
};

// ------------------------------------------------------------- truncation

// The default MP4 muxer writes the index (moov) last: the first half of the
// file has none, so nothing can be demuxed.
TEST_F(BadInputTest, Mp4CutBeforeItsIndexIsFinal) {
  const std::string full = Make("index-last.mp4", Video(2) + " " + Audio(2) + kH264 + " -c:a aac");
  const std::string cut = ScratchPath("cut-before-index.mp4");
  std::string bytes = ReadBytes(full);
  bytes.resize(bytes.size() / 2);
  ASSERT_TRUE(WriteFile(cut, bytes));
  Outcome o = Process(cut);
  ExpectFinal(o, cut, "cannot open media file '" + cut + "': Invalid data found");
}

// A Matroska file cut at 60 %: what is there decodes; libav's demuxer ends
// at the cut without an error, so the report shows fewer frames and no decode
// error.
TEST_F(BadInputTest, TruncatedMatroskaReportsThePrefix) {
  const std::string full = Make("whole.mkv", Video(2) + " " + Audio(2) + kH264 + " -c:a aac");
  const std::string cut = ScratchPath("truncated.mkv");
  std::string bytes = ReadBytes(full);
  bytes.resize(bytes.size() * 6 / 10);
  ASSERT_TRUE(WriteFile(cut, bytes));
  Outcome o = Process(cut);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  EXPECT_GT(VideoFrames(*r), 0);
  EXPECT_LT(VideoFrames(*r), 50);
  EXPECT_EQ(DecodeErrors(*r), 0);
  EXPECT_NE(Rendition(*r), nullptr);
}

// An MP4 with its index first, cut at 60 %: the index promises samples past
// the end; the partial one counts as a decode error (1 in ~75 frames: a
// warning, not a rejection).
TEST_F(BadInputTest, TruncatedFaststartMp4CountsTheCut) {
  const std::string full =
      Make("faststart.mp4", Video(2) + " " + Audio(2) + kH264 + " -c:a aac -movflags +faststart");
  const std::string cut = ScratchPath("truncated-faststart.mp4");
  std::string bytes = ReadBytes(full);
  bytes.resize(bytes.size() * 6 / 10);
  ASSERT_TRUE(WriteFile(cut, bytes));
  Outcome o = Process(cut);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  EXPECT_GT(VideoFrames(*r), 0);
  EXPECT_LT(VideoFrames(*r), 50);
  EXPECT_GE(DecodeErrors(*r), 1);
  EXPECT_GE(FirstErrorTime(*r), 0.0);
}

// -------------------------------------------------------------- bit flips

TEST_F(BadInputTest, BitFlipsInMp4PayloadAreRejectedWithDecodeErrors) {
  const std::string path = Make("flipped.mp4", Video(2) + kH264);
  std::string bytes = ReadBytes(path);
  std::vector<Box> mdat = FindBoxes(bytes, "mdat");
  ASSERT_EQ(mdat.size(), 1u);
  const size_t len = mdat[0].end - mdat[0].body;
  ASSERT_GT(len, 10000u);
  Noise noise(7);
  for (int i = 0; i < 200; ++i) {
    const size_t at = mdat[0].body + noise.Next() % len;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (noise.Next() % 8)));
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_GT(DecodeErrors(*r), 50 / 20);  // over the web policy's 5 %
  EXPECT_NE(r->summary.find("decode errors in"), std::string::npos) << r->summary;
  EXPECT_TRUE(r->files.empty());  // a rejected video gets no outputs
}

TEST_F(BadInputTest, BitFlipsInTransportStreamMiddleAreRejectedWithDecodeErrors) {
  const std::string path = Make("flipped.ts", Video(2) + " " + Audio(2) + kH264 + " -c:a mp2");
  std::string bytes = ReadBytes(path);
  const size_t packets = bytes.size() / 188;
  Noise noise(11);
  // One flipped payload bit in every TS packet of the middle third; the
  // 4-byte packet headers stay intact, so the demuxer keeps its sync.
  for (size_t p = packets / 3; p < packets * 2 / 3; ++p) {
    const size_t at = p * 188 + 4 + noise.Next() % 184;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (noise.Next() % 8)));
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_GT(DecodeErrors(*r), 0);
  EXPECT_GT(FirstErrorTime(*r), 0.3);
  EXPECT_LT(FirstErrorTime(*r), 2.0);
}

// The first GOP (1 s of 3) cannot be decoded: the slice data of its frames
// is noise, while the start codes, NAL headers and slice headers stay, as
// when a recording's first second is damaged. The later GOPs decode.
TEST_F(BadInputTest, UndecodableFirstGopIsRejectedWithDecodeErrors) {
  const std::string path = Make("first-gop.ts", Video(3) + kH264 + " -bf 0");
  std::string bytes = ReadBytes(path);
  const std::vector<std::vector<size_t>> pes = PesPayloads(bytes, 0x100);
  ASSERT_EQ(pes.size(), 75u);
  Noise noise(3);
  int garbled = 0;
  for (size_t frame = 0; frame < 25; ++frame) {
    const std::vector<size_t>& es = pes[frame];
    auto at = [&](size_t i) { return Byte(bytes, es[i]); };
    // NAL units in order; a slice (type 1 or 5) keeps its NAL header and the
    // next 8 bytes (the slice header) and gets noise without zero bytes
    // after them, so no start code appears.
    for (size_t i = 0; i + 3 < es.size(); ++i) {
      if (at(i) != 0 || at(i + 1) != 0 || at(i + 2) != 1) continue;
      const int type = at(i + 3) & 0x1f;
      size_t end = i + 3;
      while (end + 2 < es.size() && !(at(end) == 0 && at(end + 1) == 0)) ++end;
      if (end + 2 >= es.size()) end = es.size();
      if (type == 1 || type == 5) {
        for (size_t k = i + 3 + 8; k < end; ++k) {
          bytes[es[k]] = static_cast<char>(0x80 | (noise.Next() & 0x7f));
        }
        ++garbled;
      }
      i = end - 1;
    }
  }
  ASSERT_EQ(garbled, 25);
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_GE(DecodeErrors(*r), 10);
  EXPECT_GE(VideoFrames(*r), 50);
  EXPECT_GE(FirstErrorTime(*r), 0.0);
  EXPECT_LT(FirstErrorTime(*r), 0.5);
}

// ---------------------------------------------------------- zero duration

TEST_F(BadInputTest, SingleFrameIsReported) {
  const std::string path = Make("one-frame.mp4", Video(1) + kH264 + " -frames:v 1");
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "warn");  // no audio
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(VideoFrames(*r), 1);
  EXPECT_EQ(DecodeErrors(*r), 0);
  ASSERT_NE(Rendition(*r), nullptr);
  EXPECT_EQ(Rendition(*r)->output.width, 160);
}

// Every duration of an MP4 zero (movie, track and media headers) and every
// sample's too (stts deltas): 25 frames with one timestamp, a file that says
// it lasts 0 s. It is still decoded and reported.
TEST_F(BadInputTest, Mp4WithZeroDurationsIsReported) {
  const std::string path = Make("zero-durations.mp4", Video(1) + kH264);
  std::string bytes = ReadBytes(path);
  // Version 0 boxes: the duration is word 4 of mvhd and mdhd, word 5 of tkhd.
  for (const auto& [type, word] : {std::pair{"mvhd", 4}, {"tkhd", 5}, {"mdhd", 4}}) {
    std::vector<Box> boxes = FindBoxes(bytes, type);
    ASSERT_FALSE(boxes.empty()) << type;
    for (const Box& box : boxes) {
      ASSERT_EQ(bytes[box.body], 0) << type << " is not version 0";
      WriteBe32(bytes, box.body + 4 * word, 0);
    }
  }
  std::vector<Box> stts = FindBoxes(bytes, "stts");
  ASSERT_EQ(stts.size(), 1u);
  for (uint32_t i = 0, n = ReadBe32(bytes, stts[0].body + 4); i < n; ++i) {
    WriteBe32(bytes, stts[0].body + 8 + 8 * i + 4, 0);
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->probe["format"]["duration"], 0.0);
  EXPECT_EQ(VideoFrames(*r), 25);
  EXPECT_EQ(DecodeErrors(*r), 0);
  EXPECT_NE(Rendition(*r), nullptr);
}

// An MP4 whose edit list shows 0 s of its track: libav presents no frame
// (as the ffmpeg CLI does), so there is nothing to check.
TEST_F(BadInputTest, Mp4WithEmptyEditListIsFinal) {
  const std::string path = Make("empty-edit.mp4", Video(1) + kH264);
  std::string bytes = ReadBytes(path);
  std::vector<Box> elst = FindBoxes(bytes, "elst");
  ASSERT_EQ(elst.size(), 1u);
  ASSERT_EQ(bytes[elst[0].body], 0) << "elst is not version 0";
  for (uint32_t i = 0, n = ReadBe32(bytes, elst[0].body + 4); i < n; ++i) {
    WriteBe32(bytes, elst[0].body + 8 + 12 * i, 0);  // segment_duration
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decodable video frame in '" + path + "'");
}

// ------------------------------------------------------ absurd dimensions

// Matroska PixelWidth (0xB0) and PixelHeight (0xBA) of a 288x256 H.264
// clip, both claimed to be 65535. libav takes the size from the H.264
// sequence header instead: the probe, the report and the rendition are right.
TEST_F(BadInputTest, MatroskaHeaderClaiming65535SquareIsOverruledByTheStream) {
  const std::string path = Make("huge-header.mkv", Video(1, "288x256") + kH264);
  std::string bytes = ReadBytes(path);
  ASSERT_TRUE(PatchOnce(bytes, std::string("\xB0\x82\x01\x20", 4), "\xB0\x82\xFF\xFF"));
  ASSERT_TRUE(PatchOnce(bytes, std::string("\xBA\x82\x01\x00", 4), "\xBA\x82\xFF\xFF"));
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->probe["streams"][0]["width"], 288);
  EXPECT_EQ(r->probe["streams"][0]["height"], 256);
  EXPECT_EQ(VideoFrames(*r), 25);
  ASSERT_NE(Rendition(*r), nullptr);
  EXPECT_EQ(Rendition(*r)->output.width, 288);
  EXPECT_EQ(Rendition(*r)->output.height, 256);
}

// 60000x60000 (5.4 GB a frame) is beyond libav's own size check: the demuxer
// refuses the header (with a meaningless errno, EBUSY), which is bad data,
// not a busy device.
TEST_F(BadInputTest, Y4mClaiming60000SquareIsFinal) {
  const std::string path = ScratchPath("huge.y4m");
  ASSERT_TRUE(WriteFile(path, Y4m(60000, 60000, 1, 4096)));
  Outcome o = Process(path);
  ExpectFinal(o, path, "cannot open media file '" + path + "': its data is not valid media");
}

// 16000x16000 (384 MB a frame) passes libav's check; the probe limits refuse
// it before anything is decoded or allocated.
TEST_F(BadInputTest, Y4mClaiming16000SquareIsRejectedBeforeDecoding) {
  const std::string path = ScratchPath("large.y4m");
  ASSERT_TRUE(WriteFile(path, Y4m(16000, 16000, 2, 4096)));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->qc["decoded"], false);
  EXPECT_NE(r->summary.find("claims a 16000x16000 picture"), std::string::npos) << r->summary;
  EXPECT_TRUE(r->files.empty());
}

// 60000x2 is a small picture but wider than an H.264 rendition can be.
TEST_F(BadInputTest, Y4mClaimingAWideSliverIsRejectedBeforeDecoding) {
  const std::string path = ScratchPath("sliver.y4m");
  ASSERT_TRUE(WriteFile(path, Y4m(60000, 2, 2, 60000 * 3)));
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->qc["decoded"], false);
  EXPECT_NE(r->summary.find("claims a 60000x2 picture"), std::string::npos) << r->summary;
}

// 8192x8192 is within the limits, but each frame holds 4 KiB of the 96 MiB
// it claims: the decoder refuses every one.
TEST_F(BadInputTest, Y4mWithFramesShorterThanItsHeaderIsFinal) {
  const std::string path = ScratchPath("short-frames.y4m");
  ASSERT_TRUE(WriteFile(path, Y4m(8192, 8192, 3, 4096)));
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decodable video frame in '" + path + "'");
}

// -------------------------------------------------------------- no frames

// The noise bitstream filter drops every video packet: the stream is declared
// (with its parameters), the audio decodes, no picture does.
TEST_F(BadInputTest, MatroskaVideoStreamWithNoFramesIsFinal) {
  const std::string path = Make("no-video-frames.mkv", Video(1) + " " + Audio(1) + kH264 +
                                                           " -bsf:v noise=dropamount=1 -c:a aac");
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decodable video frame in '" + path + "'");
}

// The same in MP4: the muxer leaves out a track without samples, so the file
// is audio only, and QC rejects it for having no picture, from the probe,
// without decoding the audio (an audio-only file of hours is answered at
// once).
TEST_F(BadInputTest, Mp4VideoTrackWithNoSamplesIsRejectedFromTheProbe) {
  const std::string path = Make("no-video-samples.mp4", Video(1) + " " + Audio(1) + kH264 +
                                                            " -bsf:v noise=dropamount=1 -c:a aac");
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "reject");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->summary.find("the file has no video stream"), std::string::npos) << r->summary;
  EXPECT_EQ(r->qc.value("decoded", true), false) << r->qc.dump();
  EXPECT_EQ(r->qc["checks"][0].value("id", ""), "video_present");
}

// An audio stream whose packets are all dropped: the rendition gets no audio
// track, and the stage must not mistake that for a broken output (it once
// failed here with a retryable kInternal).
TEST_F(BadInputTest, MatroskaAudioStreamWithNoFramesIsReported) {
  const std::string path = Make("no-audio-frames.mkv", Video(1) + " " + Audio(1) + kH264 +
                                                           " -c:a aac -bsf:a noise=dropamount=1");
  Outcome o = Process(path);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->summary.find("the file has no audio stream"), std::string::npos) << r->summary;
  EXPECT_EQ(VideoFrames(*r), 25);
  EXPECT_NE(Rendition(*r), nullptr);
}

// HLS keeps an empty audio track in its fMP4 init section, where the MP4
// has none: the output checks must accept both.
TEST_F(BadInputTest, AudioStreamWithNoFramesWithHlsIsReported) {
  const std::string path =
      Make("no-audio-frames-hls.mkv",
           Video(1) + " " + Audio(1) + kH264 + " -c:a aac -bsf:a noise=dropamount=1");
  OutputOptions outputs;
  outputs.hls = true;
  outputs.hls_segment_seconds = 1;
  Outcome o = Process(path, {}, outputs);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  bool playlist = false;
  for (const auto& f : r->files) playlist = playlist || f.relative_key == "hls/main/index.m3u8";
  EXPECT_TRUE(playlist);
}

// ---------------------------------------------------------------- captions

// Text subtitle streams are read in the pass and filed as captions beside
// the sidecars (a language taken gets a numbered label); coverage counts
// the sound that is not silent.
TEST_F(BadInputTest, EmbeddedSubtitleStreamsBecomeCaptions) {
  const std::string fr = ScratchPath("fr.srt"), en = ScratchPath("en.srt");
  ASSERT_TRUE(WriteFile(fr,
                        "1\n00:00:00,500 --> 00:00:01,500\nBonjour\n\n"
                        "2\n00:00:03,000 --> 00:00:03,500\nSilence\n"));
  ASSERT_TRUE(WriteFile(en, "1\n00:00:01,000 --> 00:00:02,000\n<i>Hi</i> & bye\n"));
  const std::string path = Make(
      "subtitles.mkv",
      Video(4) + " -f lavfi -i \"aevalsrc=if(lt(t\\,2)\\,sin(2*PI*440*t)\\,0):s=48000:d=4\" -i " +
          fr + " -i " + en + " -map 0:v -map 1:a -map 2 -map 3" + kH264 +
          " -c:a aac -c:s:0 srt -c:s:1 ass -metadata:s:s:0 language=fre "
          "-metadata:s:s:1 language=eng");
  OutputOptions outputs;
  outputs.thumbnails = false;
  CaptionInput sidecar{"subtitles.en.vtt", "en", "WEBVTT\n\n00:01.000 --> 00:01.500\nSide\n", ""};
  Outcome o = Process(path, {}, outputs, {sidecar});
  ASSERT_TRUE(o.result.ok()) << o.result.status().message();
  const nlohmann::json& captions = o.result->qc["captions"];
  ASSERT_EQ(captions.size(), 3u) << captions.dump();
  EXPECT_EQ(captions[0].value("source", ""), "subtitles.en.vtt");
  EXPECT_EQ(captions[1].value("source", ""), "stream #2 (subrip)");
  EXPECT_EQ(captions[1].value("language", ""), "fr");
  EXPECT_EQ(captions[1].value("key", ""), "captions/fr.vtt");
  EXPECT_EQ(captions[1].value("cues", 0), 2);
  EXPECT_NEAR(captions[1].value("coverage", 0.0), 0.5, 0.02) << captions[1].dump();
  EXPECT_EQ(captions[2].value("source", ""), "stream #3 (ass)");
  EXPECT_EQ(captions[2].value("key", ""), "captions/en-2.vtt");
  std::map<std::string, std::string> files;
  for (const auto& f : o.result->files) files[f.relative_key] = ReadBytes(f.local_path);
  EXPECT_EQ(files["captions/fr.vtt"],
            "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nBonjour\n\n"
            "00:00:03.000 --> 00:00:03.500\nSilence\n\n");
  EXPECT_EQ(files["captions/en-2.vtt"],
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i>Hi</i> &amp; bye\n\n");
  EXPECT_EQ(files["captions/en.vtt"], "WEBVTT\n\n00:00:01.000 --> 00:00:01.500\nSide\n\n");
  bool passed = false;
  for (const auto& c : o.result->qc["checks"]) {
    if (c.value("id", "") == "captions") passed = c.value("status", "") == "pass";
  }
  EXPECT_TRUE(passed) << o.result->qc["checks"].dump();
}

// Found by review: embedded cues were timed from the pictures' start while
// the renditions' timeline starts with the sound when that starts first.
TEST_F(BadInputTest, EmbeddedCuesFollowTheRenditionsTimeline) {
  const std::string srt = ScratchPath("lead.srt");
  ASSERT_TRUE(WriteFile(srt, "1\n00:00:01,000 --> 00:00:01,500\nNow\n"));
  const std::string path =
      Make("audio-leads.mkv", "-itsoffset 0.5 " + Video(3) + " " + Audio(3.5) + " -i " + srt +
                                  " -map 0:v -map 1:a -map 2" + kH264 + " -c:a aac -c:s srt");
  OutputOptions outputs;
  outputs.thumbnails = false;
  Outcome o = Process(path, {}, outputs);
  ASSERT_TRUE(o.result.ok()) << o.result.status().message();
  std::map<std::string, std::string> files;
  for (const auto& f : o.result->files) files[f.relative_key] = ReadBytes(f.local_path);
  // 1 s on the sound's clock (which starts with the AAC encoder's 21 ms of
  // priming), as the rendition's timeline counts; not 0.5 s.
  EXPECT_EQ(files["captions/und.vtt"].substr(0, 19), "WEBVTT\n\n00:00:01.02")
      << files["captions/und.vtt"];
  EXPECT_NEAR(o.result->qc["av_sync"].value("audio_offset", 0.0), -0.5, 0.05)
      << o.result->qc["av_sync"].dump();
}

// What became of every stream is in the report; extra sound tracks are
// not kept, and the check says which.
TEST_F(BadInputTest, EveryStreamIsAccountedForInTracks) {
  const std::string srt = ScratchPath("tracks.srt");
  ASSERT_TRUE(WriteFile(srt, "1\n00:00:00,500 --> 00:00:01,000\nBonjour\n"));
  const std::string path =
      Make("tracks.mkv",
           Video(2) + " " + Audio(2) + " " + Audio(2) + " " + Audio(2) + " -i " + srt +
               " -map 0:v -map 1:a -map 2:a -map 3:a -map 4" + kH264 +
               " -c:a aac -ac:a:0 2 -ac:a:1 2 -ac:a:2 1 -c:s srt -metadata:s:a:0 language=eng "
               "-metadata:s:a:1 language=fre -metadata:s:s:0 language=fre");
  OutputOptions outputs;
  outputs.thumbnails = false;
  Outcome o = Process(path, {}, outputs);
  ASSERT_TRUE(o.result.ok()) << o.result.status().message();
  const nlohmann::json& tracks = o.result->qc["tracks"];
  ASSERT_EQ(tracks.size(), 5u) << tracks.dump();
  EXPECT_EQ(tracks[0].value("use", ""), "pictures: quality control, renditions, thumbnails");
  EXPECT_EQ(tracks[1].value("use", ""), "sound: quality control, renditions");
  EXPECT_EQ(tracks[1].value("language", ""), "eng");
  EXPECT_TRUE(tracks[2]["use"].is_null());
  EXPECT_EQ(tracks[2].value("dropped", ""),
            "a rendition carries one sound track (stream #1; output.audio_languages chooses it; "
            "audio_tracks = \"all\" keeps the others)");
  EXPECT_EQ(tracks[3].value("channels", 0), 1);
  EXPECT_EQ(tracks[4].value("use", ""), "captions/fr.vtt");
  std::string message;
  for (const auto& c : o.result->qc["checks"]) {
    if (c.value("id", "") == "tracks" && c.value("status", "") == "fail") {
      message = c.value("message", "");
    }
  }
  EXPECT_EQ(message,
            "not kept: stream #2 (audio aac fre 2 ch): a rendition carries one sound track "
            "(stream #1; output.audio_languages chooses it; audio_tracks = \"all\" keeps the "
            "others); stream #3 (audio aac 1 ch): a rendition carries one sound track (stream #1; "
            "output.audio_languages chooses it; audio_tracks = \"all\" keeps the others)");
  EXPECT_EQ(o.result->verdict, "warn");
}

// output.audio_languages chooses the sound track that QC measures and the
// renditions carry ("fr" finds "fre").
TEST_F(BadInputTest, TheSoundTrackIsChosenByLanguage) {
  const std::string path = Make(
      "languages.mkv",
      Video(2) + " -f lavfi -i \"aevalsrc=0.02*sin(2*PI*440*t):s=48000:d=2\"" +
          " -f lavfi -i \"aevalsrc=0.5*sin(2*PI*440*t):s=48000:d=2\" -map 0:v -map 1:a -map 2:a" +
          kH264 + " -c:a aac -metadata:s:a:0 language=eng -metadata:s:a:1 language=fre");
  OutputOptions outputs;
  outputs.thumbnails = false;
  Outcome english = Process(path, {}, outputs);
  outputs.audio_languages = {"de", "fr"};
  Outcome french = Process(path, {}, outputs);
  ASSERT_TRUE(english.result.ok() && french.result.ok());
  const double quiet = english.result->qc["audio"]["loudness"].value("integrated_lufs", 0.0);
  const double loud = french.result->qc["audio"]["loudness"].value("integrated_lufs", -99.0);
  EXPECT_LT(quiet, -30);
  EXPECT_GT(loud, -15);
  EXPECT_EQ(french.result->qc["tracks"][2].value("use", ""), "sound: quality control, renditions");
  EXPECT_EQ(french.result->qc["tracks"][1].value("dropped", "").rfind("a rendition carries", 0),
            0u);
  // The rendition carries the loud one.
  bool measured = false;
  for (const auto& f : french.result->files) {
    if (f.relative_key != "renditions/main.mp4") continue;
    measured = true;
    int exit_code = 0;
    const std::string volume =
        media::testing::RunCommand("ffmpeg -v info -nostats -i '" + f.local_path +
                                       "' -af volumedetect -f null - 2>&1 | "
                                       "grep -o 'mean_volume: [-0-9.]*'",
                                   &exit_code);
    EXPECT_NE(volume.find("mean_volume: -"), std::string::npos) << volume;
    EXPECT_GT(std::stod(volume.substr(volume.find('-'))), -12) << volume;
  }
  EXPECT_TRUE(measured);
}

// audio_tracks = "all": every further sound track becomes a sound-only
// rendition on the same timeline (normalised like the rest), and an
// alternate audio rendition of the HLS master that ffprobe reads with its
// language.
TEST_F(BadInputTest, FurtherSoundTracksBecomeAlternateRenditions) {
  const std::string path = Make(
      "two-languages.mkv",
      Video(2) + " -f lavfi -i \"aevalsrc=0.05*sin(2*PI*440*t):s=48000:d=2\"" +
          " -f lavfi -i \"aevalsrc=0.5*sin(2*PI*660*t):s=48000:d=2\" -map 0:v -map 1:a -map 2:a" +
          " -map 1:a" + kH264 +
          " -c:a aac -metadata:s:a:0 language=eng -metadata:s:a:1 language=fre "
          "-metadata:s:a:2 language=eng");
  OutputOptions outputs;
  outputs.thumbnails = false;
  outputs.hls = true;
  outputs.hls_segment_seconds = 1;
  media::RenditionSpec spec;
  spec.max_height = 120;
  spec.audio_tracks = "all";
  spec.loudness_target = -20;
  // A smaller rendition with the same sound shares main's further tracks;
  // one with a leaner sound gets its own.
  media::RenditionSpec small = spec, lean = spec;
  small.name = "small";
  small.max_height = 96;
  lean.name = "lean";
  lean.max_height = 96;
  lean.audio_bitrate = 64000;
  outputs.renditions = {spec, small, lean};
  Outcome o = Process(path, {}, outputs);
  ASSERT_TRUE(o.result.ok()) << o.result.status().message();
  std::map<std::string, std::string> files;
  for (const auto& f : o.result->files) files[f.relative_key] = f.local_path;
  ASSERT_TRUE(files.contains("renditions/main-audio-fr.mp4"));
  ASSERT_TRUE(files.contains("hls/main-audio-fr/index.m3u8"));
  // A second English track: a name of its own in the group (the
  // rendition's own sound is "en").
  ASSERT_TRUE(files.contains("renditions/main-audio-en-2.mp4"));
  EXPECT_TRUE(files.contains("renditions/lean-audio-fr.mp4"));
  for (const auto& [key, local] : files) EXPECT_FALSE(key.starts_with("renditions/small-")) << key;
  const std::string master = ReadBytes(files["hls/master.m3u8"]);
  EXPECT_NE(master.find("NAME=\"en\",LANGUAGE=\"en\",DEFAULT=YES"), std::string::npos) << master;
  EXPECT_NE(master.find("NAME=\"en-2\",LANGUAGE=\"en\",DEFAULT=NO"), std::string::npos) << master;
  // One group per sound: main and small in audio-main, lean in its own.
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (size_t at = master.find(needle); at != std::string::npos; at = master.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("GROUP-ID=\"audio-main\""), 3) << master;  // en, fr, en-2
  EXPECT_EQ(count("GROUP-ID=\"audio-lean\""), 3) << master;
  EXPECT_EQ(count("AUDIO=\"audio-main\""), 2) << master;
  EXPECT_EQ(count("AUDIO=\"audio-lean\""), 1) << master;
  int exit_code = 0;
  const std::string streams = media::testing::RunCommand(
      "ffprobe -v error -show_entries stream=codec_type:stream_tags=language -of csv=p=0 '" +
          files["hls/master.m3u8"] + "'",
      &exit_code);
  EXPECT_NE(streams.find("audio,fr"), std::string::npos) << streams;
  EXPECT_NE(streams.find("video"), std::string::npos) << streams;
  const std::string only =
      media::testing::RunCommand("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 '" +
                                     files["renditions/main-audio-fr.mp4"] + "'",
                                 &exit_code);
  EXPECT_EQ(only, "audio\n");
  // Each track normalised on its own to the target.
  const nlohmann::json& renditions = o.result->qc["renditions"];
  ASSERT_EQ(renditions.size(), 7u) << renditions.dump();
  EXPECT_EQ(renditions[1]["sound_track"].value("language", ""), "fr");
  EXPECT_EQ(renditions[1]["sound_track"].value("alternate_of", ""), "main");
  // Which further tracks each video rendition goes with.
  EXPECT_EQ(renditions[0].value("sound_tracks_of", ""), "main");
  EXPECT_EQ(renditions[3].value("name", ""), "small");
  EXPECT_EQ(renditions[3].value("sound_tracks_of", ""), "main");
  EXPECT_EQ(renditions[4].value("sound_tracks_of", ""), "lean");
  EXPECT_TRUE(renditions[1]["sound_tracks_of"].is_null());
  for (const auto& r : renditions) {
    EXPECT_NEAR(r["loudness"]["after"].value("integrated_lufs", 0.0), -20, 0.6) << r.dump();
  }
  EXPECT_EQ(o.result->qc["tracks"][2].value("use", ""),
            "a further sound track: renditions/main-audio-fr.mp4, renditions/lean-audio-fr.mp4");
  for (const auto& c : o.result->qc["checks"]) {
    if (c.value("id", "") == "tracks") {
      EXPECT_EQ(c.value("status", ""), "pass") << c.dump();
    }
  }
}

// --------------------------------------------------------- unknown codecs

TEST_F(BadInputTest, MatroskaUnknownVideoCodecIdIsFinal) {
  const std::string path =
      Make("unknown-codec.mkv", Video(1) + " " + Audio(1) + kH264 + " -c:a aac");
  std::string bytes = ReadBytes(path);
  ASSERT_TRUE(PatchOnce(bytes, "V_MPEG4/ISO/AVC", "V_MPEG4/ISO/XYZ"));
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decoder for the video stream #0 (an unknown codec) of");
}

TEST_F(BadInputTest, AviGarbageFourccIsFinal) {
  const std::string path = Make("garbage-fourcc.avi", Video(1) + " -c:v mpeg4");
  std::string bytes = ReadBytes(path);
  // The stream header's fccHandler and the bitmap header's biCompression.
  int patched = 0;
  for (const char* fourcc : {"FMP4", "fmp4"}) {
    for (size_t at = bytes.find(fourcc); at != std::string::npos; at = bytes.find(fourcc, at)) {
      bytes.replace(at, 4, "QZX9");
      ++patched;
    }
  }
  ASSERT_GE(patched, 1);
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decoder for the video stream #0 (an unknown codec, tag QZX9) of");
}

// The audio is the stream libav would decode beside the video, so the file
// cannot be checked as a whole: final, naming the audio stream.
TEST_F(BadInputTest, UnknownAudioCodecBesideGoodVideoIsFinal) {
  const std::string path =
      Make("unknown-audio.mkv", Video(1) + " " + Audio(1) + kH264 + " -c:a aac");
  std::string bytes = ReadBytes(path);
  ASSERT_TRUE(PatchOnce(bytes, "A_AAC", "A_XYZ"));
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  ExpectFinal(o, path, "no decoder for the audio stream #1 (an unknown codec) of");
}

// A Theora setup header garbled: the decoder refuses to open with
// AVERROR(EPERM), which is about the stream, not about permissions.
TEST_F(BadInputTest, TheoraWithDamagedSetupHeaderIsFinal) {
  const std::string path = Make("damaged-setup.ogv", Video(1) + " -c:v libtheora");
  std::string bytes = ReadBytes(path);
  const size_t setup = bytes.find("\x82theora");
  ASSERT_NE(setup, std::string::npos);
  for (size_t i = setup + 7; i < setup + 40; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x55);
  ASSERT_TRUE(WriteFile(path, bytes));
  Outcome o = Process(path);
  ExpectFinal(o, path,
              "cannot open the decoder of the video stream #0 of '" + path +
                  "': the stream's headers are invalid");
}

// ------------------------------------------------------------- time limit

// A recording whose timestamps start an hour in (an MP4 counts its
// duration from zero: 3603 s): the stage still files a poster and every
// thumbnail, placed on the decoded timeline.
TEST_F(BadInputTest, AnHourInRecordingGetsEveryThumbnail) {
  const std::string path = Make("hour-in.mp4", Video(3) + kH264 + " -output_ts_offset 3600");
  Outcome o = Process(path);
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  std::map<std::string, std::string> local;
  for (const auto& f : o.result->files) local[f.relative_key] = f.local_path;
  for (const char* key : {"thumbnails/poster.jpg", "thumbnails/0001.jpg", "thumbnails/0004.jpg",
                          "thumbnails/sprite.vtt"}) {
    ASSERT_TRUE(local.count(key)) << key;
  }
  // Taken across the 3 s of moving pictures, not all of the last one (which
  // is what placing them on the container's 3603 s gives).
  auto bytes = [&](const std::string& key) {
    Result<std::string> read = ReadLocalFile(local[key], "read", 1 << 22);
    return read.ok() ? *read : std::string();
  };
  EXPECT_NE(bytes("thumbnails/0001.jpg"), bytes("thumbnails/0004.jpg"));
  EXPECT_NE(bytes("thumbnails/poster.jpg"), bytes("thumbnails/0004.jpg"));
  const std::string vtt = bytes("thumbnails/sprite.vtt");
  EXPECT_EQ(vtt.find("01:00:"), std::string::npos) << vtt;
  EXPECT_NE(vtt.find("00:00:02.000 --> 00:00:03.0"), std::string::npos) << vtt;
}

// A rendition with a loudness target: the report's renditions say what its
// sound measured before and after; the attempt time limit firing while the
// sound is decoded a second time still ends the attempt with the worker's
// reason, leaving nothing behind.
TEST_F(BadInputTest, NormalisedRenditionReportsItsLoudnessAndStopsOnTime) {
  const std::string path =
      Make("to-normalise.mkv", Video(3) + " " + Audio(3) + kH264 + " -c:a aac");
  OutputOptions outputs;
  outputs.renditions[0].loudness_target = -20;
  outputs.thumbnails = false;
  Outcome o = Process(path, {}, outputs);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(r->qc.contains("renditions")) << r->qc.dump();
  const nlohmann::json& loudness = r->qc["renditions"][0]["loudness"];
  EXPECT_EQ(r->qc["renditions"][0]["key"], "renditions/main.mp4");
  EXPECT_EQ(loudness["target"], -20.0);
  EXPECT_NEAR(loudness["after"]["integrated_lufs"].get<double>(), -20, 0.5) << loudness.dump();
  EXPECT_TRUE(loudness["before"]["integrated_lufs"].is_number()) << loudness.dump();

  // The stop comes after as many polls as a pass without normalising
  // takes: during the second decode of the sound.
  int first_pass_polls = 0;
  OutputOptions plain = outputs;
  plain.renditions[0].loudness_target.reset();
  Outcome counted = Process(
      path,
      [&]() -> Status {
        ++first_pass_polls;
        return Status();
      },
      plain);
  ASSERT_TRUE(counted.result.ok());
  // Their work folders go with them: the stopped attempt's must leave the
  // work area empty.
  o.result = Status(Code::kInternal, "dropped");
  counted.result = Status(Code::kInternal, "dropped");
  const Status limit = DeadlineExceeded("the attempt ran over workers.attempt_timeout_seconds");
  int calls = 0;
  Outcome stopped = Process(
      path, [&]() -> Status { return ++calls > first_pass_polls + 5 ? limit : Status(); }, outputs);
  ASSERT_FALSE(stopped.result.ok());
  EXPECT_EQ(stopped.result.status().code(), Code::kDeadlineExceeded)
      << stopped.result.status().ToString();
}

// Every rendition reports its PSNR and SSIM, with per-second series for the
// plots; one under its min_ssim fails rendition_quality (a warning).
TEST_F(BadInputTest, RenditionsReportTheirQualityAndMinSsimWarns) {
  const std::string path = Make("quality.mkv", Video(2) + " " + Audio(2) + kH264 + " -c:a aac");
  OutputOptions outputs;
  outputs.thumbnails = false;
  outputs.renditions[0].min_ssim = 0.9999;
  media::RenditionSpec lenient;
  lenient.name = "small";
  lenient.max_height = 120;
  lenient.min_ssim = 0.5;
  outputs.renditions.push_back(lenient);
  Outcome o = Process(path, {}, outputs);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  const nlohmann::json& renditions = r->qc["renditions"];
  ASSERT_EQ(renditions.size(), 2u) << r->qc.dump();
  for (const auto& rendition : renditions) {
    const nlohmann::json& q = rendition["quality"];
    ASSERT_TRUE(q.is_object()) << rendition.dump();
    EXPECT_GT(q["frames"].get<int>(), 40);
    EXPECT_GT(q["ssim_y"].get<double>(), 0.8);
    EXPECT_GT(q["psnr_y"].get<double>(), 25);
    const std::string name = rendition["name"];
    EXPECT_EQ(r->qc["series"]["ssim_" + name].size(), 2u) << r->qc["series"].dump();
    EXPECT_EQ(r->qc["series"]["psnr_" + name].size(), 2u);
  }
  int failed = 0, passed = 0;
  for (const auto& c : r->qc["checks"]) {
    if (c["id"] != "rendition_quality") continue;
    EXPECT_EQ(c["severity"], "warning");
    (c["status"] == "fail" ? failed : passed)++;
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(passed, 1);
  EXPECT_NE(r->summary.find("rendition main: SSIM"), std::string::npos) << r->summary;
  EXPECT_NE(r->summary.find("(minimum 0.9999)"), std::string::npos) << r->summary;

  // A picture too small to measure fails a minimum rather than passing it.
  const std::string tiny = ScratchPath("tiny-quality.y4m");
  ASSERT_TRUE(WriteFile(tiny, Y4m(4, 4, 3, 4 * 4 + 2 * 4)));
  OutputOptions one;
  one.thumbnails = false;
  one.renditions[0].min_ssim = 0.5;
  Outcome t = Process(tiny, {}, one);
  const StageResult* tr = ExpectReport(t, "warn");
  ASSERT_NE(tr, nullptr);
  EXPECT_NE(tr->summary.find("its quality cannot be measured"), std::string::npos) << tr->summary;
}

// A picture under 2x2 cannot be a rendition without upscaling it (it gave
// a 2x2 one): a rejection that says so. 2x2 and 3x1... stay as they are
// (rounded down to even, never up).
TEST_F(BadInputTest, APictureUnderTwoPixelsASideIsRejectedNotUpscaled) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {1, 120}, {160, 1}}) {
    const std::string path =
        ScratchPath("small-" + std::to_string(w) + "x" + std::to_string(h) + ".y4m");
    const size_t chroma = static_cast<size_t>((w + 1) / 2) * ((h + 1) / 2);
    ASSERT_TRUE(WriteFile(path, Y4m(w, h, 3, static_cast<size_t>(w) * h + 2 * chroma)));
    Outcome o = Process(path);
    const StageResult* r = ExpectReport(o, "reject");
    ASSERT_NE(r, nullptr);
    EXPECT_NE(r->summary.find("is " + std::to_string(w) + "x" + std::to_string(h) +
                              ": a picture needs at least 2x2 pixels"),
              std::string::npos)
        << r->summary;
    EXPECT_TRUE(r->files.empty());
  }
  const std::string two = ScratchPath("small-3x3.y4m");
  ASSERT_TRUE(WriteFile(two, Y4m(3, 3, 3, 9 + 2 * 4)));
  Outcome o = Process(two);
  const StageResult* r = ExpectReport(o, "warn");
  ASSERT_NE(r, nullptr);
  bool made = false;
  for (const auto& f : r->files) {
    if (f.relative_key != "renditions/main.mp4") continue;
    made = true;
    EXPECT_EQ(f.output.width, 2);
    EXPECT_EQ(f.output.height, 2);
  }
  EXPECT_TRUE(made);
}

// The worker's attempt time limit fires in the middle of the decode pass:
// the stage returns the worker's reason (retryable) at once and removes
// what it had written.
TEST_F(BadInputTest, AttemptTimeLimitEndsTheDecode) {
  const std::string path = Make("long-enough.mkv", Video(3) + " " + Audio(3) + kH264 + " -c:a aac");
  const Status limit =
      DeadlineExceeded("the attempt ran over workers.attempt_timeout_seconds (0.1 s)");
  int polls = 0;
  Outcome o = Process(path, [&]() -> Status { return ++polls > 20 ? limit : Status(); });
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(o.result.status().message(), limit.message());
  EXPECT_TRUE(IsRetryable(o.result.status()));
  EXPECT_EQ(polls, 21);  // nothing polled on after the limit
}

TEST_F(BadInputTest, AttemptTimeLimitAlreadyPassedStopsBeforeDecoding) {
  const std::string path = Make("short.mkv", Video(1) + kH264);
  int polls = 0;
  Outcome o = Process(path, [&]() -> Status {
    ++polls;
    return DeadlineExceeded("the attempt ran over workers.attempt_timeout_seconds (0 s)");
  });
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), Code::kDeadlineExceeded);
  EXPECT_TRUE(IsRetryable(o.result.status()));
  EXPECT_EQ(polls, 1);
}

// ------------------------------------------------------------- full disk

// The outputs cannot be written (a file-size limit stands in for a full
// disk): a retryable error that names the output by its key, not by a path
// in the work folder that is gone by the time anyone reads it.
TEST_F(BadInputTest, FullDiskNamesTheOutputByItsKey) {
  const std::string path = Make("for-a-full-disk.mp4", Video(4, "640x360") + kH264);
  OutputOptions rendition_only, thumbnails_only;
  rendition_only.thumbnails = false;
  thumbnails_only.renditions.clear();
  for (const auto& [outputs, key] : {std::pair{rendition_only, "renditions/main.mp4"},
                                     std::pair{thumbnails_only, "thumbnails/poster.jpg"}}) {
    rlimit before{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
    rlimit small = before;
    small.rlim_cur = 8 * 1024;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    Outcome o = Process(path, {}, outputs);
    setrlimit(RLIMIT_FSIZE, &before);
    std::signal(SIGXFSZ, old_handler);
    ASSERT_FALSE(o.result.ok()) << o.result->summary;
    const Status& s = o.result.status();
    EXPECT_TRUE(IsRetryable(s)) << s.ToString();
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(ScratchPath("work")), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace vidgate::pipeline
