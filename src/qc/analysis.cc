#include "qc/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>

#include "media/threaded_sink.h"
#include "qc/black_detector.h"
#include "qc/clipping_detector.h"
#include "qc/colour_checks.h"
#include "qc/freeze_detector.h"
#include "qc/interlace_detector.h"
#include "qc/internal/luma_facts.h"
#include "qc/loudness_meter.h"
#include "qc/range_checker.h"
#include "qc/silence_detector.h"
#include "qc/video_series.h"

namespace vidgate::qc {
namespace {

std::string Segments(const std::vector<Segment>& segments) {
  std::string out;
  for (size_t i = 0; i < segments.size() && i < 3; ++i) {
    out += fmt::format("{}{:.2f}-{:.2f} s", i ? ", " : "", segments[i].start, segments[i].end);
  }
  if (segments.size() > 3) out += fmt::format(" and {} more", segments.size() - 3);
  return out;
}

// Collects the checks in report order and derives the verdict.
class CheckList {
 public:
  explicit CheckList(const Policy& policy) : policy_(policy) {}

  void Add(const std::string& id, bool passed, const std::string& message) {
    Severity s = policy_.SeverityOf(id);
    if (s == Severity::kOff) return;
    checks_.push_back({{"id", id},
                       {"severity", std::string(SeverityName(s))},
                       {"status", passed ? "pass" : "fail"},
                       {"message", message}});
  }

  Judgement Judged() const { return Judge(checks_); }
  const nlohmann::json& json() const { return checks_; }

 private:
  const Policy& policy_;
  nlohmann::json checks_ = nlohmann::json::array();
};

// Picture sizes refused whatever the policy, before any decoding: more than
// 16384 pixels a side (the most libx264, which writes the default rendition,
// accepts) or than 8192x8192 in all (the cap media::DecodePass puts on its
// decoders). Such a size in a header is damage or hostility, and decoding it
// would allocate frames of gigabytes.
constexpr int64_t kMaxSide = 16384;
constexpr int64_t kMaxPixels = media::kMaxDecodedPixels;

// Kilobits per second of the decoded streams' packets, one value a second,
// as long as the file lasts: a damaged timestamp far out does not stretch it.
nlohmann::json BitRateSeries(const media::DecodeStats& stats, const media::ProbeResult& probe) {
  const double length = std::max({probe.PlayingSeconds(), stats.video_end, stats.audio_end});
  const auto seconds =
      std::min(stats.bytes_per_second.size(), static_cast<size_t>(std::ceil(length)) + 1);
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < seconds; ++i) {
    out.push_back(static_cast<double>(stats.bytes_per_second[i]) * 8 / 1000);
  }
  return out;
}

// The video stream the decode pass takes.
const media::StreamInfo* BestVideo(const media::ProbeResult& probe) { return probe.VideoStream(); }

// The declared duration of the stream of `type` the pass decodes.
std::optional<double> StreamDuration(const media::ProbeResult& probe, const std::string& type) {
  const media::StreamInfo* s = type == "video" ? probe.VideoStream() : probe.AudioStream();
  return s ? s->duration : std::nullopt;
}

// Where the streams start against each other and where they have holes,
// on the pictures' timeline (seconds from the video's first timestamp; the
// audio's when there is no video).
struct AvSync {
  nlohmann::json json;
  std::string problems;  // "" when they start together without holes
};
AvSync MeasureAvSync(const media::ProbeResult& probe, const media::DecodeStats& stats) {
  constexpr double kStartTolerance = 0.1;  // an AAC encoder's priming is 0.02 s
  const media::StreamInfo* video = BestVideo(probe);
  const media::StreamInfo* audio = probe.AudioStream();
  AvSync out;
  const double origin = video ? video->start_time : audio ? audio->start_time : 0;
  std::optional<double> offset;
  if (video && audio && stats.video_frames > 0 && stats.audio_frames > 0) {
    offset = audio->start_time - video->start_time;
    if (std::abs(*offset) > kStartTolerance) {
      out.problems = fmt::format("audio starts {:.2f} s {} the video", std::abs(*offset),
                                 *offset > 0 ? "after" : "before");
    }
  }
  nlohmann::json gaps = nlohmann::json::array();
  for (const auto& g : stats.gaps) {
    const media::StreamInfo* st = g.kind == "video" ? video : audio;
    const double shift = st ? st->start_time - origin : 0;
    gaps.push_back({{"stream", g.kind}, {"start", g.start + shift}, {"end", g.end + shift}});
    if (gaps.size() <= 3) {
      out.problems +=
          fmt::format("{}{} has nothing from {:.2f} to {:.2f} s", out.problems.empty() ? "" : "; ",
                      g.kind, g.start + shift, g.end + shift);
    }
  }
  if (gaps.size() > 3) out.problems += fmt::format(" and {} more holes", gaps.size() - 3);
  out.json = {{"audio_offset", offset ? nlohmann::json(*offset) : nlohmann::json(nullptr)},
              {"gaps", std::move(gaps)}};
  return out;
}

}  // namespace

