#include "pipeline/media_stage.h"

#include <stdlib.h>

#include <cerrno>
#include <filesystem>

#include "media/decode_pass.h"
#include "media/probe.h"
#include "media/rendition_encoder.h"
#include "media/thumbnailer.h"
#include "qc/analysis.h"
#include "storage/store.h"

namespace vidgate::pipeline {
namespace {

Result<std::shared_ptr<WorkDir>> MakeWorkDir(const std::string& root) {
  std::filesystem::path base =
      root.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(root);
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  if (ec) return ErrnoStatus(ec.value(), "create work folder", base.string());
  // Named after this process, so a restart can tell a dead one's leftovers.
  std::string dir = (base / storage::NewWorkFileName()).string();
  std::filesystem::create_directory(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "create work folder", dir);
  return std::make_shared<WorkDir>(dir);
}

class QcStage final : public MediaStage {
 public:
  QcStage(qc::Policy policy, bool renditions, std::string work_root)
      : policy_(std::move(policy)), renditions_(renditions), work_root_(std::move(work_root)) {}

  Result<StageResult> Process(const std::string& path, const std::string& name,
                              const std::function<Status()>& should_stop) override {
    (void)name;
    StageResult out;
    VG_ASSIGN_OR_RETURN(media::ProbeResult probe, media::Probe(path));
    out.probe = probe.ToJson();
    VG_RETURN_IF_ERROR(should_stop());
    // Over a limit the probe can tell: reject before decoding anything.
    if (auto early = qc::CheckProbeLimits(probe, policy_)) {
      out.qc = std::move(early->report);
      out.verdict = early->verdict;
      out.summary = early->summary;
      return out;
    }

    // The pass stops when should_stop says so; keep its reason (lease lost,
    // time-out, shutdown) rather than the pass's generic "cancelled".
    Status stop_reason;
    media::DecodeOptions options;
    options.should_stop = [&]() {
      if (!stop_reason.ok()) return true;
      stop_reason = should_stop();
      return !stop_reason.ok();
    };
    std::unique_ptr<media::RenditionEncoder> rendition;
    std::unique_ptr<media::Thumbnailer> thumbnails;
    std::vector<media::FrameSink*> extra;
    std::string rendition_path;
    // A file QC rejects for having no picture gets no rendition either.
    if (renditions_ && probe.HasVideo()) {
      VG_ASSIGN_OR_RETURN(out.work_dir, MakeWorkDir(work_root_));
      rendition_path = out.work_dir->path + "/main.mp4";
      VG_ASSIGN_OR_RETURN(rendition, media::RenditionEncoder::Create(
                                         rendition_path, media::RenditionSpec{}, probe));
      extra.push_back(rendition.get());
      std::filesystem::create_directories(out.work_dir->path + "/thumbnails");
      thumbnails = std::make_unique<media::Thumbnailer>(out.work_dir->path + "/thumbnails",
                                                        probe.format.duration.value_or(0));
      extra.push_back(thumbnails.get());
    }
    Result<qc::Analysis> analysis = qc::Analyse(path, probe, policy_, options, extra);
    if (!analysis.ok()) {
      if (analysis.status().code() == Code::kCancelled && !stop_reason.ok()) return stop_reason;
      return analysis.status();
    }
    out.qc = std::move(analysis->report);
    out.verdict = analysis->verdict;
    out.summary = analysis->summary;
    if (rendition && out.verdict != "reject") {
      // An output that does not probe as what was asked for fails the attempt.
      auto written = media::Probe(rendition_path);
      if (!written.ok()) {
        return Internal("the rendition did not probe: " + written.status().message());
      }
      catalog::Output o;
      for (const auto& st : written->streams) {
        if (st.type != "video") continue;
        o.codec = st.codec;
        o.width = st.width.value_or(0);
        o.height = st.height.value_or(0);
      }
      if (o.codec != "h264" || o.width != rendition->width() || o.height != rendition->height()) {
        return Internal("the rendition probes as " + o.codec + " " + std::to_string(o.width) + "x" +
                        std::to_string(o.height) + ", not as encoded");
      }
      o.size = written->format.size;
      o.duration = written->format.duration.value_or(0);
      out.files.push_back(ProducedFile{rendition_path, "renditions/main.mp4", o});
      for (const auto& image_name : thumbnails->files()) {
        const std::string local = out.work_dir->path + "/thumbnails/" + image_name;
        auto image = media::Probe(local);
        if (!image.ok() || image->streams.empty()) {
          return Internal("the thumbnail " + image_name + " did not probe");
        }
        catalog::Output t;
        t.codec = image->streams[0].codec;
        t.width = image->streams[0].width.value_or(0);
        t.height = image->streams[0].height.value_or(0);
        t.size = image->format.size;
        out.files.push_back(ProducedFile{local, "thumbnails/" + image_name, t});
      }
    }
    return out;
  }

 private:
  qc::Policy policy_;
  bool renditions_;
  std::string work_root_;
};

}  // namespace

WorkDir::~WorkDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

std::unique_ptr<MediaStage> NewQcStage(qc::Policy policy, bool renditions, std::string work_root) {
  return std::make_unique<QcStage>(std::move(policy), renditions, std::move(work_root));
}

}  // namespace vidgate::pipeline
