// thumbnailer.h: a FrameSink that keeps a poster, N evenly spaced thumbnails
// and a sprite sheet (small tiles at a regular interval, in one JPEG, with a
// WebVTT file that maps times to tiles for players' seek previews), from the
// frames of the one decode pass.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/colour.h"
#include "media/decode_pass.h"

namespace vidgate::media {

struct ThumbnailSpec {
  int count = 4;           // NNNN.jpg files, at (i + 0.5) / count of the duration
  int max_width = 640;     // never upscaled
  double poster_at = 0.1;  // share of the duration where the poster is taken
  // sprite.jpg + sprite.vtt: at most `sprite_tiles` tiles (0 = no sprite),
  // one every duration / sprite_tiles seconds but at most one a second,
  // `sprite_tile_width` wide (never upscaled), `sprite_columns` a row.
  int sprite_tiles = 100;
  int sprite_tile_width = 160;
  int sprite_columns = 10;
  // Degrees the pictures are turned clockwise for display (ProbeResult's
  // StreamInfo::rotation): the images come out as people see the video.
  int rotation = 0;
  // The stream's colour description (ProbeResult's StreamInfo::colour), for
  // what the frames leave unsaid; HDR pictures are tone-mapped.
  std::optional<ColourInfo> colour;
};

class Thumbnailer final : public FrameSink {
 public:
  // Writes `dir`/poster.jpg, `dir`/0001.jpg... for a video of
  // `duration_seconds` on the decoded timeline (ProbeResult::PlayingSeconds;
  // 0 if unknown: the poster is the first frame, and thumbnails and tiles
  // are taken every second). Each image is of the picture shown at its
  // time; times past the last picture get the last picture, so any video
  // with a picture gets its poster and every thumbnail.
  Thumbnailer(std::string dir, double duration_seconds, ThumbnailSpec spec = {});
  ~Thumbnailer() override;
  Thumbnailer(const Thumbnailer&) = delete;
  Thumbnailer& operator=(const Thumbnailer&) = delete;

  Status OnVideoFrame(const AVFrame& frame, double time_seconds) override;
  bool TakesAudio() const override { return false; }
  // Writes the sprite sheet and its WebVTT index.
  Status Finish() override;

  // The files written, relative to `dir` ("poster.jpg", "0001.jpg", ...,
  // "sprite.jpg", "sprite.vtt").
  const std::vector<std::string>& files() const { return files_; }

 private:
  // Writes the poster and thumbnails due before `until` from `frame`.
  Status WriteDue(const AVFrame& frame, double until);
  Status WriteJpeg(const AVFrame& frame, const std::string& name);
  Status EncodeJpeg(const AVFrame& picture, const std::string& name);
  Status AddTile(const AVFrame& frame);
  Status WriteSprite();

  std::string dir_;
  double duration_;
  ThumbnailSpec spec_;
  std::vector<double> times_;  // thumbnail times still to take, ascending
  bool poster_done_ = false;
  int next_index_ = 1;
  double tile_interval_ = 1;
  std::vector<std::string> files_;
  struct Encoder;
  std::unique_ptr<Encoder> enc_;
};

}  // namespace vidgate::media
