#include "pipeline/rerun.h"

#include "pipeline/caption_files.h"
#include "pipeline/naming.h"

namespace vidgate::pipeline {
namespace {

std::string BaseName(const std::string& key) { return key.substr(key.rfind('/') + 1); }

// Whether `key` is there; errors other than "not found" are errors.
Result<bool> Exists(storage::Store& store, const std::string& key) {
  auto info = store.Stat(key);
  if (info.ok()) return true;
  if (info.status().code() == Code::kNotFound) return false;
  return info.status();
}

// Moves `from` to `to`, or finds it moved already (a re-run cut short).
Status MoveBack(storage::Store& store, const std::string& from, const std::string& to) {
  Status moved = store.Move(from, to);
  if (moved.code() == Code::kNotFound && store.Stat(to).ok()) return Status();
  return moved;
}

}  // namespace

Result<Rerun> RerunFromKeptOriginal(storage::Store& store, catalog::Catalog& catalog,
                                    const Clock& clock, const catalog::Video& video) {
  using catalog::State;
  if (video.state != State::kRejected && video.state != State::kUnableToProcess) {
    return FailedPrecondition(video.name + " is " + std::string(catalog::StateName(video.state)) +
                              "; only a rejected or unable_to_process video runs again from its "
                              "kept original");
  }
  if (video.location.empty() || !video.current_key.starts_with(video.location + "/")) {
    return FailedPrecondition(video.name + " has no kept original in a folder of its own (" +
                              video.current_key + ")");
  }
  // Back where NAME says it came from: uploads/ + NAME's folders + its
  // own file name (a video adopted from failed/ comes back to uploads/).
  const size_t slash = video.name.rfind('/');
  const std::string folders = slash == std::string::npos ? "" : video.name.substr(0, slash + 1);
  Rerun out;
  out.video_key = std::string(kUploads) + folders + BaseName(video.current_key);
  if (!video.sidecar_key.empty()) {
    out.sidecar_key = std::string(kUploads) + folders + BaseName(video.sidecar_key);
  }
  VG_ASSIGN_OR_RETURN(bool kept, Exists(store, video.current_key));
  VG_ASSIGN_OR_RETURN(bool back, Exists(store, out.video_key));
  if (!kept && !back) return NotFound("the kept original " + video.current_key + " is gone");
  const std::pair<std::string, std::string> moves[] = {{video.sidecar_key, out.sidecar_key},
                                                       {video.current_key, out.video_key}};
  for (const auto& [from, to] : moves) {
    if (to.empty()) continue;
    VG_ASSIGN_OR_RETURN(bool taken, Exists(store, to));
    VG_ASSIGN_OR_RETURN(bool still_kept, Exists(store, from));
    if (taken && still_kept) {
      return AlreadyExists(to + " exists already (a new upload of that name?); nothing was moved");
    }
  }
  // The sidecar first: the video then arrives with its metadata.
  if (!out.sidecar_key.empty()) {
    VG_RETURN_IF_ERROR(MoveBack(store, video.sidecar_key, out.sidecar_key));
  }
  VG_RETURN_IF_ERROR(MoveBack(store, video.current_key, out.video_key));
  // Its captions follow it back (a re-run cut short finds them still here).
  // One that cannot (a caption of that name uploaded meanwhile, which is
  // not overwritten) stays filed: the video runs again all the same.
  MoveCaptions(
      store, video.current_key, out.video_key,
      [&](const std::string& from, const std::string& to) { return MoveBack(store, from, to); })
      .IgnoreError();
  // The old report would describe a video that is no longer there.
  const std::string own = OwnKey(video.location, "");
  VG_ASSIGN_OR_RETURN(auto leftovers, store.List(own));
  for (const auto& o : leftovers) VG_RETURN_IF_ERROR(store.Delete(o.key));

  catalog::VideoChange c;
  c.video_id = video.id;
  c.now = clock.Now();
  c.expect_state = video.state;
  c.current_key = out.video_key;
  if (!out.sidecar_key.empty()) c.sidecar_key = out.sidecar_key;
  c.location = "";  // its folder is free for the new run
  c.log = "runs again: its original went back to " + out.video_key;
  Status applied = catalog.Apply(c);
  if (!applied.ok() && applied.code() != Code::kFailedPrecondition) return applied;
  return out;
}

}  // namespace vidgate::pipeline
