#include "catalog/document.h"

#include "common/util.h"

namespace vidgate::catalog {
namespace {

nlohmann::json TextOrNull(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

nlohmann::json TimeOrNull(double at) {
  return at > 0 ? nlohmann::json(FormatTime(at)) : nlohmann::json(nullptr);
}

nlohmann::json ObjectOrEmpty(const nlohmann::json& doc) {
  return doc.is_null() ? nlohmann::json::object() : doc;
}

}  // namespace

std::string Location(const Video& v) {
  return IsTerminal(v.state) && !v.location.empty() ? v.location : v.current_key;
}

nlohmann::json VideoSummary(const Video& v) {
  return {
      {"id", v.id},
      {"name", v.name},
      {"state", StateName(v.state)},
      {"attempts", v.attempts},
      {"created_at", FormatTime(v.created_at)},
      {"updated_at", FormatTime(v.updated_at)},
      {"location", Location(v)},
      {"last_error", TextOrNull(v.last_error)},
      {"next_attempt_at",
       v.state == State::kRetryWait ? TimeOrNull(v.next_attempt_at) : nlohmann::json(nullptr)},
      {"title", TextOrNull(v.title)},
      {"verdict", TextOrNull(v.verdict)},
      {"duration", v.duration > 0 ? nlohmann::json(v.duration) : nlohmann::json(nullptr)},
  };
}

Result<nlohmann::json> VideoDocument(Catalog& catalog, const Video& v) {
  const std::string what = "video " + std::to_string(v.id);
  auto attempts = catalog.Attempts(v.id);
  if (!attempts.ok()) return attempts.status().WithContext(what);
  auto outputs = catalog.Outputs(v.id);
  if (!outputs.ok()) return outputs.status().WithContext(what);
  auto notes = catalog.Notifications(v.id);
  if (!notes.ok()) return notes.status().WithContext(what);
  auto files = catalog.Checksums(v.id);
  if (!files.ok()) return files.status().WithContext(what);
  nlohmann::json out = VideoSummary(v);
  out["attempts"] = AttemptsToJson(*attempts);
  out["metadata"] = ObjectOrEmpty(v.metadata);
  out["probe"] = ObjectOrEmpty(v.probe);
  out["qc"] = ObjectOrEmpty(v.qc);
  out["outputs"] = OutputsToJson(*outputs);
  out["source_key"] = v.source_key;
  out["sidecar_key"] = TextOrNull(v.sidecar_key);
  out["sha256"] = TextOrNull(v.sha256);
  // The filed folder's files as recorded (`vidgate verify` checks them).
  out["files"] = nlohmann::json::array();
  for (const auto& f : *files) {
    out["files"].push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  }
  out["notifications"] = nlohmann::json::array();
  for (const auto& n : *notes) {
    out["notifications"].push_back({{"id", n.event_id},
                                    {"type", n.type},
                                    {"sink", n.sink},
                                    {"created_at", FormatTime(n.created_at)},
                                    {"delivered_at", TimeOrNull(n.delivered_at)},
                                    {"tries", n.attempts},
                                    {"gave_up", n.gave_up},
                                    {"last_error", TextOrNull(n.last_error)}});
  }
  return out;
}

}  // namespace vidgate::catalog
