#include "pipeline/media_stage.h"

#include "media/decode_pass.h"
#include "media/probe.h"

namespace vidgate::pipeline {
namespace {

// The `web` preset's rejection threshold for decode errors.
constexpr double kMaxDecodeErrorRatio = 0.05;

nlohmann::json Check(const std::string& id, bool passed, const std::string& message) {
  return {{"id", id},
          {"severity", "error"},
          {"status", passed ? "pass" : "fail"},
          {"message", message}};
}

class DecodeCheckStage final : public MediaStage {
 public:
  Result<StageResult> Process(const std::string& path, const std::string& name,
                              const std::function<Status()>& should_stop) override {
    (void)name;
    StageResult out;
    VG_ASSIGN_OR_RETURN(media::ProbeResult probe, media::Probe(path));
    out.probe = probe.ToJson();
    VG_RETURN_IF_ERROR(should_stop());

    Status stop_reason;
    media::DecodeOptions options;
    options.should_stop = [&]() {
      if (!stop_reason.ok()) return true;
      stop_reason = should_stop();
      return !stop_reason.ok();
    };
    Result<media::DecodeStats> stats = media::DecodePass(path, {}, options);
    if (!stats.ok()) {
      if (stats.status().code() == Code::kCancelled && !stop_reason.ok()) return stop_reason;
      return stats.status();
    }
    const int64_t frames = stats->video_frames + stats->audio_frames;
    const double ratio =
        frames > 0 ? static_cast<double>(stats->decode_errors) / static_cast<double>(frames) : 0;
    nlohmann::json checks = nlohmann::json::array();
    const bool has_video = probe.HasVideo() && stats->video_frames > 0;
    checks.push_back(
        Check("video_present", has_video,
              has_video ? "the file has a video stream" : "the file has no video stream"));
    const bool errors_ok = ratio <= kMaxDecodeErrorRatio;
    checks.push_back(Check("decode_errors", errors_ok,
                           std::to_string(stats->decode_errors) + " decode errors in " +
                               std::to_string(frames) + " frames"));
    out.verdict = has_video && errors_ok ? "pass" : "reject";
    if (!has_video) {
      out.summary = "the file has no video stream";
    } else if (!errors_ok) {
      out.summary = std::to_string(stats->decode_errors) + " decode errors in " +
                    std::to_string(frames) + " frames (over 5 %)";
    }
    nlohmann::json video = {{"decode_errors", stats->decode_errors},
                            {"frames", stats->video_frames}};
    if (stats->first_error_time) video["first_error_time"] = *stats->first_error_time;
    out.qc = {{"verdict", out.verdict},
              {"policy", "web"},
              {"checks", checks},
              {"video", video},
              {"audio", {{"frames", stats->audio_frames}}}};
    return out;
  }
};

}  // namespace

std::unique_ptr<MediaStage> NewDecodeCheckStage() { return std::make_unique<DecodeCheckStage>(); }

}  // namespace vidgate::pipeline
