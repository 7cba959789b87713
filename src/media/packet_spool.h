// packet_spool.h: encoded packets set aside in a local file and read back in
// order, exactly as they were (timestamps, duration, key flag, bytes); for a
// rendition whose video waits for its sound. A container would do, but
// demuxers guess at timestamps (NUT and Matroska drop the decode times of
// reordered frames).
#pragma once

extern "C" {
#include <libavcodec/packet.h>
}

#include <cstdio>
#include <memory>
#include <string>

#include "common/status.h"

namespace vidgate::media {

class PacketSpool {
 public:
  // Creates (truncating) `path` for writing.
  static Result<std::unique_ptr<PacketSpool>> Create(const std::string& path);
  ~PacketSpool();  // closes, and removes the file
  PacketSpool(const PacketSpool&) = delete;
  PacketSpool& operator=(const PacketSpool&) = delete;

  Status Append(const AVPacket& packet);
  // Ends the writing; packets are then read from the first on.
  Status Rewind();
  // The next packet into `out` (unref'd first); false at the end.
  Result<bool> Next(AVPacket* out);

 private:
  explicit PacketSpool(std::string path) : path_(std::move(path)) {}
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileClose> file_;
};

}  // namespace vidgate::media
