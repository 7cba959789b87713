#include "pipeline/verify.h"

#include <map>

#include "common/digest.h"

namespace vidgate::pipeline {

nlohmann::json Verification::ToJson() const {
  nlohmann::json problems_json = nlohmann::json::array();
  auto size_or_null = [](int64_t size) {
    return size < 0 ? nlohmann::json(nullptr) : nlohmann::json(size);
  };
  auto text_or_null = [](const std::string& text) {
    return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
  };
  for (const auto& p : problems) {
    problems_json.push_back({{"path", p.path},
                             {"problem", p.problem},
                             {"recorded_size", size_or_null(p.recorded_size)},
                             {"recorded_sha256", text_or_null(p.recorded_sha256)},
                             {"found_size", size_or_null(p.found_size)},
                             {"found_sha256", text_or_null(p.found_sha256)},
                             {"detail", text_or_null(p.detail)}});
  }
  return {{"id", video_id}, {"name", name}, {"location", location},
          {"files", files}, {"ok", ok()},   {"problems", std::move(problems_json)}};
}

Result<Verification> VerifyVideo(storage::Store& store, catalog::Catalog& catalog,
                                 const catalog::Video& video,
                                 const std::function<Status()>& should_stop) {
  Verification out;
  out.video_id = video.id;
  out.name = video.name;
  out.location = video.location;
  const std::string who = "video " + std::to_string(video.id) + " '" + video.name + "'";
  if (!catalog::IsTerminal(video.state)) {
    return FailedPrecondition(who + " is " + std::string(catalog::StateName(video.state)) +
                              ", not filed yet: there is nothing to verify");
  }
  if (video.location.empty()) {
    return FailedPrecondition(who +
                              " was run again from its original (see the newer video of "
                              "that name): nothing of it is filed to verify");
  }
  VG_ASSIGN_OR_RETURN(std::vector<catalog::FileChecksum> recorded, catalog.Checksums(video.id));
  if (recorded.empty()) {
    return FailedPrecondition("video " + std::to_string(video.id) + " '" + video.name +
                              "' was filed before vidgate recorded checksums: there is nothing "
                              "to verify it against");
  }
  const std::string prefix = video.location + "/";
  VG_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listed, store.List(prefix));
  std::map<std::string, const storage::ObjectInfo*> present;
  for (const auto& o : listed) {
    if (o.key.starts_with(prefix)) present[o.key.substr(prefix.size())] = &o;
  }
  for (const auto& file : recorded) {
    if (should_stop) VG_RETURN_IF_ERROR(should_stop());
    ++out.files;
    FileProblem problem{file.path, "", file.size, file.sha256, -1, "", ""};
    auto it = present.find(file.path);
    if (it == present.end() || !it->second->refused.empty()) {
      // A link or a FIFO in its place is not read: the file is not there.
      problem.problem = "missing";
      if (it != present.end()) {
        problem.detail = "in its place: " + it->second->refused + ", not read";
        present.erase(it);
      }
      out.problems.push_back(std::move(problem));
      continue;
    }
    present.erase(it);
    // One file that cannot be read is that file's problem: the audit goes on.
    auto local = store.Fetch(prefix + file.path);
    if (local.status().code() == Code::kNotFound) {
      problem.problem = "missing";
      out.problems.push_back(std::move(problem));
      continue;
    }
    if (!local.ok()) {
      problem.problem = "unreadable";
      problem.detail = local.status().message();
      out.problems.push_back(std::move(problem));
      continue;
    }
    auto digests = DigestFile(local->path(), {"sha256"}, should_stop);
    if (digests.status().code() == Code::kCancelled) return digests.status();
    if (!digests.ok()) {
      // Named by its key, not the stand-in read (a /proc/self/fd link, a
      // temporary copy).
      problem.problem = "unreadable";
      problem.detail = local->NameByKey(digests.status().message(), prefix + file.path);
      out.problems.push_back(std::move(problem));
      continue;
    }
    if (digests->size == file.size && digests->hex["sha256"] == file.sha256) continue;
    problem.problem = "changed";
    problem.found_size = digests->size;
    problem.found_sha256 = digests->hex["sha256"];
    out.problems.push_back(std::move(problem));
  }
  // Whatever else is in the folder was not filed there by vidgate.
  for (const auto& [path, info] : present) {
    FileProblem added{path, "added", -1, "", info->size, "", ""};
    out.problems.push_back(std::move(added));
  }
  return out;
}

}  // namespace vidgate::pipeline
