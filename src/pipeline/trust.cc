#include "pipeline/trust.h"

#include <fmt/format.h>

#include "common/digest.h"
#include "qc/analysis.h"

namespace vidgate::pipeline {
namespace {

std::string Describe(const catalog::Video& other) {
  return fmt::format("video {} '{}' ({}, in {})", other.id, other.name,
                     catalog::StateName(other.state), other.location);
}

}  // namespace

Result<DedupePolicy> ParseDedupePolicy(std::string_view name) {
  if (name == "flag") return DedupePolicy::kFlag;
  if (name == "reject") return DedupePolicy::kReject;
  if (name == "skip") return DedupePolicy::kSkip;
  return InvalidArgument("dedupe.policy must be \"flag\", \"reject\" or \"skip\", not \"" +
                         std::string(name) + "\"");
}

Result<TrustFindings> DigestOriginal(const std::string& local, const catalog::Video& video,
                                     const std::function<Status()>& should_stop) {
  // The gate checked the declaration; one it would refuse now declares nothing.
  Result<Checksums> declared = DeclaredChecksums(video.metadata);
  const Checksums none;
  const Checksums& wanted = declared.ok() ? *declared : none;
  VG_ASSIGN_OR_RETURN(FileDigests digests, DigestFile(local, AlgorithmsFor(wanted), should_stop));
  TrustFindings out;
  out.original.size = digests.size;
  out.original.digests = std::move(digests.hex);
  out.fixity = CheckFixity(wanted, out.original.digests);
  return out;
}

Status FindDuplicate(catalog::Catalog& catalog, storage::Store& store, const catalog::Video& video,
                     TrustFindings& out) {
  out.duplicate_of.reset();
  VG_ASSIGN_OR_RETURN(std::vector<catalog::Video> filed,
                      catalog.FiledWithSha256(out.original.digests.at("sha256"), video.id));
  // Moved away by hand, or run again by a retry that stopped half-way:
  // then there is nothing filed to be a duplicate of.
  std::vector<catalog::Video> same;
  for (auto& other : filed) {
    auto there = store.Stat(other.current_key);
    if (there.ok() && there->size == out.original.size) same.push_back(std::move(other));
  }
  // The processed one first: that is the one a skipped video points at.
  for (const auto& other : same) {
    if (other.state == catalog::State::kProcessed) {
      out.duplicate_of = other;
      break;
    }
  }
  if (!out.duplicate_of && !same.empty()) out.duplicate_of = same.front();
  return Status();
}

std::optional<StageResult> SettledByTrust(const TrustFindings& findings, DedupePolicy policy) {
  const bool mismatch = findings.fixity && !findings.fixity->ok;
  const auto& dup = findings.duplicate_of;
  const bool rejected_dup = dup && policy == DedupePolicy::kReject;
  const bool skipped_dup =
      dup && policy == DedupePolicy::kSkip && dup->state == catalog::State::kProcessed;
  if (!mismatch && !rejected_dup && !skipped_dup) return std::nullopt;
  StageResult out;
  out.qc = qc::UndecodedReport();
  out.verdict = "pass";
  out.final_rejection = mismatch || rejected_dup;
  AddTrustChecks(findings, policy, out);
  return out;
}

nlohmann::json DuplicateJson(const catalog::Video& other) {
  return {{"id", other.id},
          {"name", other.name},
          {"location", other.location},
          {"state", std::string(catalog::StateName(other.state))}};
}

void AddTrustChecks(const TrustFindings& findings, DedupePolicy policy, StageResult& result) {
  if (!result.qc.is_object()) result.qc = qc::UndecodedReport();
  nlohmann::json original = {{"size", findings.original.size}};
  for (const auto& [algorithm, hex] : findings.original.digests) original[algorithm] = hex;
  result.qc["original"] = std::move(original);
  if (findings.fixity) {
    result.qc["fixity"] = findings.fixity->detail;
    AddCheck(result, "fixity", /*error=*/true, findings.fixity->ok, findings.fixity->message);
  }
  if (findings.duplicate_of) {
    const catalog::Video& other = *findings.duplicate_of;
    result.duplicate_of = DuplicateJson(other);
    result.qc["duplicate_of"] = result.duplicate_of;
    std::string message = "the same bytes as " + Describe(other);
    const bool skipped = policy == DedupePolicy::kSkip && other.state == catalog::State::kProcessed;
    if (policy == DedupePolicy::kReject) message += "; dedupe.policy is reject";
    if (skipped) message += "; no renditions made (dedupe.policy is skip): see " + other.location;
    AddCheck(result, "duplicate", policy == DedupePolicy::kReject, /*passed=*/false, message);
  }
}

void AddNearDuplicateChecks(const std::vector<NearDuplicate>& found, StageResult& result) {
  if (found.empty()) return;
  result.near_duplicates = NearDuplicatesJson(found);
  result.qc["near_duplicates"] = result.near_duplicates;
  std::string message;
  for (const auto& d : found) {
    std::string where;
    for (const auto& r : d.match.ranges) {
      where += fmt::format("{}{:.1f}-{:.1f} s here at {:.1f}-{:.1f} s there",
                           where.empty() ? "" : ", ", r.start, r.end, r.other_start, r.other_end);
    }
    message += fmt::format("{}the footage of {} ({:.0f} % alike: {})", message.empty() ? "" : "; ",
                           Describe(d.other), d.match.similarity * 100, where);
  }
  AddCheck(result, "near_duplicate", /*error=*/false, /*passed=*/false, message);
}

void AddCheck(StageResult& result, const std::string& id, bool error, bool passed,
              const std::string& message) {
  nlohmann::json& checks = result.qc["checks"];
  if (!checks.is_array()) checks = nlohmann::json::array();
  checks.push_back({{"id", id},
                    {"severity", error ? "error" : "warning"},
                    {"status", passed ? "pass" : "fail"},
                    {"message", message}});
  qc::Judgement judged = qc::Judge(checks);
  result.verdict = std::move(judged.verdict);
  result.summary = std::move(judged.summary);
  result.qc["verdict"] = result.verdict;
}

}  // namespace vidgate::pipeline
