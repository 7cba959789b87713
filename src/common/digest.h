// digest.h: message digests of bytes that arrive in pieces, several at once
// (md5, sha1, sha256, sha512; OpenSSL's EVP), for the fixity of originals
// and filed files: one read of a file feeds every algorithm asked for.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace vidgate {

// The algorithms a sidecar may declare, by their names there.
const std::vector<std::string>& DigestAlgorithms();

// Whether `text` is a digest of `algorithm` as people write it: hex of the
// right length (either case). False for an unknown algorithm.
bool IsHexDigestOf(std::string_view algorithm, std::string_view text);

// Digests of one stream of bytes under several algorithms.
class MultiDigest {
 public:
  // kInvalidArgument naming an unknown algorithm.
  static Result<MultiDigest> Create(const std::vector<std::string>& algorithms);
  MultiDigest(MultiDigest&&) noexcept;
  MultiDigest& operator=(MultiDigest&&) noexcept;
  ~MultiDigest();

  void Update(std::string_view piece);
  // Lower-case hex digest per algorithm; the digest is spent after it.
  std::map<std::string, std::string> Finish();

 private:
  struct Impl;
  explicit MultiDigest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a file read for its digests gave.
struct FileDigests {
  int64_t size = 0;
  std::map<std::string, std::string> hex;  // algorithm -> lower-case hex
};

// Reads the local file `path` once, start to end, feeding each algorithm.
// `should_stop` (may be empty) is asked between reads; a non-ok answer ends
// the read with it. kNotFound / kPermissionDenied / kUnavailable (an I/O
// error) name the path.
Result<FileDigests> DigestFile(const std::string& path, const std::vector<std::string>& algorithms,
                               const std::function<Status()>& should_stop = {});

}  // namespace vidgate
