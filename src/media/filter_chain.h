// filter_chain.h: a libavfilter chain for the renditions' pictures, one
// picture in and (for the chains used here) one out: bwdif to deinterlace
// (players show the web's video progressive: a woven picture encoded as it
// is shows combs on every movement), zscale to convert colour and tone-map.
// Timestamps are the rendition's milliseconds, passed through.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "media/av.h"

struct AVFilterGraph;
struct AVFilterContext;

namespace vidgate::media {

// Deinterlaces with bwdif, one frame out per frame in; pictures the decoder
// does not flag as interlaced pass unchanged.
inline constexpr const char* kDeinterlace = "bwdif=mode=send_frame:parity=auto:deint=interlaced";

// Links `source` through the filters of `description` (avfilter_graph_parse
// syntax, one input and one output) to `sink` in `graph`, and configures
// the graph. Errors as AvError(STEP, WHAT).
Status ConnectFilters(AVFilterGraph& graph, AVFilterContext& source, AVFilterContext& sink,
                      const std::string& description, const std::string& step,
                      const std::string& what);

class FilterChain {
 public:
  // Set up for pictures of `frame`'s size, format and colour tags, through
  // the filters of `description` (avfilter_graph_parse syntax, one input and
  // one output); `what` names the output in errors.
  // `threads` are for the filters that slice their work (0: as many as
  // cores).
  static Result<std::unique_ptr<FilterChain>> Create(const AVFrame& frame,
                                                     const std::string& description,
                                                     const std::string& what, int threads = 1);
  ~FilterChain();
  FilterChain(const FilterChain&) = delete;
  FilterChain& operator=(const FilterChain&) = delete;

  // Whether `frame` has the size, format and colour tags this was set up for.
  bool Fits(const AVFrame& frame) const;
  // Gives a picture (pts in milliseconds, kept), or null at the end. The
  // chain takes over the picture's references, leaving it blank.
  Status Push(AVFrame* frame);
  // The next picture into `out`; false when none is ready.
  Result<bool> Pull(AVFrame* out);

 private:
  FilterChain() = default;

  struct GraphFree {
    void operator()(AVFilterGraph* g) const;
  };
  std::unique_ptr<AVFilterGraph, GraphFree> graph_;
  AVFilterContext* source_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  int width_ = 0, height_ = 0, format_ = -1;
  int colorspace_ = 0, color_range_ = 0, color_trc_ = 0, color_primaries_ = 0;
  std::string what_;
};

}  // namespace vidgate::media
