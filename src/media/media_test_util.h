// media_test_util.h: test-only helpers for media/ tests. Fixtures are made at
// test time with the ffmpeg CLI from lavfi sources into a per-process
// temporary directory (removed at exit), so no media files live in the repo.
#pragma once

#include <string>

namespace vidgate::media::testing {

// The per-process scratch directory, created on first use.
const std::string& ScratchDir();

// ScratchDir() + "/" + name.
std::string ScratchPath(const std::string& name);

// Runs `command` through the shell; returns its stdout, sets *exit_code.
std::string RunCommand(const std::string& command, int* exit_code);

// Runs `ffmpeg -nostdin -v error -y ARGS OUTPUT`; returns "" on success or a
// description of the failure.
std::string RunFfmpeg(const std::string& args, const std::string& output);

// Common lavfi inputs.
std::string VideoSource(double seconds, int fps = 25);  // testsrc2 320x240
std::string AudioSource(double seconds);                // 440 Hz sine, 48 kHz

// ffmpeg arguments for 1 s of 720x480 H.264 with 32:27 pixels (NTSC DV
// shown 16:9): a source whose pixels are not square.
inline constexpr const char* kAnamorphicSource =
    "-f lavfi -i testsrc2=s=720x480:r=25:d=1 -vf setsar=32/27 -c:v libx264 -preset ultrafast";

// Writes `bytes` to `path`; returns false on failure.
bool WriteFile(const std::string& path, const std::string& bytes);

// Copies the first `fraction` of `src`'s bytes to `dst`; returns false on failure.
bool CopyPrefix(const std::string& src, const std::string& dst, double fraction);

}  // namespace vidgate::media::testing
