// passing_stage.h: a media stage for pipeline tests that passes every file,
// with no outputs (no decoding: the pipeline's own logic is under test).
#pragma once

#include <functional>
#include <string>

#include "pipeline/media_stage.h"

namespace vidgate::pipeline::testing {

inline StageResult PassingResult() {
  StageResult r;
  r.verdict = "pass";
  r.qc = {{"verdict", "pass"}, {"checks", nlohmann::json::array()}};
  r.probe = {{"format", {{"name", "mp4"}}}};
  return r;
}

class PassingStage final : public MediaStage {
 public:
  Result<StageResult> Process(const std::string&, const std::string&,
                              const std::vector<CaptionInput>&,
                              const std::function<Status()>& should_stop) override {
    VG_RETURN_IF_ERROR(should_stop());
    return PassingResult();
  }
};

}  // namespace vidgate::pipeline::testing
