#include "media/deinterlacer.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
}

#include <fmt/format.h>

namespace vidgate::media {

void Deinterlacer::GraphFree::operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }

Deinterlacer::~Deinterlacer() = default;

Result<std::unique_ptr<Deinterlacer>> Deinterlacer::Create(const AVFrame& frame,
                                                           const std::string& what) {
  std::unique_ptr<Deinterlacer> d(new Deinterlacer());
  d->what_ = what;
  d->width_ = frame.width;
  d->height_ = frame.height;
  d->format_ = frame.format;
  d->graph_.reset(avfilter_graph_alloc());
  if (!d->graph_) return ResourceExhausted("out of memory");
  // One thread: the rendition already runs on a lane of its own.
  d->graph_->nb_threads = 1;
  const AVRational sar =
      frame.sample_aspect_ratio.num > 0 ? frame.sample_aspect_ratio : AVRational{1, 1};
  // Timestamps are the rendition's milliseconds, passed through unchanged.
  const std::string args =
      fmt::format("video_size={}x{}:pix_fmt={}:time_base=1/1000:pixel_aspect={}/{}", frame.width,
                  frame.height, frame.format, sar.num, sar.den);
  int rc = avfilter_graph_create_filter(&d->source_, avfilter_get_by_name("buffer"), "in",
                                        args.c_str(), nullptr, d->graph_.get());
  if (rc < 0) return AvError(rc, "set up deinterlacing for", what);
  rc = avfilter_graph_create_filter(&d->sink_, avfilter_get_by_name("buffersink"), "out", nullptr,
                                    nullptr, d->graph_.get());
  if (rc < 0) return AvError(rc, "set up deinterlacing for", what);
  AVFilterContext* bwdif = nullptr;
  // One frame per frame (send_frame); only the pictures flagged interlaced.
  rc = avfilter_graph_create_filter(&bwdif, avfilter_get_by_name("bwdif"), "bwdif",
                                    "mode=send_frame:parity=auto:deint=interlaced", nullptr,
                                    d->graph_.get());
  if (rc < 0) return AvError(rc, "set up deinterlacing for", what);
  if ((rc = avfilter_link(d->source_, 0, bwdif, 0)) < 0 ||
      (rc = avfilter_link(bwdif, 0, d->sink_, 0)) < 0 ||
      (rc = avfilter_graph_config(d->graph_.get(), nullptr)) < 0) {
    return AvError(rc, "set up deinterlacing for", what);
  }
  return d;
}

bool Deinterlacer::Fits(const AVFrame& frame) const {
  return frame.width == width_ && frame.height == height_ && frame.format == format_;
}

Status Deinterlacer::Push(AVFrame* frame) {
  const int rc = av_buffersrc_add_frame_flags(source_, frame, 0);
  if (rc < 0) return AvError(rc, "deinterlace for", what_);
  return Status();
}

Result<bool> Deinterlacer::Pull(AVFrame* out) {
  const int rc = av_buffersink_get_frame(sink_, out);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return false;
  if (rc < 0) return AvError(rc, "deinterlace for", what_);
  // bwdif counts in half the input's time base (it can send fields): back
  // to milliseconds.
  if (out->pts != AV_NOPTS_VALUE) {
    out->pts = av_rescale_q(out->pts, av_buffersink_get_time_base(sink_), AVRational{1, 1000});
  }
  return true;
}

}  // namespace vidgate::media