Judgement Judge(const nlohmann::json& checks) {
  std::string errors, warnings;
  for (const auto& c : checks) {
    if (!c.is_object() || c.value("status", "") != "fail") continue;
    std::string& into = c.value("severity", "") == "error" ? errors : warnings;
    into += (into.empty() ? "" : "; ") + c.value("message", "");
  }
  if (!errors.empty()) return {"reject", errors};
  return {warnings.empty() ? "pass" : "warn", warnings};
}

void AddCheck(nlohmann::json& report, const Policy& policy, const std::string& id, bool passed,
              const std::string& message) {
  const Severity severity = policy.SeverityOf(id);
  if (severity == Severity::kOff) return;
  nlohmann::json& checks = report["checks"];
  if (!checks.is_array()) checks = nlohmann::json::array();
  checks.push_back({{"id", id},
                    {"severity", std::string(SeverityName(severity))},
                    {"status", passed ? "pass" : "fail"},
                    {"message", message}});
}

nlohmann::json UndecodedReport() {
  return {{"verdict", "pass"},
          {"checks", nlohmann::json::array()},
          {"video",
           {{"black_segments", nlohmann::json::array()},
            {"freeze_segments", nlohmann::json::array()},
            {"decode_errors", 0}}},
          {"audio",
           {{"silence_segments", nlohmann::json::array()}, {"loudness", LoudnessMeter().ToJson()}}},
          {"series", nlohmann::json::object()},
          {"decoded", false}};
}

std::optional<Analysis> CheckProbeLimits(const media::ProbeResult& probe, const Policy& policy) {
  std::vector<std::pair<std::string, std::string>> broken;  // check id, message
  // A stream the policy requires that the file does not even declare: no
  // decoding can change that answer.
  if (policy.SeverityOf("video_present") == Severity::kError && !probe.HasVideo()) {
    broken.emplace_back("video_present", "the file has no video stream");
  }
  if (policy.SeverityOf("audio_present") == Severity::kError && !probe.HasAudio()) {
    broken.emplace_back("audio_present", "the file has no audio stream");
  }
  for (const auto& st : probe.streams) {
    if (st.type != "video") continue;
    const int64_t width = st.width.value_or(0), height = st.height.value_or(0);
    if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels) {
      broken.emplace_back(
          "probe_limits",
          fmt::format(
              "video stream #{} claims a {}x{} picture, larger than vidgate processes (at most {} "
              "pixels a side and {}x{} in all)",
              st.index, width, height, kMaxSide, media::kMaxDecodedSquare,
              media::kMaxDecodedSquare));
    } else if (policy.max_height > 0 && height > policy.max_height) {
      broken.emplace_back(
          "probe_limits",
          fmt::format("video is {} lines high, over the limit of {}", height, policy.max_height));
    }
    // 4:2:0 needs two pixels a side, and pictures are never upscaled: a
    // picture under 2x2 can give no rendition (it used to give a 2x2 one).
    if (st.index == probe.video_stream && width > 0 && height > 0 && (width < 2 || height < 2)) {
      broken.emplace_back(
          "probe_limits",
          fmt::format("video stream #{} is {}x{}: a picture needs at least 2x2 pixels to be "
                      "encoded, and pictures are never upscaled",
                      st.index, width, height));
    }
    const auto& allowed = policy.allowed_video_codecs;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), st.codec) == allowed.end()) {
      broken.emplace_back("probe_limits", "video codec " + st.codec + " is not allowed");
    }
  }
  const double duration = probe.PlayingSeconds();
  if (policy.max_duration_seconds > 0 && duration > policy.max_duration_seconds) {
    broken.emplace_back("probe_limits", fmt::format("duration {:.1f} s is over the limit of {:g} s",
                                                    duration, policy.max_duration_seconds));
  }
  if (broken.empty()) return std::nullopt;
  Analysis out;
  out.verdict = "reject";
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& [id, m] : broken) {
    out.summary += (out.summary.empty() ? "" : "; ") + m;
    checks.push_back({{"id", id}, {"severity", "error"}, {"status", "fail"}, {"message", m}});
  }
  out.report = UndecodedReport();
  out.report["verdict"] = "reject";
  out.report["policy"] = policy.name;
  out.report["checks"] = checks;
  return out;
}

