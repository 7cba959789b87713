#include "media/decode_pass.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "media/media_test_util.h"
#include "media/threaded_sink.h"

namespace vidgate::media {
namespace {

using ::vidgate::media::testing::AudioSource;
using ::vidgate::media::testing::CopyPrefix;
using ::vidgate::media::testing::RunFfmpeg;
using ::vidgate::media::testing::ScratchPath;
using ::vidgate::media::testing::VideoSource;
using ::vidgate::media::testing::WriteFile;

double Now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

class CountingSink : public FrameSink {
 public:
  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override {
    ++video_frames;
    if (frame.width != 320 || frame.height != 240) ++bad_frames;
    if (time_seconds < last_video_time) ++out_of_order;
    last_video_time = time_seconds;
    max_video_time = std::max(max_video_time, time_seconds);
    if (video_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(video_delay_ms));
    if (fail_after >= 0 && video_frames > fail_after) return Unavailable("sink disk full");
    return Status();
  }
  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override {
    ++audio_frames;
    if (frame.nb_samples <= 0) ++bad_frames;
    min_audio_time = std::min(min_audio_time, time_seconds);
    return Status();
  }
  Status Finish() override {
    ++finish_calls;
    return Status();
  }

  int64_t video_frames = 0;
  int64_t audio_frames = 0;
  int64_t bad_frames = 0;
  int64_t out_of_order = 0;
  int finish_calls = 0;
  double last_video_time = -1;
  double max_video_time = -1;
  double min_audio_time = 1e9;
  int video_delay_ms = 0;
  int64_t fail_after = -1;
};

// A 2 s, 25 fps, 320x240 h264 + aac mp4 (50 video frames).
std::string MakeClip(const std::string& name = "clip.mp4") {
  const std::string path = ScratchPath(name);
  std::string err = RunFfmpeg(VideoSource(2) + " " + AudioSource(2) +
                                  " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac",
                              path);
  EXPECT_EQ(err, "");
  return path;
}

TEST(MediaDecodePassTest, CountsEveryFrameAndFinishesOnce) {
  const std::string path = MakeClip();
  CountingSink first, second;
  Result<DecodeStats> stats = DecodePass(path, {&first, &second}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->video_frames, 50);
  EXPECT_GT(stats->audio_frames, 0);
  EXPECT_EQ(stats->decode_errors, 0);
  EXPECT_FALSE(stats->first_error_time.has_value());
  for (const CountingSink* sink : {&first, &second}) {
    EXPECT_EQ(sink->video_frames, 50);
    EXPECT_EQ(sink->audio_frames, stats->audio_frames);
    EXPECT_EQ(sink->finish_calls, 1);
    EXPECT_EQ(sink->bad_frames, 0);
    EXPECT_EQ(sink->out_of_order, 0);
    EXPECT_NEAR(sink->max_video_time, 49.0 / 25.0, 1e-3);
    EXPECT_GE(sink->min_audio_time, 0.0);
    EXPECT_LT(sink->min_audio_time, 0.1);
  }
}

// A sink is handed only the kinds of frame it takes; Finish() either way.
TEST(MediaDecodePassTest, ASinkIsHandedOnlyWhatItTakes) {
  class PicturesOnly : public CountingSink {
    bool TakesAudio() const override { return false; }
  };
  class SoundOnly : public CountingSink {
    bool TakesVideo() const override { return false; }
  };
  const std::string path = MakeClip("takes.mp4");
  PicturesOnly pictures;
  SoundOnly sound;
  Result<DecodeStats> stats = DecodePass(path, {&pictures, &sound}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(pictures.video_frames, 50);
  EXPECT_EQ(pictures.audio_frames, 0);
  EXPECT_EQ(sound.video_frames, 0);
  EXPECT_EQ(sound.audio_frames, stats->audio_frames);
  EXPECT_GT(sound.audio_frames, 0);
  EXPECT_EQ(pictures.finish_calls + sound.finish_calls, 2);
}

// The lanes finish side by side: each is told to begin before the first is
// waited for. Here the first lane's Finish waits for the second's to have
// begun, which, finished one after the other, would never happen.
TEST(MediaDecodePassTest, ThreadedLanesFinishSideBySide) {
  struct Rendezvous {
    std::mutex mu;
    std::condition_variable cv;
    bool second_began = false;
  } meet;
  class Waits : public FrameSink {
   public:
    explicit Waits(Rendezvous* r) : r_(r) {}
    Status Finish() override {
      std::unique_lock lock(r_->mu);
      if (!r_->cv.wait_for(lock, std::chrono::seconds(20), [&] { return r_->second_began; })) {
        return Internal("the second lane did not begin finishing meanwhile");
      }
      return Status();
    }

   private:
    Rendezvous* r_;
  };
  class Tells : public FrameSink {
   public:
    explicit Tells(Rendezvous* r) : r_(r) {}
    Status Finish() override {
      {
        std::lock_guard lock(r_->mu);
        r_->second_began = true;
      }
      r_->cv.notify_all();
      return Status();
    }

   private:
    Rendezvous* r_;
  };
  Waits first(&meet);
  Tells second(&meet);
  ThreadedSink first_lane({&first}), second_lane({&second});
  const std::string path = MakeClip("side-by-side.mp4");
  Result<DecodeStats> stats = DecodePass(path, {&first_lane, &second_lane}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
}

// Found by review: once lanes finish side by side, a lane whose Finish
// fails left the others finishing to the end (a loudness pass over the
// whole sound) for a result nobody wanted: they are told to abandon it.
TEST(MediaDecodePassTest, AFailedFinishTellsTheOtherLanesToAbandonTheirs) {
  class FailsToFinish : public FrameSink {
    Status Finish() override { return Unavailable("disk full"); }
  };
  class FinishesLong : public FrameSink {
   public:
    Status Finish() override {
      std::unique_lock lock(mu_);
      cut_short = cv_.wait_for(lock, std::chrono::seconds(20), [&] { return abandoned_; });
      return cut_short ? Cancelled("abandoned") : Status();
    }
    void Abandon() override {
      {
        std::lock_guard lock(mu_);
        abandoned_ = true;
      }
      cv_.notify_all();
    }
    bool cut_short = false;

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool abandoned_ = false;
  };
  const std::string path = MakeClip("abandon.mp4");
  FailsToFinish fails;
  FinishesLong long_one;
  {
    ThreadedSink first({&fails}), second({&long_one});
    Result<DecodeStats> stats = DecodePass(path, {&first, &second}, DecodeOptions{});
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.status().message(), "disk full");
  }  // the lanes' threads are joined here
  EXPECT_TRUE(long_one.cut_short);
}

TEST(MediaDecodePassTest, SingleThreadedDecodeMatches) {
  const std::string path = MakeClip();
  CountingSink sink;
  DecodeOptions options;
  options.threads = 1;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->video_frames, 50);
  EXPECT_EQ(sink.finish_calls, 1);
}

TEST(MediaDecodePassTest, TruncatedFileDecodesAPrefix) {
  const std::string full = ScratchPath("full.mkv");
  const std::string cut = ScratchPath("cut.mkv");
  ASSERT_EQ(RunFfmpeg(VideoSource(2) + " " + AudioSource(2) +
                          " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac",
                      full),
            "");
  ASSERT_TRUE(CopyPrefix(full, cut, 0.6));
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(cut, {&sink}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->video_frames, 0);
  EXPECT_LT(stats->video_frames, 50);
  EXPECT_EQ(sink.video_frames, stats->video_frames);
  EXPECT_EQ(sink.finish_calls, 1);
}

TEST(MediaDecodePassTest, TruncatedTransportStreamDecodesAPrefix) {
  const std::string full = ScratchPath("full.ts");
  const std::string cut = ScratchPath("cut.ts");
  ASSERT_EQ(RunFfmpeg(VideoSource(2) + " " + AudioSource(2) + " -c:v mpeg2video -c:a mp2", full),
            "");
  ASSERT_TRUE(CopyPrefix(full, cut, 0.6));
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(cut, {&sink}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->video_frames, 0);
  EXPECT_LT(stats->video_frames, 50);
}

TEST(MediaDecodePassTest, CorruptMiddleCountsDecodeErrors) {
  const std::string path = ScratchPath("damaged.ts");
  ASSERT_EQ(RunFfmpeg(VideoSource(2) + " -c:v libx264 -preset ultrafast -pix_fmt yuv420p", path),
            "");
  // Overwrite the payloads of a run of 188-byte TS packets in the middle,
  // keeping their 4-byte headers so the demuxer stays in sync, and sparing
  // packets that start a PES packet so the damage reaches the decoder.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t packets = bytes.size() / 188;
  uint32_t x = 12345u;
  for (size_t p = packets / 2; p < packets / 2 + 40 && p < packets; ++p) {
    if ((bytes[p * 188 + 1] & 0x40) != 0) continue;  // payload_unit_start_indicator
    for (size_t i = p * 188 + 4; i < (p + 1) * 188; ++i) {
      x = x * 1103515245u + 12345u;
      bytes[i] = static_cast<char>(x >> 24);
    }
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->video_frames, 0);
  EXPECT_GT(stats->decode_errors, 0);
  ASSERT_TRUE(stats->first_error_time.has_value());
  EXPECT_GT(*stats->first_error_time, 0.3);
  EXPECT_LT(*stats->first_error_time, 2.0);
  EXPECT_EQ(sink.finish_calls, 1);
}

TEST(MediaDecodePassTest, VideoStreamWithoutFramesIsInvalidArgument) {
  const std::string path = ScratchPath("no-video-frames.mkv");
  // The noise bitstream filter drops every video packet: the stream is
  // declared (with its parameters) but has nothing to decode.
  ASSERT_EQ(RunFfmpeg(VideoSource(1) + " " + AudioSource(1) +
                          " -c:v libx264 -preset ultrafast -pix_fmt yuv420p"
                          " -bsf:v noise=dropamount=1 -c:a aac",
                      path),
            "");
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kInvalidArgument) << stats.status().ToString();
  EXPECT_EQ(stats.status().message(), "no decodable video frame in '" + path + "'");
  EXPECT_GT(sink.audio_frames, 0);
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, GarbageIsInvalidArgument) {
  const std::string path = ScratchPath("garbage.mp4");
  std::string bytes(64 * 1024, '\0');
  uint32_t x = 2463534242u;  // xorshift: deterministic noise
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  ASSERT_TRUE(WriteFile(path, bytes));
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kInvalidArgument) << stats.status().ToString();
  EXPECT_NE(stats.status().message().find(path), std::string::npos);
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, MissingFileIsNotFound) {
  Result<DecodeStats> stats = DecodePass(ScratchPath("missing.mp4"), {}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kNotFound) << stats.status().ToString();
}

