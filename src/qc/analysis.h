// analysis.h: quality control of one file in one decode pass. Every
// analyser rides the same pass (media::DecodePass); the policy turns their
// findings into checks and a verdict, in the contract's report shape
// (ARCHITECTURE.md "Contract: QC report").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/decode_pass.h"
#include "media/probe.h"
#include "qc/fingerprint.h"
#include "qc/policy.h"

namespace vidgate::qc {

struct Analysis {
  nlohmann::json report;  // verdict, policy, checks, video, audio, series
  std::string verdict;    // pass, warn or reject
  std::string summary;    // as Judgement::summary
  media::DecodeStats stats;
  Fingerprint fingerprint;  // of the pictures (see fingerprint.h); empty when none decoded
};

// The verdict of a report's "checks" and the reason people read: on a
// rejection the failed errors' messages only (a warning is not why a video
// was rejected), else the failed warnings'; "" on pass. Messages are joined
// with "; ".
struct Judgement {
  std::string verdict;  // pass, warn or reject
  std::string summary;
};
Judgement Judge(const nlohmann::json& checks);

// Appends check `id` to `report`'s checks with the policy's severity for it
// (nothing when that is off). The caller judges the report again.
void AddCheck(nlohmann::json& report, const Policy& policy, const std::string& id, bool passed,
              const std::string& message);

// The contract's report with nothing measured (no segments, no loudness,
// no series, "decoded": false) and no checks yet: for a verdict reached
// without decoding. The caller sets "verdict" and "checks".
nlohmann::json UndecodedReport();

// Judges the probe against the policy's limits (max_height,
// max_duration_seconds, allowed_video_codecs) and, whatever the policy,
// against the largest picture vidgate decodes (16384 a side, 8192x8192 in
// all: bigger is a damaged or hostile header). A reject Analysis (decoding
// nothing) when a limit is broken; nullopt when the file may be decoded.
std::optional<Analysis> CheckProbeLimits(const media::ProbeResult& probe, const Policy& policy);

// Analyses the local file `path`, already probed as `probe`. `extra_sinks`
// (encoders, thumbnailers) ride the same decode pass after the analysers.
// Errors are the decode pass's (kInvalidArgument: undecodable media).
Result<Analysis> Analyse(const std::string& path, const media::ProbeResult& probe,
                         const Policy& policy, const media::DecodeOptions& options,
                         const std::vector<media::FrameSink*>& extra_sinks = {});

}  // namespace vidgate::qc
