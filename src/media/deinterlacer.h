// deinterlacer.h: turns interlaced pictures into progressive ones for the
// renditions (players show the web's video progressive: a woven picture
// encoded as it is shows combs on every movement). libavfilter's bwdif, one
// frame out per frame in; pictures the decoder does not flag as interlaced
// pass unchanged.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "media/av.h"

struct AVFilterGraph;
struct AVFilterContext;

namespace vidgate::media {

class Deinterlacer {
 public:
  // Set up for pictures of `frame`'s size and format; `what` names the
  // output in errors.
  static Result<std::unique_ptr<Deinterlacer>> Create(const AVFrame& frame,
                                                      const std::string& what);
  ~Deinterlacer();
  Deinterlacer(const Deinterlacer&) = delete;
  Deinterlacer& operator=(const Deinterlacer&) = delete;

  // Whether `frame` has the size and format this was set up for.
  bool Fits(const AVFrame& frame) const;
  // Gives a picture (pts in milliseconds, kept), or null at the end. The
  // deinterlacer takes over the picture's references, leaving it blank.
  Status Push(AVFrame* frame);
  // The next progressive picture into `out`; false when none is ready.
  Result<bool> Pull(AVFrame* out);

 private:
  Deinterlacer() = default;

  struct GraphFree {
    void operator()(AVFilterGraph* g) const;
  };
  std::unique_ptr<AVFilterGraph, GraphFree> graph_;
  AVFilterContext* source_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  int width_ = 0, height_ = 0, format_ = -1;
  std::string what_;
};

}  // namespace vidgate::media
