// log.h: the process logger. One line per event on stderr, as text or as one
// JSON object per line (--log-format json). Built once in app/main and passed
// to every block that logs; never a global.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string_view>

namespace vidgate {

enum class LogFormat { kText, kJson };

// Returns a logger writing to stderr in `format`. Thread-safe.
std::shared_ptr<spdlog::logger> MakeLogger(LogFormat format, spdlog::level::level_enum level);

// A logger that drops everything, for tests and quiet commands.
std::shared_ptr<spdlog::logger> NullLogger();

}  // namespace vidgate
