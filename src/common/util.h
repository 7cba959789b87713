// util.h: small helpers shared by every block: time stamps, ids, hashing,
// whole local files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace vidgate {

// RFC 3339 UTC with milliseconds: "2026-11-24T22:06:25.123Z".
std::string FormatTime(double epoch_seconds);
// "2026-11-30T13:00:00Z" (fractions and offsets accepted) as seconds since
// the epoch; nullopt if it is not such a time.
std::optional<double> ParseIso8601(std::string_view text);

// A random RFC 4122 version 4 UUID from OpenSSL's CSPRNG.
std::string NewUuid();

// HMAC-SHA256(key, data): its 32 bytes, and their lower-case hex.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Standard base64 (RFC 4648, padded); Decode: kInvalidArgument if `text` is
// not that.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

// Lower-case hex of `bytes`.
std::string LowerHex(std::string_view bytes);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// SHA-256 of bytes that come in pieces (a file too big to hold).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view piece);
  // Lower-case hex of the digest; the hasher is spent after it.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

// The string member `key` of `object`, or "" when `object` is no object or
// the member is missing or not a string: JSON from outside (a queue, a
// peer) is read with this, never with json::value, which throws on a
// member of another type.
std::string JsonString(const nlohmann::json& object, std::string_view key);

// The host name, for worker ids and the CloudEvents source.
std::string HostName();

// The bytes of the local file `path`, at most `max_bytes` of them (what is
// beyond is not read). ErrnoStatus(errno, operation, path) when it cannot
// be opened.
Result<std::string> ReadLocalFile(const std::string& path, std::string_view operation = "read",
                                  size_t max_bytes = std::numeric_limits<size_t>::max());

// Creates or replaces the local file `path` with `bytes`; ErrnoStatus
// ("create" or "write", path) on failure.
Status WriteLocalFile(const std::string& path, std::string_view bytes);

}  // namespace vidgate
