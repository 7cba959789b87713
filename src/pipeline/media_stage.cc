#include "pipeline/media_stage.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "common/util.h"
#include "media/av.h"
#include "media/decode_pass.h"
#include "media/hls_master.h"
#include "media/probe.h"
#include "media/rendition_encoder.h"
#include "media/text_subtitles.h"
#include "media/thumbnailer.h"
#include "pipeline/caption_stage.h"
#include "pipeline/track_report.h"
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

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "create work folder", dir);
  return Status();
}

// The catalog's record of an output, from its probe: the first video
// stream's codec and size, else the first audio stream's codec.
catalog::Output Describe(const media::ProbeResult& p) {
  catalog::Output o;
  for (const auto& st : p.streams) {
    if (st.type == "video" && o.width == 0) {
      o.codec = st.codec;
      o.width = st.width.value_or(0);
      o.height = st.height.value_or(0);
    }
  }
  for (const auto& st : p.streams) {
    if (st.type == "audio" && o.codec.empty()) o.codec = st.codec;
  }
  if (o.codec.empty() && !p.streams.empty()) o.codec = p.streams[0].codec;  // e.g. webvtt
  o.size = p.format.size;
  o.duration = p.format.duration.value_or(0);
  return o;
}

// Probes what a rendition wrote at `local`; kInternal unless it shows the
// codecs and size the encoder was set up with.
Result<catalog::Output> CheckRendition(const std::string& local, const std::string& key,
                                       const media::RenditionEncoder& enc) {
  auto written = media::Probe(local);
  if (!written.ok()) {
    return Internal("the rendition " + key + " did not probe: " + written.status().message());
  }
  std::string video, audio;
  int width = 0, height = 0;
  for (const auto& st : written->streams) {
    if (st.type == "video" && video.empty()) {
      video = st.codec;
      width = st.width.value_or(0);
      height = st.height.value_or(0);
    }
    if (st.type == "audio" && audio.empty()) audio = st.codec;
  }
  // An audio stream that gave no frame leaves no track in the MP4 but an
  // empty one in fMP4 (HLS): audio is only checked when some was encoded.
  const bool audio_ok = enc.audio_codec().empty() || audio == enc.audio_codec();
  if (video != enc.video_codec() || !audio_ok || width != enc.width() || height != enc.height()) {
    return Internal(fmt::format(
        "the rendition {} probes as {}/{} {}x{}, not as encoded ({}/{} {}x{})", key, video, audio,
        width, height, enc.video_codec(), enc.audio_codec(), enc.width(), enc.height()));
  }
  return Describe(*written);
}

nlohmann::json OptionalsToJson(const std::vector<std::optional<double>>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : values) out.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
  return out;
}

// How long the sound lasts: its stream's duration, else the file's (0
// without sound).
double AudioSeconds(const media::ProbeResult& p) {
  const media::StreamInfo* audio = p.AudioStream();
  return audio ? audio->duration.value_or(p.format.duration.value_or(0)) : 0;
}

// HLS's VIDEO-RANGE for what a rendition's pictures hold ("" without video).
std::string VideoRange(const std::string& dynamic_range) {
  if (dynamic_range == "hdr10") return "PQ";
  if (dynamic_range == "hlg") return "HLG";
  return dynamic_range.empty() ? "" : "SDR";
}

// An encoder's or writer's error names its file in the work folder, a path
// that means nothing to the reader and is gone by then: name the output by
// its key under processed/NAME/ instead ("renditions/main.mp4").
Status InOutputTerms(const Status& status, const std::shared_ptr<WorkDir>& work_dir) {
  if (!work_dir) return status;
  std::string message = status.message();
  const std::string prefix = work_dir->path + "/";
  for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix, at)) {
    message.erase(at, prefix.size());
  }
  return Status(status.code(), message);
}

// A rendition being written: its MP4 (and HLS folder) in the work folder.
struct RenditionJob {
  std::string name, key, local, hls_dir;
  std::optional<double> min_ssim;
  std::unique_ptr<media::RenditionEncoder> encoder;
  // A further sound track's sound-only rendition: the rendition it goes
  // with, its label and language, its source stream, and the sink that
  // hands it that stream's frames.
  std::string alternate_of, label, language;
  int source_stream = -1;
  std::unique_ptr<media::FrameSink> track_sink;
};

