// fixity.h: the checksums a sidecar declares for its video, whether the
// original's bytes agree with them, and the BagIt manifest
// (manifest-sha256.txt) that lets anyone check a filed folder without
// vidgate.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace vidgate::pipeline {

// Where a filed folder's manifest sits, beside vidgate's other files.
inline constexpr std::string_view kManifestFile = "manifest-sha256.txt";

// algorithm ("md5", "sha1", "sha256", "sha512") -> lower-case hex digest.
using Checksums = std::map<std::string, std::string>;

// The sidecar's "checksum" object ({} when the sidecar has none), values
// lower-cased. kInvalidArgument naming the key ("checksum.sha256") for an
// unknown algorithm or a value that is not hex of that algorithm's length,
// or for a "checksum" that is not an object or is empty.
Result<Checksums> DeclaredChecksums(const nlohmann::json& metadata);

// The algorithms an attempt computes over the original: SHA-256 always
// (the catalog's and the manifest's), and every declared one.
std::vector<std::string> AlgorithmsFor(const Checksums& declared);

// The fixity check's outcome when something was declared.
struct Fixity {
  bool ok = true;
  std::string message;    // which algorithm differs, declared and computed
  nlohmann::json detail;  // {"declared":{...},"computed":{...},"mismatches":[...]}
};
// nullopt when nothing was declared.
std::optional<Fixity> CheckFixity(const Checksums& declared, const Checksums& computed);

// The manifest's text: one "HEX  PATH\n" line per file, sorted by path,
// paths relative to the filed folder, in their own bytes (a catalog path's
// U+F7xx form of a byte that is not UTF-8 is written as that byte). As
// BagIt (RFC 8493, 2.1.3) asks, a CR, LF or '%' in a path is
// percent-encoded.
std::string BagItManifest(std::vector<catalog::FileChecksum> files);

// Reads such a manifest back (path in the catalog's form -> hex);
// kInvalidArgument naming the line that is not "HEX  PATH".
Result<std::map<std::string, std::string>> ParseBagItManifest(std::string_view text);

}  // namespace vidgate::pipeline
