#include "media/threaded_sink.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

namespace vidgate::media {
namespace {

// Records what it is called with, and on which thread.
class RecordingSink : public FrameSink {
 public:
  Status OnVideoFrame(const AVFrame& frame, double t) override { return Record('v', frame, t); }
  Status OnAudioFrame(const AVFrame& frame, double t) override { return Record('a', frame, t); }
  Status Finish() override {
    ++finishes;
    return finish_status;
  }
  Status Record(char kind, const AVFrame& frame, double t) {
    threads.insert(std::this_thread::get_id());
    calls += kind;
    times.push_back(t);
    widths.push_back(frame.width);
    if (fail_at >= 0 && static_cast<int>(times.size()) == fail_at + 1) {
      return Internal("sink failed at frame " + std::to_string(fail_at));
    }
    return Status();
  }
  std::string calls;
  std::vector<double> times;
  std::vector<int> widths;
  std::set<std::thread::id> threads;
  int finishes = 0;
  int fail_at = -1;
  Status finish_status;
};

FramePtr Picture(int width) {
  FramePtr f(av_frame_alloc());
  f->format = AV_PIX_FMT_GRAY8;
  f->width = width;
  f->height = 2;
  EXPECT_EQ(av_frame_get_buffer(f.get(), 0), 0);
  return f;
}

TEST(ThreadedSinkTest, DeliversEveryFrameInOrderOnItsOwnThreadThenFinishesOnce) {
  RecordingSink a, b;
  ThreadedSink lane({&a, &b}, /*depth=*/2);
  for (int i = 0; i < 50; ++i) {
    FramePtr f = Picture(16 + 2 * i);
    ASSERT_TRUE((i % 5 == 0 ? lane.OnAudioFrame(*f, i) : lane.OnVideoFrame(*f, i)).ok());
  }
  ASSERT_TRUE(lane.Finish().ok());
  for (RecordingSink* s : {&a, &b}) {
    ASSERT_EQ(s->times.size(), 50u);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(s->times[static_cast<size_t>(i)], i);
      EXPECT_EQ(s->widths[static_cast<size_t>(i)], 16 + 2 * i) << "a frame outlived its source";
      EXPECT_EQ(s->calls[static_cast<size_t>(i)], i % 5 == 0 ? 'a' : 'v');
    }
    EXPECT_EQ(s->finishes, 1);
    ASSERT_EQ(s->threads.size(), 1u);
    EXPECT_NE(*s->threads.begin(), std::this_thread::get_id());
  }
}

// A sink that takes only some of what a pass delivers.
class ChoosySink : public RecordingSink {
 public:
  Status OnExtraAudioFrame(int stream, const AVFrame& frame, double t) override {
    return Record(static_cast<char>('0' + stream), frame, t);
  }
  Status OnSubtitle(const SubtitleCue& cue) override {
    calls += 's';
    times.push_back(cue.start);
    return Status();
  }
  bool TakesVideo() const override { return video; }
  bool TakesAudio() const override { return audio; }
  bool TakesExtraAudio(int stream) const override { return stream == extra; }
  bool TakesSubtitles() const override { return subtitles; }
  bool video = false, audio = false, subtitles = false;
  int extra = -1;
};

TEST(ThreadedSinkTest, EachSinkIsHandedOnlyWhatItTakesAndTheLaneSaysWhatAnyTakes) {
  ChoosySink pictures, track3, cues;
  pictures.video = true;
  track3.extra = 3;
  cues.subtitles = true;
  {
    ThreadedSink lane({&track3});
    EXPECT_FALSE(lane.TakesVideo());
    EXPECT_FALSE(lane.TakesAudio());
    EXPECT_TRUE(lane.TakesExtraAudio(3));
    EXPECT_FALSE(lane.TakesExtraAudio(4));
    EXPECT_FALSE(lane.TakesSubtitles());
  }
  ThreadedSink lane({&pictures, &track3, &cues});
  EXPECT_TRUE(lane.TakesVideo());
  EXPECT_FALSE(lane.TakesAudio());
  EXPECT_TRUE(lane.TakesExtraAudio(3));
  EXPECT_FALSE(lane.TakesExtraAudio(4));
  EXPECT_TRUE(lane.TakesSubtitles());
  FramePtr f = Picture(16);
  ASSERT_TRUE(lane.OnVideoFrame(*f, 0).ok());
  ASSERT_TRUE(lane.OnAudioFrame(*f, 1).ok());
  ASSERT_TRUE(lane.OnExtraAudioFrame(3, *f, 2).ok());
  ASSERT_TRUE(lane.OnExtraAudioFrame(4, *f, 3).ok());
  ASSERT_TRUE(lane.OnSubtitle(SubtitleCue{2, 4, 5, "hi"}).ok());
  ASSERT_TRUE(lane.Finish().ok());
  EXPECT_EQ(pictures.calls, "v");
  EXPECT_EQ(track3.calls, "3");
  EXPECT_EQ(cues.calls, "s");
  for (ChoosySink* s : {&pictures, &track3, &cues}) EXPECT_EQ(s->finishes, 1);
}

// Found by review: a lane that takes one further track kept its sink's
// error until the pass ended (it was handed nothing else): once failed, it
// takes everything, and the next frame of any kind brings the error back.
TEST(ThreadedSinkTest, AFailedLaneTakesTheNextFrameOfAnyKindToReportIt) {
  ChoosySink track3;
  track3.extra = 3;
  track3.fail_at = 0;
  ThreadedSink lane({&track3});
  ASSERT_FALSE(lane.TakesVideo());
  FramePtr f = Picture(16);
  ASSERT_TRUE(lane.OnExtraAudioFrame(3, *f, 0).ok());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!lane.TakesVideo() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(lane.TakesVideo());
  EXPECT_TRUE(lane.TakesAudio());
  EXPECT_TRUE(lane.TakesSubtitles());
  const Status s = lane.OnVideoFrame(*f, 1);
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
}

TEST(ThreadedSinkTest, ASinkErrorReachesThePassAndSkipsFinish) {
  RecordingSink a, b;
  a.fail_at = 3;
  ThreadedSink lane({&a, &b}, /*depth=*/1);
  Status seen;
  for (int i = 0; i < 100 && seen.ok(); ++i) seen = lane.OnVideoFrame(*Picture(16), i);
  if (seen.ok()) seen = lane.Finish();
  EXPECT_EQ(seen.code(), Code::kInternal);
  EXPECT_NE(seen.message().find("frame 3"), std::string::npos) << seen.ToString();
  EXPECT_EQ(b.times.size(), 3u) << "the sink after the failing one saw the frame it failed on";
  EXPECT_EQ(a.finishes, 0);
  EXPECT_EQ(b.finishes, 0);
}

TEST(ThreadedSinkTest, FinishErrorIsReturned) {
  RecordingSink a;
  a.finish_status = Unavailable("disk full");
  ThreadedSink lane({&a});
  ASSERT_TRUE(lane.OnVideoFrame(*Picture(16), 0).ok());
  EXPECT_EQ(lane.Finish().code(), Code::kUnavailable);
}

TEST(ThreadedSinkTest, DestroyedWithoutFinishStopsWithoutCallingFinish) {
  RecordingSink a;
  {
    ThreadedSink lane({&a}, /*depth=*/4);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(lane.OnVideoFrame(*Picture(16), i).ok());
  }  // an aborted pass: must not hang
  EXPECT_EQ(a.finishes, 0);
  EXPECT_LE(a.times.size(), 4u);
  // Whatever got through before the stop came in order.
  for (size_t i = 0; i < a.times.size(); ++i) EXPECT_EQ(a.times[i], static_cast<double>(i));
}

}  // namespace
}  // namespace vidgate::media