// Hands the frames of one further sound track to a sound-only rendition,
// as its sound.
class SoundTrackSink final : public media::FrameSink {
 public:
  SoundTrackSink(int stream, media::FrameSink* target) : stream_(stream), target_(target) {}
  Status OnExtraAudioFrame(int stream_index, const AVFrame& frame, double time_seconds) override {
    return stream_index == stream_ ? target_->OnAudioFrame(frame, time_seconds) : Status();
  }
  Status Finish() override { return target_->Finish(); }
  bool TakesVideo() const override { return false; }
  bool TakesAudio() const override { return false; }
  bool TakesExtraAudio(int stream_index) const override { return stream_index == stream_; }
  void Abandon() override { target_->Abandon(); }

 private:
  const int stream_;
  media::FrameSink* const target_;
};

// The sound tracks besides the one the pass decodes (with a sample rate
// and channels; at most media::kMaxExtraAudioStreams), when a rendition
// carries them all.
std::vector<int> FurtherSoundTracks(const media::ProbeResult& probe,
                                    const std::vector<media::RenditionSpec>& renditions) {
  std::vector<int> out;
  if (!std::any_of(renditions.begin(), renditions.end(),
                   [](const media::RenditionSpec& r) { return r.audio_tracks == "all"; })) {
    return out;
  }
  for (const auto& st : probe.streams) {
    if (st.type != "audio" || st.index == probe.audio_stream || !st.sample_rate || !st.channels ||
        *st.sample_rate <= 0 || *st.channels <= 0 || !media::CanDecode(st.codec)) {
      continue;
    }
    if (out.size() < media::kMaxExtraAudioStreams) out.push_back(st.index);
  }
  return out;
}

// What the HLS audio group calls a rendition's own sound: its language, or
// "main".
std::string MainSoundLabel(const media::ProbeResult& probe) {
  const media::StreamInfo* sound = probe.AudioStream();
  return sound && sound->language ? ShortLanguageTag(*sound->language) : "main";
}

// "main-audio-fr": a sound-only rendition's name, within the 64 bytes a
// rendition name may have, and not one taken already.
std::string SoundTrackName(const std::string& rendition, const std::string& label,
                           std::set<std::string>& taken) {
  const std::string suffix = "-audio-" + label;
  std::string name = rendition.substr(0, 64 - std::min<size_t>(suffix.size(), 40)) + suffix;
  name = name.substr(0, 64);
  const std::string base = name;
  for (int n = 2; taken.contains(name); ++n) {
    const std::string number = "-" + std::to_string(n);
    name = base.substr(0, 64 - number.size()) + number;
  }
  taken.insert(name);
  return name;
}

class QcStage final : public MediaStage {
 public:
  QcStage(qc::Policy policy, OutputOptions outputs, std::string work_root)
      : policy_(std::move(policy)),
        outputs_(std::move(outputs)),
        work_root_(std::move(work_root)) {}

  Result<StageResult> Process(const std::string& path, const std::string& name,
                              const std::vector<CaptionInput>& captions,
                              const std::function<Status()>& should_stop) override {
    (void)name;
    std::shared_ptr<WorkDir> work_dir;
    Result<StageResult> result = Produce(path, captions, should_stop, work_dir);
    if (result.ok()) return result;
    return InOutputTerms(result.status(), work_dir);
  }

