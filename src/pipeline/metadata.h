// metadata.h: the metadata gate's check of a sidecar.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace vidgate::pipeline {

inline constexpr int64_t kMaxSidecarBytes = 1 << 20;
inline constexpr int kMaxSidecarDepth = 32;

// Parses and checks a sidecar: a JSON object of at most 1 MiB, nested at most
// 32 deep, where every key in `required` is present and non-empty (not null,
// "", [] or {}), and whose "checksum", if any, is well formed (see
// DeclaredChecksums). kInvalidArgument with one sentence naming the problem.
Result<nlohmann::json> ValidateSidecar(std::string_view bytes,
                                       const std::vector<std::string>& required);

}  // namespace vidgate::pipeline
