#include "media/media_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace vidgate::media::testing {
namespace {

class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vidgate-media-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

const std::string& ScratchDir() {
  static ScratchDirectory dir;
  return dir.path();
}

std::string ScratchPath(const std::string& name) { return ScratchDir() + "/" + name; }

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return out;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  *exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string RunFfmpeg(const std::string& args, const std::string& output) {
  std::string command =
      "ffmpeg -nostdin -hide_banner -v error -y " + args + " '" + output + "' 2>&1";
  int code = 0;
  std::string out = RunCommand(command, &code);
  if (code != 0) return "`" + command + "` failed (" + std::to_string(code) + "): " + out;
  return "";
}

std::string VideoSource(double seconds, int fps) {
  return "-f lavfi -i testsrc2=size=320x240:rate=" + std::to_string(fps) +
         ":duration=" + std::to_string(seconds);
}

std::string AudioSource(double seconds) {
  return "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=" + std::to_string(seconds);
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

bool CopyPrefix(const std::string& src, const std::string& dst, double fraction) {
  std::ifstream in(src, std::ios::binary);
  if (!in) return false;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(static_cast<size_t>(static_cast<double>(bytes.size()) * fraction));
  return WriteFile(dst, bytes);
}

}  // namespace vidgate::media::testing
