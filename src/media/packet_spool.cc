#include "media/packet_spool.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace vidgate::media {
namespace {

// Each record: this header, then `size` bytes.
struct Record {
  int64_t pts, dts, duration;
  int32_t flags, size;
};

}  // namespace

Result<std::unique_ptr<PacketSpool>> PacketSpool::Create(const std::string& path) {
  std::unique_ptr<PacketSpool> spool(new PacketSpool(path));
  spool->file_.reset(std::fopen(path.c_str(), "w+b"));
  if (!spool->file_) return ErrnoStatus(errno, "create", path);
  return spool;
}

PacketSpool::~PacketSpool() {
  file_.reset();
  std::remove(path_.c_str());
}

Status PacketSpool::Append(const AVPacket& packet) {
  const Record r{packet.pts, packet.dts, packet.duration, packet.flags, packet.size};
  if (std::fwrite(&r, sizeof r, 1, file_.get()) != 1 ||
      (packet.size > 0 &&
       std::fwrite(packet.data, static_cast<size_t>(packet.size), 1, file_.get()) != 1)) {
    return ErrnoStatus(errno, "write", path_);
  }
  return Status();
}

Status PacketSpool::Rewind() {
  if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0) {
    return ErrnoStatus(errno, "read back", path_);
  }
  return Status();
}

Result<bool> PacketSpool::Next(AVPacket* out) {
  av_packet_unref(out);
  Record r{};
  const size_t got = std::fread(&r, sizeof r, 1, file_.get());
  if (got != 1) {
    if (std::ferror(file_.get())) return ErrnoStatus(errno, "read back", path_);
    return false;
  }
  if (r.size < 0 || av_new_packet(out, r.size) < 0) {
    return ResourceExhausted("cannot read back a packet of " + path_);
  }
  if (r.size > 0 && std::fread(out->data, static_cast<size_t>(r.size), 1, file_.get()) != 1) {
    return Internal("a packet of " + path_ + " was cut short");
  }
  out->pts = r.pts;
  out->dts = r.dts;
  out->duration = r.duration;
  out->flags = r.flags;
  return true;
}

}  // namespace vidgate::media