TEST(MediaDecodePassTest, FileWithoutVideoOrAudioIsInvalidArgument) {
  const std::string srt = ScratchPath("only.srt");
  ASSERT_TRUE(WriteFile(srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n"));
  const std::string path = ScratchPath("subs-only.mkv");
  ASSERT_EQ(RunFfmpeg("-i '" + srt + "' -c:s srt", path), "");
  Result<DecodeStats> stats = DecodePass(path, {}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kInvalidArgument) << stats.status().ToString();
}

TEST(MediaDecodePassTest, ExpiredDeadlineIsDeadlineExceeded) {
  const std::string path = MakeClip();
  CountingSink sink;
  DecodeOptions options;
  options.deadline = Now() - 1;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kDeadlineExceeded) << stats.status().ToString();
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, DeadlinePassingMidwayIsDeadlineExceeded) {
  const std::string path = MakeClip();
  CountingSink sink;
  sink.video_delay_ms = 200;  // 50 frames take >= 10 s
  DecodeOptions options;
  options.deadline = Now() + 2;  // opening the file on a loaded machine fits in it
  Result<DecodeStats> stats = DecodePass(path, {&sink}, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kDeadlineExceeded) << stats.status().ToString();
  EXPECT_GT(sink.video_frames, 0);
  EXPECT_LT(sink.video_frames, 50);
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, ShouldStopIsCancelled) {
  const std::string path = MakeClip();
  CountingSink sink;
  DecodeOptions options;
  options.should_stop = [] { return true; };
  Result<DecodeStats> stats = DecodePass(path, {&sink}, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kCancelled) << stats.status().ToString();
  EXPECT_EQ(sink.video_frames, 0);
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, ShouldStopMidwayIsCancelled) {
  const std::string path = MakeClip();
  CountingSink sink;
  DecodeOptions options;
  options.should_stop = [&sink] { return sink.video_frames >= 10; };
  Result<DecodeStats> stats = DecodePass(path, {&sink}, options);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kCancelled) << stats.status().ToString();
  EXPECT_GE(sink.video_frames, 10);
  EXPECT_LT(sink.video_frames, 50);
  EXPECT_EQ(sink.finish_calls, 0);
}