 private:
  // Process() without its error wording; `work_dir` is set as soon as the
  // outputs have a folder.
  Result<StageResult> Produce(const std::string& path, const std::vector<CaptionInput>& captions,
                              const std::function<Status()>& should_stop,
                              std::shared_ptr<WorkDir>& work_dir) {
    StageResult out;
    const auto probe_from = std::chrono::steady_clock::now();
    VG_ASSIGN_OR_RETURN(media::ProbeResult probe, media::Probe(path));
    out.probe_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - probe_from).count();
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
    // One sound track is kept: the preferred language's, else libav's best.
    if (const int chosen = ChooseAudioStream(probe, outputs_.audio_languages); chosen >= 0) {
      probe.audio_stream = chosen;
    }
    media::DecodeOptions options;
    options.video_stream = probe.video_stream;
    options.audio_stream = probe.audio_stream;
    // Asked from several threads at once: the lanes' loudness passes
    // finish side by side.
    std::mutex stop_mu;
    options.should_stop = [&]() {
      std::lock_guard lock(stop_mu);
      if (!stop_reason.ok()) return true;
      stop_reason = should_stop();
      return !stop_reason.ok();
    };
    std::vector<RenditionJob> renditions;
    std::unique_ptr<media::Thumbnailer> thumbnails;
    std::vector<media::FrameSink*> extra;
    const bool any_stream = probe.HasVideo() || probe.HasAudio();
    // Text subtitle streams are read in the pass, as captions.
    std::unique_ptr<media::SubtitleCollector> subtitle_streams;
    if (std::any_of(probe.streams.begin(), probe.streams.end(),
                    [](const media::StreamInfo& st) { return st.type == "subtitle"; })) {
      subtitle_streams = std::make_unique<media::SubtitleCollector>();
      extra.push_back(subtitle_streams.get());
    }
    if ((!outputs_.renditions.empty() && any_stream) || (outputs_.thumbnails && probe.HasVideo()) ||
        !captions.empty() || subtitle_streams) {
      VG_ASSIGN_OR_RETURN(out.work_dir, MakeWorkDir(work_root_));
      work_dir = out.work_dir;
    }
    // Further sound tracks, decoded in the pass for the renditions that
    // carry them all.
    const std::vector<int> further = FurtherSoundTracks(probe, outputs_.renditions);
    options.extra_audio_streams = further;
    std::set<std::string> taken_names;
    for (const auto& spec : outputs_.renditions) taken_names.insert(spec.name);
    // Renditions whose sound is made alike share one set of further tracks
    // (a ladder encodes each once): rendition -> the one that made them.
    std::map<std::string, std::string> tracks_of;
    std::map<std::tuple<std::string, int64_t, std::optional<double>, double>, std::string> made_for;
    for (const auto& spec :
         any_stream ? outputs_.renditions : std::vector<media::RenditionSpec>{}) {
      VG_ASSIGN_OR_RETURN(RenditionJob r,
                          StartRendition(spec, probe, path, options, *out.work_dir));
      extra.push_back(r.encoder.get());
      renditions.push_back(std::move(r));
      if (spec.audio_tracks != "all") continue;
      const auto [made, first] = made_for.try_emplace(
          {spec.audio_codec, spec.audio_bitrate, spec.loudness_target, spec.true_peak_limit},
          spec.name);
      tracks_of[spec.name] = made->second;
      if (!first) continue;
      // The rendition's own sound is named in the group too.
      std::set<std::string> labels = {MainSoundLabel(probe)};
      for (const int stream : further) {
        // Each further track: a sound-only rendition on the same timeline.
        const media::StreamInfo* st = nullptr;
        for (const auto& candidate : probe.streams) {
          if (candidate.index == stream) st = &candidate;
        }
        const std::string base =
            st && st->language ? ShortLanguageTag(*st->language) : "track" + std::to_string(stream);
        std::string label = base;
        for (int n = 2; labels.contains(label); ++n) label = base + "-" + std::to_string(n);
        labels.insert(label);
        media::RenditionSpec track = spec;
        track.name = SoundTrackName(spec.name, label, taken_names);
        track.sound_only = true;
        track.timeline_origin = media::TimelineOrigin(probe);
        track.min_ssim.reset();
        media::ProbeResult track_probe = probe;
        track_probe.audio_stream = stream;
        media::DecodeOptions track_options = options;
        track_options.audio_stream = stream;
        VG_ASSIGN_OR_RETURN(RenditionJob t,
                            StartRendition(track, track_probe, path, track_options, *out.work_dir));
        t.alternate_of = spec.name;
        t.label = label;
        t.language = st && st->language ? ShortLanguageTag(*st->language) : "und";
        t.source_stream = stream;
        t.track_sink = std::make_unique<SoundTrackSink>(stream, t.encoder.get());
        extra.push_back(t.track_sink.get());
        renditions.push_back(std::move(t));
      }
    }
    if (outputs_.thumbnails && probe.HasVideo()) {
      VG_RETURN_IF_ERROR(MakeDirs(out.work_dir->path + "/thumbnails"));
      media::ThumbnailSpec spec;
      spec.count = outputs_.thumbnail_count;
      if (!outputs_.sprite) spec.sprite_tiles = 0;
      if (const media::StreamInfo* video = probe.VideoStream()) {
        spec.rotation = video->rotation;
        spec.colour = video->colour;
      }
      thumbnails = std::make_unique<media::Thumbnailer>(out.work_dir->path + "/thumbnails",
                                                        probe.PlayingSeconds(), spec);
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
    out.fingerprint = std::move(analysis->fingerprint);
    // What each rendition holds, as measured while it was made, and how
    // much it lost against its minimum.
    nlohmann::json figures = nlohmann::json::array();
    for (const auto& r : renditions) {
      nlohmann::json quality = nullptr;
      if (const std::optional<media::QualityFigures> q = r.encoder->quality()) {
        quality = q->SummaryJson();
        quality["min_ssim"] = r.min_ssim ? nlohmann::json(*r.min_ssim) : nlohmann::json(nullptr);
        // As long as the video: a wild timestamp does not stretch them.
        const double length = probe.PlayingSeconds();
        const size_t seconds =
            length > 0 ? static_cast<size_t>(std::ceil(length)) + 1 : q->ssim_per_second.size();
        auto series_of = [&](std::vector<std::optional<double>> values) {
          if (values.size() > seconds) values.resize(seconds);
          return OptionalsToJson(values);
        };
        nlohmann::json& series = out.qc["series"];
        series["ssim_" + r.name] = series_of(q->ssim_per_second);
        series["psnr_" + r.name] = series_of(q->psnr_per_second);
        if (r.min_ssim) {
          // Not measured is not passed.
          qc::AddCheck(out.qc, policy_, "rendition_quality", q->ssim && *q->ssim >= *r.min_ssim,
                       q->ssim ? fmt::format("rendition {}: SSIM {:.4f} (minimum {:.4f}), PSNR "
                                             "{:.1f} dB",
                                             r.name, *q->ssim, *r.min_ssim, q->psnr.value_or(0))
                               : fmt::format("rendition {}: its quality cannot be measured (no "
                                             "picture of 8x8 or more to compare; minimum SSIM "
                                             "{:.4f})",
                                             r.name, *r.min_ssim));
        }
      }
      nlohmann::json entry = {{"name", r.name},
                              {"key", r.key},
                              {"dynamic_range", r.encoder->dynamic_range()},
                              {"quality", std::move(quality)},
                              {"loudness", r.encoder->LoudnessJson()},
                              {"sound_track", nullptr},
                              {"sound_tracks_of", nullptr}};
      // A rendition whose further tracks are made (or shared) as sound-only
      // renditions names the rendition they are named after.
      if (const auto shares = tracks_of.find(r.name);
          r.alternate_of.empty() && !further.empty() && shares != tracks_of.end()) {
        entry["sound_tracks_of"] = shares->second;
      }
      if (!r.alternate_of.empty()) {
        entry["sound_track"] = {{"stream", r.source_stream},
                                {"language", r.language},
                                {"alternate_of", r.alternate_of}};
      }
      figures.push_back(std::move(entry));
    }
    if (!figures.empty()) out.qc["renditions"] = std::move(figures);
    std::vector<WrittenCaption> written_captions;
    std::vector<CaptionSource> caption_sources =
        ReadSidecarCaptions(captions, probe.PlayingSeconds());
    if (subtitle_streams) {
      for (auto& c : EmbeddedCaptions(probe, subtitle_streams->cues(), probe.PlayingSeconds())) {
        caption_sources.push_back(std::move(c));
      }
    }
    if (!caption_sources.empty()) {
      VG_ASSIGN_OR_RETURN(written_captions,
                          WriteCaptions(caption_sources, SpeechSpans(out.qc, AudioSeconds(probe)),
                                        out.work_dir->path, policy_, out.qc));
    }
    std::map<int, std::vector<std::string>> sound_tracks;
    for (const auto& r : renditions) {
      if (r.source_stream >= 0 && !r.encoder->audio_codec().empty()) {
        sound_tracks[r.source_stream].push_back(r.key);
      }
    }
    ReportTracks(probe, analysis->stats.video_stream, analysis->stats.audio_stream, sound_tracks,
                 written_captions, policy_, out.qc);
    {
      const qc::Judgement judged = qc::Judge(out.qc["checks"]);
      out.verdict = judged.verdict;
      out.summary = judged.summary;
      out.qc["verdict"] = out.verdict;
    }
    if (out.verdict == "reject") return out;  // nothing of it is published

    std::vector<media::HlsVariant> variants;
    std::vector<media::HlsAudio> alternates;
    std::map<std::string, std::pair<int64_t, int64_t>> group_rates;  // peak, average
    for (const auto& r : renditions) {
      // A further track that gave no sound (nothing decodable) is no
      // rendition: left out, as `tracks` says.
      if (!r.alternate_of.empty() && r.encoder->audio_codec().empty()) continue;
      VG_ASSIGN_OR_RETURN(catalog::Output o, CheckRendition(r.local, r.key, *r.encoder));
      out.files.push_back(ProducedFile{r.local, r.key, o});
      if (r.hls_dir.empty()) continue;
      VG_ASSIGN_OR_RETURN(media::HlsVariant v, CollectHls(r, out));
      if (r.alternate_of.empty()) {
        variants.push_back(std::move(v));
      } else {
        alternates.push_back(
            media::HlsAudio{"audio-" + r.alternate_of, r.label, r.language, v.uri, false});
        // A variant's BANDWIDTH counts the heaviest sound it may play with.
        auto& [peak, average] = group_rates["audio-" + r.alternate_of];
        peak = std::max(peak, v.peak_bit_rate);
        average = std::max(average, v.average_bit_rate);
      }
    }
    // A rendition with further sound tracks: its own sound (in its
    // playlist) is the group's default, the others are alternates.
    const media::StreamInfo* sound = probe.AudioStream();
    const std::string main_language =
        sound && sound->language ? ShortLanguageTag(*sound->language) : "und";
    const std::string main_label = MainSoundLabel(probe);
    std::set<std::string> groups_with_default;
    for (auto& v : variants) {
      const auto shares = tracks_of.find(v.uri.substr(0, v.uri.find('/')));
      if (shares == tracks_of.end()) continue;
      const std::string group = "audio-" + shares->second;
      if (std::none_of(alternates.begin(), alternates.end(),
                       [&](const media::HlsAudio& a) { return a.group == group; })) {
        continue;
      }
      v.audio_group = group;
      v.peak_bit_rate += group_rates[group].first;
      v.average_bit_rate += group_rates[group].second;
      // The default has no URI: each variant's own sound, made alike.
      if (groups_with_default.insert(group).second) {
        alternates.insert(alternates.begin(),
                          media::HlsAudio{group, main_label, main_language, "", true});
      }
    }
    for (const auto& c : written_captions) {
      auto probed = media::Probe(c.local);
      if (!probed.ok()) {
        return Internal("the caption file " + c.key +
                        " did not probe: " + probed.status().message());
      }
      out.files.push_back(ProducedFile{c.local, c.key, Describe(*probed)});
    }
    if (!variants.empty()) {
      std::vector<media::HlsSubtitles> subtitles;
      for (const auto& c : written_captions) {
        const std::string relative = "subtitles/" + c.label + ".m3u8";
        const std::string local = out.work_dir->path + "/hls/" + relative;
        VG_RETURN_IF_ERROR(MakeDirs(out.work_dir->path + "/hls/subtitles"));
        // From hls/subtitles/ up to the video's own folder.
        VG_RETURN_IF_ERROR(WriteLocalFile(
            local, media::HlsSubtitlePlaylist("../../" + c.key, probe.PlayingSeconds())));
        out.files.push_back(ProducedFile{local, "hls/" + relative, {}, /*record=*/false});
        subtitles.push_back(media::HlsSubtitles{relative, c.label, c.language});
      }
      const std::string master = out.work_dir->path + "/hls/master.m3u8";
      VG_RETURN_IF_ERROR(
          WriteLocalFile(master, media::HlsMasterPlaylist(variants, subtitles, alternates)));
      auto probed = media::Probe(master);
      if (!probed.ok()) {
        return Internal("the HLS master playlist did not probe: " + probed.status().message());
      }
      catalog::Output o = Describe(*probed);
      o.codec = "hls";
      out.files.push_back(ProducedFile{master, "hls/master.m3u8", o});
    }
    if (thumbnails) {
      for (const auto& image_name : thumbnails->files()) {
        const std::string local = out.work_dir->path + "/thumbnails/" + image_name;
        auto image = media::Probe(local);
        if (!image.ok() || image->streams.empty()) {
          return Internal("the thumbnail " + image_name + " did not probe");
        }
        out.files.push_back(ProducedFile{local, "thumbnails/" + image_name, Describe(*image)});
      }
    }
    return out;
  }

