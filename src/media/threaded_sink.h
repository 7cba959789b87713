// threaded_sink.h: runs a group of FrameSinks on a thread of its own, so the
// decode pass hands a frame over and goes on decoding while quality control
// and encoding work on earlier frames (the pass's per-frame work then
// overlaps instead of adding up).
//
// Frames are passed by reference (av_frame_ref, no copy) through a bounded
// queue: at most `depth` frames wait, which bounds the extra memory to that
// many decoded pictures. The group's sinks are called in the order the pass
// delivered the frames, from the one thread, as FrameSink promises.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "media/av.h"
#include "media/decode_pass.h"

namespace vidgate::media {

class ThreadedSink final : public FrameSink {
 public:
  // `sinks` are not owned and must outlive this object; none may be null.
  explicit ThreadedSink(std::vector<FrameSink*> sinks, size_t depth = 8);
  // Stops the thread; frames still queued are dropped (an aborted pass).
  ~ThreadedSink() override;
  ThreadedSink(const ThreadedSink&) = delete;
  ThreadedSink& operator=(const ThreadedSink&) = delete;

  // Queue the frame; the first error a sink returned, once one has.
  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  Status OnAudioFrame(const AVFrame& frame, double time_seconds) override;
  Status OnSubtitle(const SubtitleCue& cue) override;
  Status OnExtraAudioFrame(int stream_index, const AVFrame& frame, double time_seconds) override;
  // What any of its sinks takes; the rest is never queued. Once a sink
  // failed, everything, so the pass hears of it at its next frame.
  bool TakesVideo() const override { return takes_video_ || failed_; }
  bool TakesAudio() const override { return takes_audio_ || failed_; }
  bool TakesExtraAudio(int stream_index) const override;
  bool TakesSubtitles() const override { return takes_subtitles_ || failed_; }
  // Queues the end: the thread calls each sink's Finish() once the frames
  // before it are done, without the caller waiting.
  void BeginFinish() override;
  // Waits for the queue to drain, calls each sink's Finish() on the thread,
  // and returns the first error of any sink.
  Status Finish() override;
  // Tells each sink, from the caller's thread.
  void Abandon() override;

 private:
  struct Item {
    FramePtr frame;  // null and no cue: the end of the pass
    double time = 0;
    bool video = false;
    std::optional<SubtitleCue> cue;
    int extra_stream = -1;  // >= 0: a frame of that further sound track
  };
  Status Push(const AVFrame* frame, double time_seconds, bool video);
  Status Enqueue(Item item);
  void Run();

  std::vector<FrameSink*> sinks_;
  bool takes_video_ = false, takes_audio_ = false, takes_subtitles_ = false;
  size_t depth_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  Status error_;                     // the first sink error; guarded by mu_
  std::atomic<bool> failed_{false};  // error_ is set
  bool stop_ = false;                // destructor: drop what is queued
  bool finishing_ = false;
  bool done_ = false;  // the thread ran the Finish()es and ended
  std::thread thread_;
};

}  // namespace vidgate::media
