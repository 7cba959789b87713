// util.h: small helpers shared by every block: time stamps, ids, hashing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vidgate {

// RFC 3339 UTC with milliseconds: "2026-11-24T22:06:25.123Z".
std::string FormatTime(double epoch_seconds);

// A random RFC 4122 version 4 UUID from OpenSSL's CSPRNG.
std::string NewUuid();

// Lower-case hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// The host name, for worker ids and the CloudEvents source.
std::string HostName();

}  // namespace vidgate
