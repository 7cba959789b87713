#include "media/threaded_sink.h"

#include <algorithm>

namespace vidgate::media {

ThreadedSink::ThreadedSink(std::vector<FrameSink*> sinks, size_t depth)
    : sinks_(std::move(sinks)), depth_(std::max<size_t>(1, depth)) {
  for (const FrameSink* sink : sinks_) {
    takes_video_ = takes_video_ || sink->TakesVideo();
    takes_audio_ = takes_audio_ || sink->TakesAudio();
    takes_subtitles_ = takes_subtitles_ || sink->TakesSubtitles();
  }
  thread_ = std::thread([this] { Run(); });
}

bool ThreadedSink::TakesExtraAudio(int stream_index) const {
  return failed_ || std::any_of(sinks_.begin(), sinks_.end(), [&](const FrameSink* sink) {
           return sink->TakesExtraAudio(stream_index);
         });
}

ThreadedSink::~ThreadedSink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

Status ThreadedSink::OnVideoFrame(const AVFrame& frame, double time_seconds) {
  return Push(&frame, time_seconds, /*video=*/true);
}

Status ThreadedSink::OnAudioFrame(const AVFrame& frame, double time_seconds) {
  return Push(&frame, time_seconds, /*video=*/false);
}

Status ThreadedSink::Push(const AVFrame* frame, double time_seconds, bool video) {
  Item item;
  item.time = time_seconds;
  item.video = video;
  if (frame) VG_RETURN_IF_ERROR(KeepFrame(item.frame, *frame, "frame hand-over"));
  return Enqueue(std::move(item));
}

Status ThreadedSink::OnExtraAudioFrame(int stream_index, const AVFrame& frame,
                                       double time_seconds) {
  Item item;
  item.time = time_seconds;
  item.extra_stream = stream_index;
  VG_RETURN_IF_ERROR(KeepFrame(item.frame, frame, "frame hand-over"));
  return Enqueue(std::move(item));
}

Status ThreadedSink::OnSubtitle(const SubtitleCue& cue) {
  Item item;
  item.cue = cue;
  return Enqueue(std::move(item));
}

Status ThreadedSink::Enqueue(Item item) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < depth_ || !error_.ok() || stop_; });
  if (!error_.ok()) return error_;
  queue_.push_back(std::move(item));
  changed_.notify_all();
  return Status();
}

void ThreadedSink::BeginFinish() {
  std::lock_guard lock(mu_);
  if (finishing_) return;
  finishing_ = true;
  queue_.push_back(Item{});  // the end marker
  changed_.notify_all();
}

void ThreadedSink::Abandon() {
  for (FrameSink* sink : sinks_) sink->Abandon();
}

Status ThreadedSink::Finish() {
  BeginFinish();
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return done_; });
  return error_;
}

void ThreadedSink::Run() {
  for (;;) {
    Item item;
    bool failed = false;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return !queue_.empty() || stop_; });
      if (stop_) {
        done_ = true;
        changed_.notify_all();
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
      changed_.notify_all();
      failed = !error_.ok();
    }
    // After an error, frames are taken and dropped so the pass never waits,
    // and no Finish() is called (as after a failed pass).
    Status s;
    if (!failed) {
      for (FrameSink* sink : sinks_) {
        if (item.cue) {
          if (sink->TakesSubtitles()) s = sink->OnSubtitle(*item.cue);
        } else if (!item.frame) {
          s = sink->Finish();
        } else if (item.extra_stream >= 0) {
          if (sink->TakesExtraAudio(item.extra_stream)) {
            s = sink->OnExtraAudioFrame(item.extra_stream, *item.frame, item.time);
          }
        } else if (item.video ? sink->TakesVideo() : sink->TakesAudio()) {
          s = item.video ? sink->OnVideoFrame(*item.frame, item.time)
                         : sink->OnAudioFrame(*item.frame, item.time);
        }
        if (!s.ok()) break;
      }
    }
    std::lock_guard lock(mu_);
    if (!s.ok() && error_.ok()) {
      error_ = std::move(s);
      failed_ = true;
      changed_.notify_all();
    }
    if (!item.frame && !item.cue) {
      done_ = true;
      changed_.notify_all();
      return;
    }
  }
}

}  // namespace vidgate::media