Result<Analysis> Analyse(const std::string& path, const media::ProbeResult& probe,
                         const Policy& policy, const media::DecodeOptions& options,
                         const std::vector<media::FrameSink*>& extra_sinks) {
  // Each frame's luma swept once for the black, range, interlace, luma and
  // motion analysers.
  const BlackOptions black_options{0.10, 0.98, policy.black_min_seconds};
  const InterlaceOptions interlace_options;
  internal::LumaFacts luma_facts(black_options.pixel_threshold,
                                 {interlace_options.threshold, interlace_options.row_step});
  BlackDetector black(black_options, &luma_facts);
  FreezeDetector freeze(FreezeOptions{0.001, policy.freeze_min_seconds});
  RangeChecker range(&luma_facts);
  InterlaceDetector interlace(interlace_options, &luma_facts);
  LuminanceSeries luma(&luma_facts);
  MotionSeries motion(&luma_facts);
  SilenceDetector silence(SilenceOptions{0.001, policy.silence_min_seconds});
  LoudnessMeter loudness;
  ClippingDetector clipping;
  const media::StreamInfo* best_video = BestVideo(probe);
  Fingerprinter fingerprinter(best_video ? best_video->rotation : 0);
  // The analysers on one thread and each extra sink (an encoder, the
  // thumbnailer) on its own, so that their work overlaps the decoding and
  // each other's. The lanes are declared after the sinks they call, so they
  // stop before those go.
  std::vector<std::unique_ptr<media::ThreadedSink>> lanes;
  lanes.push_back(std::make_unique<media::ThreadedSink>(
      std::vector<media::FrameSink*>{&luma_facts, &black, &freeze, &range, &interlace, &luma,
                                     &motion, &silence, &loudness, &clipping, &fingerprinter}));
  for (media::FrameSink* extra : extra_sinks) {
    lanes.push_back(std::make_unique<media::ThreadedSink>(std::vector<media::FrameSink*>{extra}));
  }
  std::vector<media::FrameSink*> sinks;
  for (const auto& lane : lanes) sinks.push_back(lane.get());
  VG_ASSIGN_OR_RETURN(media::DecodeStats stats, media::DecodePass(path, sinks, options));

  Analysis out;
  out.stats = stats;
  out.fingerprint = fingerprinter.result();
  CheckList checks(policy);
  const bool has_video = stats.video_frames > 0;
  const bool has_audio = stats.audio_frames > 0;
  checks.Add("video_present", has_video,
             has_video ? "the file has a video stream" : "the file has no decodable video stream");
  const int64_t frames = stats.video_frames + stats.audio_frames;
  const double error_ratio =
      frames > 0 ? static_cast<double>(stats.decode_errors) / static_cast<double>(frames) : 0;
  checks.Add(
      "decode_errors", error_ratio <= policy.max_decode_error_ratio,
      fmt::format("{} decode errors in {} frames ({:.1f} %, limit {:.1f} %)", stats.decode_errors,
                  frames, error_ratio * 100, policy.max_decode_error_ratio * 100));
  if (has_video) {
    const auto& b = black.result().segments;
    checks.Add("black", b.empty(), b.empty() ? "no black segment" : "black at " + Segments(b));
    const auto& f = freeze.result().segments;
    checks.Add("freeze", f.empty(), f.empty() ? "no frozen segment" : "frozen at " + Segments(f));
    const auto& r = range.result();
    const double outside = std::max(r.luma_outside_share(), r.chroma_outside_share());
    checks.Add("broadcast_range", outside <= policy.max_range_outside_share,
               r.frames == 0
                   ? "full-range video: no broadcast range to check"
                   : fmt::format("{:.3f} % of luma and {:.3f} % of chroma samples outside "
                                 "the legal range",
                                 r.luma_outside_share() * 100, r.chroma_outside_share() * 100));
    const FieldOrder order = interlace.result().verdict;
    const bool interlaced =
        order == FieldOrder::kTopFieldFirst || order == FieldOrder::kBottomFieldFirst;
    checks.Add("interlace", !interlaced, std::string("field order: ") + FieldOrderName(order));
    if (const media::StreamInfo* v = BestVideo(probe); v && v->colour) {
      const ColourJudgement tags = JudgeColourTags(*v->colour, v->pix_fmt.value_or(""));
      checks.Add("colour_tags", tags.passed, tags.message);
      if (auto hdr = JudgeHdrMetadata(*v->colour)) {
        checks.Add("hdr_metadata", hdr->passed, hdr->message);
      }
    }
  }
  checks.Add("audio_present", has_audio,
             has_audio ? "the file has an audio stream" : "the file has no audio stream");
  // Silence ends where the audio does: a codec's last frame is decoded
  // whole, past the end the container cuts it at.
  std::vector<Segment> silent;
  const std::optional<double> audio_length = StreamDuration(probe, "audio");
  // Only a codec's overshoot: a declared length far short of what decoded
  // is a lying header, not the end of the sound.
  const bool overshoot = audio_length && stats.audio_end - *audio_length < 0.5;
  for (Segment seg : silence.result().segments) {
    if (overshoot && *audio_length > seg.start) seg.end = std::min(seg.end, *audio_length);
    if (seg.end - seg.start >= policy.silence_min_seconds - 1e-9) silent.push_back(seg);
  }
  if (has_audio) {
    const auto& s = silent;
    checks.Add("silence", s.empty(), s.empty() ? "no silent segment" : "silent at " + Segments(s));
    const auto& l = loudness.result();
    if (l.integrated_lufs) {
      const double off = *l.integrated_lufs - policy.loudness_target_lufs;
      checks.Add("loudness", std::abs(off) <= policy.loudness_tolerance_lu,
                 fmt::format("integrated loudness {:.1f} LUFS (target {:.1f} ± {:.1f} LU)",
                             *l.integrated_lufs, policy.loudness_target_lufs,
                             policy.loudness_tolerance_lu));
    } else {
      // Not measured is not passed: under a preset that requires the level,
      // a near-silent file fails rather than slipping through unjudged.
      checks.Add("loudness", false,
                 fmt::format("integrated loudness cannot be measured: no 400 ms of the audio is "
                             "above the -70 LUFS gate (near silence; target {:.1f} LUFS)",
                             policy.loudness_target_lufs));
    }
    // Digital silence has no peak at all, which is within any limit.
    checks.Add("true_peak", !l.true_peak_dbtp || *l.true_peak_dbtp <= policy.max_true_peak_dbtp,
               l.true_peak_dbtp ? fmt::format("true peak {:.1f} dBTP (limit {:.1f})",
                                              *l.true_peak_dbtp, policy.max_true_peak_dbtp)
                                : std::string("true peak: digital silence"));
    const double clipped = clipping.result().share();
    checks.Add("clipping", clipped <= policy.max_clipped_share,
               fmt::format("{} clipped samples ({:.3f} %)", clipping.result().total_clipped(),
                           clipped * 100));
  }
  // A file cut short decodes to less than its container declares. Each
  // decoded stream against its own declared duration (both from the
  // stream's start, so a stream starting late is no matter); not when the
  // durations are guesses from the bit rate. The tolerance covers encoder
  // delay and rounded durations.
  if (!probe.format.duration_estimated && frames > 0) {
    std::string shortest;
    bool complete = true, judged = false;
    for (const auto& [kind, decoded, present] : {std::tuple{"video", stats.video_end, has_video},
                                                 std::tuple{"audio", stats.audio_end, has_audio}}) {
      // Without a duration of its own (Matroska), the container's, with a
      // second more of slack for a stream that starts late.
      std::optional<double> declared = StreamDuration(probe, kind);
      double slack = 0.5;
      if (!declared || *declared <= 0) {
        declared = probe.format.duration;
        if (declared) *declared -= probe.format.lead_in;  // counted from zero, not the start
        slack = 1.0;
      }
      if (!present || !declared || *declared <= 0) continue;
      judged = true;
      const bool whole = decoded >= *declared - std::max(slack, 0.02 * *declared);
      if (!whole || shortest.empty()) {
        shortest = fmt::format("{} decoded {:.2f} s of the {:.2f} s the container declares", kind,
                               decoded, *declared);
      }
      complete = complete && whole;
    }
    if (judged) checks.Add("truncated", complete, shortest);
  }
  if (has_video && has_audio) {
    auto v = StreamDuration(probe, "video");
    auto a = StreamDuration(probe, "audio");
    if (v && a) {
      const double diff = std::abs(*v - *a);
      checks.Add("av_duration", diff <= policy.max_av_duration_mismatch_seconds,
                 fmt::format("video {:.2f} s, audio {:.2f} s", *v, *a));
    }
  }
  const AvSync sync = MeasureAvSync(probe, stats);
  checks.Add("av_sync", sync.problems.empty(),
             sync.problems.empty() ? std::string("the streams start together, without holes")
                                   : sync.problems);

  Judgement judged = checks.Judged();
  out.verdict = std::move(judged.verdict);
  out.summary = std::move(judged.summary);
  auto on = [&](const char* id) { return policy.SeverityOf(id) != Severity::kOff; };
  nlohmann::json video = {
      {"frames", stats.video_frames},
      {"decode_errors", stats.decode_errors},
      {"black_segments",
       on("black") ? SegmentsToJson(black.result().segments) : nlohmann::json::array()},
      {"freeze_segments",
       on("freeze") ? SegmentsToJson(freeze.result().segments) : nlohmann::json::array()},
      {"range", range.ToJson()},
      {"interlace", interlace.ToJson()},
  };
  if (stats.first_error_time) video["first_error_time"] = *stats.first_error_time;
  nlohmann::json audio = {
      {"frames", stats.audio_frames},
      {"silence_segments", on("silence") ? SegmentsToJson(silent) : nlohmann::json::array()},
      {"loudness", loudness.ToJson()},
      {"clipping", clipping.ToJson()},
  };
  out.report = {{"av_sync", sync.json},
                {"verdict", out.verdict},
                {"policy", policy.name},
                {"checks", checks.json()},
                {"video", std::move(video)},
                {"audio", std::move(audio)},
                {"series",
                 {{"luma", luma.ToJson()},
                  {"motion", motion.ToJson()},
                  {"loudness_momentary", loudness.SeriesJson()},
                  {"range_outside", range.SeriesJson()},
                  {"bit_rate", BitRateSeries(stats, probe)}}}};
  return out;
}

}  // namespace vidgate::qc
