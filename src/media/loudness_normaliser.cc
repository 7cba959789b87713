#include "media/loudness_normaliser.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "media/av.h"
#include "media/filter_chain.h"

namespace vidgate::media {

void LoudnessNormaliser::GraphFree::operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }

LoudnessNormaliser::~LoudnessNormaliser() = default;

Result<std::unique_ptr<LoudnessNormaliser>> LoudnessNormaliser::Create(
    AVSampleFormat format, int rate, const AVChannelLayout& layout, const LoudnessFigures& measured,
    const LoudnessTarget& target, double correction_db, const std::string& what) {
  if (!measured.integrated_lufs) {
    return InvalidArgument("the sound of " + what + " is too quiet to be normalised");
  }
  std::unique_ptr<LoudnessNormaliser> n(new LoudnessNormaliser());
  n->what_ = what;
  char layout_name[128] = {};
  if (av_channel_layout_describe(&layout, layout_name, sizeof layout_name) < 0) {
    return InvalidArgument("cannot name the channel layout of " + what);
  }
  const char* format_name = av_get_sample_fmt_name(format);
  if (format_name == nullptr) return InvalidArgument("no sample format for " + what);
  // One gain brings the integrated loudness to the target. When that gain
  // would lift true peaks over the limit, a look-ahead limiter holds them
  // 2 dB under it (it limits samples; the margin covers the peaks between
  // samples and the audio encoder's overshoot on sharp sounds).
  const double gain = target.integrated_lufs - *measured.integrated_lufs + correction_db;
  const double peak_after = measured.true_peak_dbtp.value_or(-120) + gain;
  n->linear_ = peak_after <= target.true_peak_dbtp;
  std::string description = fmt::format("volume=volume={:.3f}dB:precision=float", gain);
  if (!n->linear_) {
    description += fmt::format(",alimiter=limit={:.6f}:level=false:attack=5:release=50:asc=false",
                               std::pow(10.0, (target.true_peak_dbtp - 2) / 20));
  }
  description += fmt::format(",aformat=sample_fmts={}:sample_rates={}:channel_layouts={}",
                             format_name, rate, layout_name);
  const std::string step = "set up loudness normalisation for";
  n->graph_.reset(avfilter_graph_alloc());
  if (!n->graph_) return ResourceExhausted("out of memory");
  n->graph_->nb_threads = 1;
  const std::string args =
      fmt::format("sample_rate={}:sample_fmt={}:channel_layout={}:time_base=1/{}", rate,
                  format_name, layout_name, rate);
  int rc = avfilter_graph_create_filter(&n->source_, avfilter_get_by_name("abuffer"), "in",
                                        args.c_str(), nullptr, n->graph_.get());
  if (rc < 0) return AvError(rc, step, what);
  rc = avfilter_graph_create_filter(&n->sink_, avfilter_get_by_name("abuffersink"), "out", nullptr,
                                    nullptr, n->graph_.get());
  if (rc < 0) return AvError(rc, step, what);
  VG_RETURN_IF_ERROR(ConnectFilters(*n->graph_, *n->source_, *n->sink_, description, step, what));
  return n;
}

Status LoudnessNormaliser::Push(AVFrame* frame) {
  const int rc = av_buffersrc_add_frame_flags(source_, frame, 0);
  if (rc < 0) return AvError(rc, "normalise the loudness of", what_);
  return Status();
}

Result<bool> LoudnessNormaliser::Pull(AVFrame* out) {
  const int rc = av_buffersink_get_frame(sink_, out);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return false;
  if (rc < 0) return AvError(rc, "normalise the loudness of", what_);
  return true;
}

}  // namespace vidgate::media