TEST(MediaDecodePassTest, SinkErrorAbortsThePass) {
  const std::string path = MakeClip();
  CountingSink failing, after;
  failing.fail_after = 5;
  Result<DecodeStats> stats = DecodePass(path, {&failing, &after}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kUnavailable);
  EXPECT_EQ(stats.status().message(), "sink disk full");
  EXPECT_EQ(failing.video_frames, 6);
  EXPECT_EQ(after.video_frames, 5);  // the failing frame never reached it
  EXPECT_EQ(failing.finish_calls, 0);
  EXPECT_EQ(after.finish_calls, 0);
}

TEST(MediaDecodePassTest, AudioOnlyFileWorks) {
  const std::string path = ScratchPath("tone.m4a");
  ASSERT_EQ(RunFfmpeg(AudioSource(1) + " -c:a aac", path), "");
  CountingSink sink;
  Result<DecodeStats> stats = DecodePass(path, {&sink}, DecodeOptions{});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->video_frames, 0);
  EXPECT_GT(stats->audio_frames, 0);
  EXPECT_EQ(sink.audio_frames, stats->audio_frames);
  EXPECT_EQ(sink.finish_calls, 1);
}

TEST(MediaDecodePassTest, NullSinkIsInternal) {
  const std::string path = MakeClip();
  Result<DecodeStats> stats = DecodePass(path, {nullptr}, DecodeOptions{});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kInternal);
}

}  // namespace
}  // namespace vidgate::media
