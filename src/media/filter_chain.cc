#include "media/filter_chain.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
}

#include <fmt/format.h>

namespace vidgate::media {

void FilterChain::GraphFree::operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }

Status ConnectFilters(AVFilterGraph& graph, AVFilterContext& source, AVFilterContext& sink,
                      const std::string& description, const std::string& step,
                      const std::string& what) {
  AVFilterInOut* outputs = avfilter_inout_alloc();
  AVFilterInOut* inputs = avfilter_inout_alloc();
  if (outputs == nullptr || inputs == nullptr) {
    avfilter_inout_free(&outputs);
    avfilter_inout_free(&inputs);
    return ResourceExhausted("out of memory");
  }
  outputs->name = av_strdup("in");
  outputs->filter_ctx = &source;
  inputs->name = av_strdup("out");
  inputs->filter_ctx = &sink;
  int rc = avfilter_graph_parse_ptr(&graph, description.c_str(), &inputs, &outputs, nullptr);
  avfilter_inout_free(&outputs);
  avfilter_inout_free(&inputs);
  if (rc < 0 || (rc = avfilter_graph_config(&graph, nullptr)) < 0) {
    return AvError(rc, step, what);
  }
  return Status();
}

FilterChain::~FilterChain() = default;

Result<std::unique_ptr<FilterChain>> FilterChain::Create(const AVFrame& frame,
                                                         const std::string& description,
                                                         const std::string& what, int threads) {
  std::unique_ptr<FilterChain> d(new FilterChain());
  d->what_ = what;
  d->width_ = frame.width;
  d->height_ = frame.height;
  d->format_ = frame.format;
  d->colorspace_ = frame.colorspace;
  d->color_range_ = frame.color_range;
  d->color_trc_ = frame.color_trc;
  d->color_primaries_ = frame.color_primaries;
  d->graph_.reset(avfilter_graph_alloc());
  if (!d->graph_) return ResourceExhausted("out of memory");
  d->graph_->nb_threads = threads;
  const AVRational sar =
      frame.sample_aspect_ratio.num > 0 ? frame.sample_aspect_ratio : AVRational{1, 1};
  const std::string args =
      fmt::format("video_size={}x{}:pix_fmt={}:time_base=1/1000:pixel_aspect={}/{}", frame.width,
                  frame.height, frame.format, sar.num, sar.den);
  const std::string step = "set up the filters (" + description + ") for";
  int rc = avfilter_graph_create_filter(&d->source_, avfilter_get_by_name("buffer"), "in",
                                        args.c_str(), nullptr, d->graph_.get());
  if (rc < 0) return AvError(rc, step, what);
  rc = avfilter_graph_create_filter(&d->sink_, avfilter_get_by_name("buffersink"), "out", nullptr,
                                    nullptr, d->graph_.get());
  if (rc < 0) return AvError(rc, step, what);
  VG_RETURN_IF_ERROR(ConnectFilters(*d->graph_, *d->source_, *d->sink_, description, step, what));
  return d;
}

bool FilterChain::Fits(const AVFrame& frame) const {
  return frame.width == width_ && frame.height == height_ && frame.format == format_ &&
         frame.colorspace == colorspace_ && frame.color_range == color_range_ &&
         frame.color_trc == color_trc_ && frame.color_primaries == color_primaries_;
}

Status FilterChain::Push(AVFrame* frame) {
  const int rc = av_buffersrc_add_frame_flags(source_, frame, 0);
  if (rc < 0) return AvError(rc, "filter pictures for", what_);
  return Status();
}

Result<bool> FilterChain::Pull(AVFrame* out) {
  const int rc = av_buffersink_get_frame(sink_, out);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return false;
  if (rc < 0) return AvError(rc, "filter pictures for", what_);
  // bwdif counts in half the input's time base (it can send fields): back
  // to milliseconds.
  if (out->pts != AV_NOPTS_VALUE) {
    out->pts = av_rescale_q(out->pts, av_buffersink_get_time_base(sink_), AVRational{1, 1000});
  }
  return true;
}

}  // namespace vidgate::media