  // Sets up rendition `spec` of the source at `path`: its MP4 and, with
  // HLS, its folder in the work folder.
  Result<RenditionJob> StartRendition(const media::RenditionSpec& spec,
                                      const media::ProbeResult& probe, const std::string& path,
                                      const media::DecodeOptions& options,
                                      const WorkDir& work_dir) const {
    RenditionJob r;
    r.key = "renditions/" + spec.name + ".mp4";
    r.local = work_dir.path + "/" + r.key;
    VG_RETURN_IF_ERROR(MakeDirs(work_dir.path + "/renditions"));
    media::HlsOutput hls;
    if (outputs_.hls) {
      r.hls_dir = work_dir.path + "/hls/" + spec.name;
      VG_RETURN_IF_ERROR(MakeDirs(r.hls_dir));
      hls = {r.hls_dir, outputs_.hls_segment_seconds};
    }
    r.name = spec.name;
    r.min_ssim = spec.min_ssim;
    VG_ASSIGN_OR_RETURN(
        r.encoder, media::RenditionEncoder::Create(r.local, spec, probe, hls, {path, options}));
    return r;
  }

  // Publishes a rendition's HLS folder; its entry for the master.
  static Result<media::HlsVariant> CollectHls(const RenditionJob& r, StageResult& out) {
    const std::string name = std::filesystem::path(r.hls_dir).filename().string();
    const std::string playlist = r.hls_dir + "/index.m3u8";
    VG_ASSIGN_OR_RETURN(catalog::Output o,
                        CheckRendition(playlist, "hls/" + name + "/index.m3u8", *r.encoder));
    VG_ASSIGN_OR_RETURN(media::SegmentBitRates rates, media::MeasureMediaPlaylist(playlist));
    // Segments and the init section are published beside their playlist.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(r.hls_dir, ec)) {
      const std::string file = entry.path().filename().string();
      if (file == "index.m3u8") continue;
      out.files.push_back(
          ProducedFile{entry.path().string(), "hls/" + name + "/" + file, {}, /*record=*/false});
    }
    if (ec) return ErrnoStatus(ec.value(), "list", r.hls_dir);
    out.files.push_back(ProducedFile{playlist, "hls/" + name + "/index.m3u8", o});
    return media::HlsVariant{name + "/index.m3u8",    rates.peak,
                             rates.average,           r.encoder->width(),
                             r.encoder->height(),     r.encoder->frame_rate(),
                             r.encoder->hls_codecs(), VideoRange(r.encoder->dynamic_range()),
                             /*audio_group=*/""};
  }

  qc::Policy policy_;
  OutputOptions outputs_;
  std::string work_root_;
};

}  // namespace

WorkDir::~WorkDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

std::unique_ptr<MediaStage> NewQcStage(qc::Policy policy, OutputOptions outputs,
                                       std::string work_root) {
  return std::make_unique<QcStage>(std::move(policy), std::move(outputs), std::move(work_root));
}

}  // namespace vidgate::pipeline
