#include "pipeline/intake.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "pipeline/metadata.h"
#include "pipeline/naming.h"

namespace vidgate::pipeline {

using catalog::State;
using catalog::Video;
using catalog::VideoChange;

namespace {

// Keys whose refusal was said, kept to say each once (a bound, not a goal).
constexpr size_t kMaxRememberedErrors = 10000;

// Orders objects by key, and finds a key among them.
struct KeyLess {
  bool operator()(const storage::ObjectInfo& a, const std::string& k) const { return a.key < k; }
  bool operator()(const std::string& k, const storage::ObjectInfo& a) const { return k < a.key; }
};

}  // namespace

bool Intake::Settled(const storage::ObjectInfo& info) {
  const double now = deps_.clock->Now();
  auto [it, first] = watched_.try_emplace(info.key, Watched{info, now});
  Watched& w = it->second;
  if (!first && !storage::SameVersion(w.seen, info)) {
    w = Watched{info, now};  // it changed: watch it again
    return false;
  }
  // Seen unchanged for settle_seconds by vidgate's own clock (and on two
  // scans at least): settled, whatever the file's clock says.
  if (!first && now - w.since >= options_.settle_seconds) return true;
  if (info.mtime > now + 1 && first) {
    deps_.log->warn(
        "{} was modified {:.0f} s in the future (a clock out of step?); it is taken "
        "once it has stayed unchanged for {:g} s",
        info.key, info.mtime - now, options_.settle_seconds);
  }
  // Before that, the file's own time may vouch for it, when it is sane: in
  // the past, by settle_seconds at least (0 trusts no single look).
  return options_.settle_seconds > 0 && info.mtime <= now &&
         now - info.mtime >= options_.settle_seconds;
}

Result<ScanReport> Intake::Scan() {
  // List before reading the active keys: a worker records a move's target
  // before making it, so a file seen here at its new key is already known.
  VG_ASSIGN_OR_RETURN(auto uploads, deps_.store->List(kUploads));
  VG_ASSIGN_OR_RETURN(auto failed, deps_.store->List(kFailed));
  std::vector<storage::ObjectInfo> objects;
  for (auto* listing : {&uploads, &failed}) {
    for (auto& obj : *listing) {
      if (obj.refused.empty()) {
        objects.push_back(std::move(obj));
      } else if (ParseKey(obj.key).kind != KeyKind::kIgnored &&
                 refused_noticed_.insert(obj.key).second) {
        // Said once per process: the entry is left alone, and holds nothing.
        deps_.log->warn("{} is {}; it is left where it is and not processed", obj.key, obj.refused);
      }
    }
  }
  return Consider(std::move(objects), /*listing=*/true);
}

Result<ScanReport> Intake::Take(const std::vector<std::string>& keys) {
  // What the news concerns: its keys, the sidecars a video among them may
  // have, and the videos waiting for a sidecar among them.
  std::set<std::string> news(keys.begin(), keys.end());
  std::set<std::string> wanted;
  for (const auto& key : news) {
    if (ParseKey(key).kind == KeyKind::kIgnored) continue;  // not under uploads/ or failed/
    wanted.insert(key);
    if (ParseKey(key).kind != KeyKind::kVideo) continue;
    for (auto& c : SidecarCandidates(key)) wanted.insert(std::move(c));
  }
  VG_ASSIGN_OR_RETURN(auto awaiting, deps_.catalog->ListVideos(State::kAwaitingMetadata));
  for (const auto& video : awaiting) {
    auto candidates = SidecarCandidates(video.current_key);
    if (!news.contains(video.current_key) &&
        std::none_of(candidates.begin(), candidates.end(),
                     [&](const std::string& c) { return news.contains(c); })) {
      continue;
    }
    wanted.insert(video.current_key);
    wanted.insert(candidates.begin(), candidates.end());
  }
  // Looked at now, before the active keys are read (as Scan lists first).
  std::vector<storage::ObjectInfo> objects;
  refused_now_.clear();
  Status first_refusal;
  bool store_answered = false;  // a look that worked or found nothing
  for (const auto& key : wanted) {
    auto info = deps_.store->Stat(key);
    if (info.ok() || info.status().code() == Code::kNotFound) {
      store_answered = true;
      look_errors_.erase(key);
      if (info.ok()) objects.push_back(std::move(*info));
    } else if (SkipRefusedKey(key, info.status())) {
      refused_now_.insert(key);
      if (first_refusal.ok()) first_refusal = info.status();
    } else {
      return info.status();
    }
  }
  // Every look refused: more likely the store refusing us (expired
  // credentials, a revoked policy) than each key its own; the news waits.
  if (!store_answered && !first_refusal.ok()) return first_refusal;
  auto considered = Consider(std::move(objects), /*listing=*/false);
  refused_now_.clear();
  return considered;
}

Result<ScanReport> Intake::NoticeOverdue() {
  VG_ASSIGN_OR_RETURN(auto awaiting, deps_.catalog->ListVideos(State::kAwaitingMetadata));
  const double now = deps_.clock->Now();
  std::vector<std::string> keys;
  for (const auto& video : awaiting) {
    if (!video.metadata_notice_sent && now - video.created_at >= options_.wait_seconds) {
      keys.push_back(video.current_key);
    }
  }
  if (keys.empty()) return ScanReport{};
  return Take(keys);
}

Result<ScanReport> Intake::Consider(std::vector<storage::ObjectInfo> objects, bool listing) {
  ScanReport report;
  std::sort(
      objects.begin(), objects.end(),
      [](const storage::ObjectInfo& a, const storage::ObjectInfo& b) { return a.key < b.key; });
  // Forget files that are gone (only a listing can tell).
  if (listing) {
    std::erase_if(watched_, [&](const auto& entry) {
      return !std::binary_search(objects.begin(), objects.end(), entry.first, KeyLess());
    });
  }
  VG_ASSIGN_OR_RETURN(auto active_list, deps_.catalog->ActiveKeys());
  std::set<std::string> active(active_list.begin(), active_list.end());

  for (const auto& obj : objects) {
    ParsedKey parsed = ParseKey(obj.key);
    if (parsed.kind == KeyKind::kRefused && refused_noticed_.insert(obj.key).second) {
      deps_.log->warn(
          "{} cannot be taken: a file called '{}' without an extension would clash "
          "with vidgate's own folder of that name; rename it (e.g. add its "
          "extension) and it will be processed",
          obj.key, parsed.file_name);
    }
    if (parsed.kind != KeyKind::kVideo || active.contains(obj.key)) continue;
    if (LongestFiledKey(obj.key) > deps_.store->MaxKeyBytes()) {
      if (refused_noticed_.insert(obj.key).second) {
        deps_.log->warn(
            "{} cannot be taken: its name is too long for this store (filed with vidgate's "
            "outputs, its keys could reach {} bytes, over the store's limit of {}); rename it "
            "shorter and it will be processed",
            obj.key, LongestFiledKey(obj.key), deps_.store->MaxKeyBytes());
      }
      continue;
    }
    // News of an object comes once it is whole (S3 events): no settle wait.
    if (listing && !Settled(obj)) {
      report.unsettled = true;
      continue;
    }
    // The listing may be stale: another process may have filed this video
    // (and closed it) since. Looking again now, after reading the active
    // keys, tells a new upload from one that has just been moved away.
    auto fresh = deps_.store->Stat(obj.key);
    if (fresh.status().code() == Code::kNotFound) continue;
    if (!fresh.ok() && SkipRefusedKey(obj.key, fresh.status())) continue;
    VG_RETURN_IF_ERROR(fresh.status());
    look_errors_.erase(obj.key);
    catalog::NewVideo nv{parsed.name, obj.key, State::kAwaitingMetadata, deps_.clock->Now()};
    VG_ASSIGN_OR_RETURN(auto id, deps_.catalog->Register(nv, {}));
    if (id) {
      ++report.registered;
      deps_.log->info("{}: new video {} -> awaiting_metadata{}", parsed.name, obj.key,
                      obj.key.starts_with(kFailed) ? " (adopted from failed/ as a retry)" : "");
    }
  }

  if (listing) VG_RETURN_IF_ERROR(NoticeOrphans(objects, active, report));

  VG_ASSIGN_OR_RETURN(auto awaiting, deps_.catalog->ListVideos(State::kAwaitingMetadata));
  for (const auto& video : awaiting) {
    // News judges only the videos it looked at.
    if (!listing &&
        !std::binary_search(objects.begin(), objects.end(), video.current_key, KeyLess())) {
      continue;
    }
    // A sidecar (or the video) that could not be looked at is no missing one.
    if (!listing &&
        (refused_now_.contains(video.current_key) ||
         std::ranges::any_of(SidecarCandidates(video.current_key),
                             [&](const std::string& c) { return refused_now_.contains(c); }))) {
      continue;
    }
    Status s = Gate(video, objects, report, /*settle=*/listing);
    if (s.ok() || s.code() == Code::kNotFound || s.code() == Code::kFailedPrecondition) {
      gate_errors_.erase(video.id);
      continue;
    }
    // One sidecar that cannot be read (permissions, a flaky disk) must not
    // hold back the others: it is tried again on the next scan, and said
    // once per distinct error.
    if (auto [it, fresh] = gate_errors_.try_emplace(video.id, s.message());
        fresh || it->second != s.message()) {
      it->second = s.message();
      deps_.log->warn("{}: cannot judge its metadata yet: {}", video.name, s.message());
    }
  }
  return report;
}

// A sidecar with no video beside it, once it is older than wait_seconds, gets
// one vidgate.metadata.invalid per version (its video may still be coming).
Status Intake::NoticeOrphans(const std::vector<storage::ObjectInfo>& objects,
                             const std::set<std::string>& active, ScanReport& report) {
  std::set<std::string> claimed(active.begin(), active.end());
  for (const auto& obj : objects) {
    if (ParseKey(obj.key).kind != KeyKind::kVideo) continue;
    for (auto& c : SidecarCandidates(obj.key)) claimed.insert(std::move(c));
  }
  // The videos by folder and stem, for the captions named after them.
  std::map<std::string, std::string> videos;  // "uploads/a/clip" -> "clip.mp4"
  const double now = deps_.clock->Now();
  // `mtime` < 0: known to be there (an active video).
  auto add_video = [&](const std::string& key, double mtime) {
    std::string file = FileName(key);
    if (ParseKey(key).kind != KeyKind::kVideo) {
      // A video still arriving (rsync's ".clip.mp4.AbC123") keeps its
      // captions while it grows; one unchanged for wait_seconds (an upload
      // that died) no longer does, and they are noticed.
      auto arriving = ArrivingAs(file);
      if (!arriving || ParseKey(Folder(key) + *arriving).kind != KeyKind::kVideo ||
          now - mtime >= options_.wait_seconds) {
        return;
      }
      file = *arriving;
    }
    // A name that is surely no video ("talk.part2.jpg") takes no stem.
    if (!SurelyNoVideo(file)) videos.try_emplace(Folder(key) + Stem(file), file);
  };
  for (const auto& obj : objects) add_video(obj.key, obj.mtime);
  for (const auto& key : active) add_video(key, -1);
  auto caption_claimed = [&](const std::string& key) {
    const std::string folder = Folder(key);
    return CaptionOwner(FileName(key),
                        [&](std::string_view stem) -> std::optional<std::string> {
                          auto it = videos.find(folder + std::string(stem));
                          return it == videos.end() ? std::nullopt
                                                    : std::optional<std::string>(it->second);
                        })
        .has_value();
  };
  for (const auto& obj : objects) {
    ParsedKey parsed = ParseKey(obj.key);
    const bool orphan_sidecar = parsed.kind == KeyKind::kSidecar && !claimed.contains(obj.key);
    const bool orphan_caption = parsed.kind == KeyKind::kCaption && !caption_claimed(obj.key);
    if (!orphan_sidecar && !orphan_caption) continue;
    if (now - obj.mtime < options_.wait_seconds) continue;
    // The listing may be stale: a caption that followed its video into a
    // filed folder since is gone from here (CI on S3 caught that notice).
    if (orphan_caption && !deps_.store->Stat(obj.key).ok()) continue;
    std::string fingerprint =
        std::to_string(obj.size) + ":" + fmt::format("{:.6f}", obj.mtime) + ":" + obj.etag;
    const std::string waited = fmt::format("{:g}", options_.wait_seconds);
    std::string error =
        orphan_sidecar
            ? "sidecar " + obj.key + " has no video beside it after " + waited + " s"
            : "caption " + obj.key + " belongs to no video after " + waited +
                  " s: a caption is named after the video beside it and a label (clip.en.srt "
                  "beside clip.mp4), the label of letters, digits, '-', '_' and '.', at most " +
                  std::to_string(kMaxCaptionLabel) + " bytes";
    Video orphan;
    orphan.name = parsed.name;
    auto event = deps_.events->Make(kMetadataInvalid, orphan, State::kAwaitingMetadata, 0,
                                    {{"sidecar", obj.key}, {"error", error}}, now);
    event.document["data"]["video_id"] = nullptr;
    event.document["data"]["state"] = nullptr;
    VG_ASSIGN_OR_RETURN(bool fresh, deps_.catalog->RecordNotice(obj.key, fingerprint, event, now));
    if (!fresh) continue;
    if (deps_.observer != nullptr) deps_.observer->EventRecorded(kMetadataInvalid);
    ++report.events;
    deps_.log->warn("{}", error);
  }
  return Status();
}

bool Intake::SkipRefusedKey(const std::string& key, const Status& failure) {
  // Access refused to one object (S3's 403 on a key another account wrote)
  // or a name the store cannot hold is that key's matter: the listing
  // brings it again, and it is taken once the store lets it be seen.
  if (failure.code() != Code::kPermissionDenied && failure.code() != Code::kInvalidArgument) {
    return false;
  }
  if (look_errors_.size() > kMaxRememberedErrors) look_errors_.clear();  // said again, at worst
  if (auto [it, fresh] = look_errors_.try_emplace(key, failure.message());
      fresh || it->second != failure.message()) {
    it->second = failure.message();
    deps_.log->warn("{} is left where it is for now: {}", key, failure.message());
  }
  return true;
}

Status Intake::Apply(const VideoChange& change) {
  VG_RETURN_IF_ERROR(deps_.catalog->Apply(change));
  if (deps_.observer != nullptr) {
    for (const auto& e : change.events) deps_.observer->EventRecorded(e.type);
  }
  return Status();
}

Status Intake::Gate(const Video& video, const std::vector<storage::ObjectInfo>& objects,
                    ScanReport& report, bool settle) {
  const double now = deps_.clock->Now();
  // `objects` is sorted by key (Scan sorts it).
  auto find = [&](const std::string& key) -> const storage::ObjectInfo* {
    auto it = std::lower_bound(
        objects.begin(), objects.end(), key,
        [](const storage::ObjectInfo& o, const std::string& k) { return o.key < k; });
    return it != objects.end() && it->key == key ? &*it : nullptr;
  };
  if (find(video.current_key) == nullptr &&
      deps_.store->Stat(video.current_key).status().code() == Code::kNotFound) {
    // Removed by hand while waiting: nothing is left to process.
    VideoChange gone;
    gone.video_id = video.id;
    gone.now = now;
    gone.expect_state = State::kAwaitingMetadata;
    gone.state = State::kUnableToProcess;
    gone.last_error = video.current_key + " disappeared before its metadata arrived";
    gone.log = gone.last_error.value();
    gone.events.push_back(deps_.events->Make(
        kVideoUnable, video, State::kUnableToProcess, video.attempts,
        {{"reason", *gone.last_error}, {"location", nullptr}, {"history", nlohmann::json::array()}},
        now));
    VG_RETURN_IF_ERROR(Apply(gone));
    ++report.events;
    deps_.log->warn("{}: awaiting_metadata -> unable_to_process ({})", video.name,
                    *gone.last_error);
    return Status();
  }
  const auto candidates = SidecarCandidates(video.current_key);
  const storage::ObjectInfo* sidecar = nullptr;
  for (const auto& c : candidates) {
    if ((sidecar = find(c)) != nullptr) break;
  }

  VideoChange change;
  change.video_id = video.id;
  change.now = now;
  // Another process's intake may have moved this video on since we listed
  // it, or judged its sidecar (and sent the notice) meanwhile.
  change.expect_state = State::kAwaitingMetadata;
  change.expect_notice_sent = video.metadata_notice_sent;
  change.expect_sidecar_fingerprint = video.sidecar_fingerprint;
  if (sidecar == nullptr) {
    if (video.metadata_notice_sent || now - video.created_at < options_.wait_seconds) {
      return Status();
    }
    change.metadata_notice_sent = true;
    change.log = "no sidecar after " + fmt::format("{:g}", options_.wait_seconds) + " s";
    nlohmann::json data = {
        {"waited_seconds", options_.wait_seconds},
        {"expected_sidecar", candidates},
        {"error", "no metadata sidecar after " + fmt::format("{:g}", options_.wait_seconds) +
                      " s; expected " + candidates[0]}};
    change.events.push_back(deps_.events->Make(kMetadataMissing, video, State::kAwaitingMetadata,
                                               video.attempts, data, now));
    VG_RETURN_IF_ERROR(Apply(change));
    ++report.events;
    deps_.log->warn("{}: metadata missing (expected {}); the video waits in {}", video.name,
                    candidates[0], video.current_key);
    return Status();
  }
  if (settle && !Settled(*sidecar)) {
    report.unsettled = true;
    return Status();
  }
  const std::string fingerprint = sidecar->key + ":" + std::to_string(sidecar->size) + ":" +
                                  fmt::format("{:.6f}", sidecar->mtime) + ":" + sidecar->etag;
  if (fingerprint == video.sidecar_fingerprint) return Status();  // judged before, unchanged

  Result<nlohmann::json> metadata = [&]() -> Result<nlohmann::json> {
    if (sidecar->size > kMaxSidecarBytes) {
      return InvalidArgument("sidecar is " + std::to_string(sidecar->size) +
                             " bytes, over the limit of 1 MiB");
    }
    VG_ASSIGN_OR_RETURN(std::string bytes, deps_.store->Read(sidecar->key, kMaxSidecarBytes));
    return ValidateSidecar(bytes, options_.required);
  }();
  change.sidecar_fingerprint = fingerprint;
  if (!metadata.ok()) {
    if (metadata.status().code() != Code::kInvalidArgument) return metadata.status();
    std::string problem = metadata.status().message();
    if (problem.find(sidecar->key) == std::string::npos) problem = sidecar->key + ": " + problem;
    change.metadata_notice_sent = true;
    change.log = "invalid metadata: " + problem;
    nlohmann::json data = {{"sidecar", sidecar->key}, {"error", problem}};
    change.events.push_back(deps_.events->Make(kMetadataInvalid, video, State::kAwaitingMetadata,
                                               video.attempts, data, now));
    VG_RETURN_IF_ERROR(Apply(change));
    ++report.events;
    deps_.log->warn("{}: metadata invalid: {}", video.name, problem);
    return Status();
  }
  change.state = State::kQueued;
  change.sidecar_key = sidecar->key;
  change.metadata = *metadata;
  change.job = VideoChange::Job::kSchedule;
  change.job_available_at = now;
  change.log = "metadata accepted from " + sidecar->key;
  VG_RETURN_IF_ERROR(Apply(change));
  ++report.queued;
  deps_.log->info("{}: awaiting_metadata -> queued ({})", video.name, sidecar->key);
  return Status();
}

}  // namespace vidgate::pipeline
