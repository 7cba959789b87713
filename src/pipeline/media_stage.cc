#include "pipeline/media_stage.h"

#include "media/decode_pass.h"
#include "media/probe.h"
#include "qc/analysis.h"

namespace vidgate::pipeline {
namespace {

class QcStage final : public MediaStage {
 public:
  explicit QcStage(qc::Policy policy) : policy_(std::move(policy)) {}

  Result<StageResult> Process(const std::string& path, const std::string& name,
                              const std::function<Status()>& should_stop) override {
    (void)name;
    StageResult out;
    VG_ASSIGN_OR_RETURN(media::ProbeResult probe, media::Probe(path));
    out.probe = probe.ToJson();
    VG_RETURN_IF_ERROR(should_stop());

    // The pass stops when should_stop says so; keep its reason (lease lost,
    // time-out, shutdown) rather than the pass's generic "cancelled".
    Status stop_reason;
    media::DecodeOptions options;
    options.should_stop = [&]() {
      if (!stop_reason.ok()) return true;
      stop_reason = should_stop();
      return !stop_reason.ok();
    };
    Result<qc::Analysis> analysis = qc::Analyse(path, probe, policy_, options);
    if (!analysis.ok()) {
      if (analysis.status().code() == Code::kCancelled && !stop_reason.ok()) return stop_reason;
      return analysis.status();
    }
    out.qc = std::move(analysis->report);
    out.verdict = analysis->verdict;
    out.summary = analysis->summary;
    return out;
  }

 private:
  qc::Policy policy_;
};

}  // namespace

std::unique_ptr<MediaStage> NewQcStage(qc::Policy policy) {
  return std::make_unique<QcStage>(std::move(policy));
}

}  // namespace vidgate::pipeline
