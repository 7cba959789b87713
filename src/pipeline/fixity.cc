#include "pipeline/fixity.h"

#include <algorithm>

#include "common/digest.h"
#include "common/text.h"

namespace vidgate::pipeline {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string EncodePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\r') {
      out += "%0D";
    } else {
      out += c;
    }
  }
  return out;
}

std::string DecodePath(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const std::string_view code = path.substr(i, 3);
      if (code == "%25" || code == "%0A" || code == "%0a" || code == "%0D" || code == "%0d") {
        out += code == "%25" ? '%' : (code[2] == 'A' || code[2] == 'a') ? '\n' : '\r';
        i += 2;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

}  // namespace

Result<Checksums> DeclaredChecksums(const nlohmann::json& metadata) {
  Checksums out;
  if (!metadata.is_object()) return out;
  auto it = metadata.find("checksum");
  if (it == metadata.end()) return out;
  if (!it->is_object() || it->empty()) {
    return InvalidArgument(
        "sidecar's key 'checksum' must be an object such as {\"sha256\": \"<hex>\"}");
  }
  for (const auto& [algorithm, value] : it->items()) {
    const auto& known = DigestAlgorithms();
    if (std::find(known.begin(), known.end(), algorithm) == known.end()) {
      return InvalidArgument("sidecar's key 'checksum." + algorithm +
                             "' names an unknown algorithm (known: md5, sha1, sha256, sha512)");
    }
    if (!value.is_string() || !IsHexDigestOf(algorithm, value.get<std::string>())) {
      return InvalidArgument("sidecar's key 'checksum." + algorithm + "' is not a " + algorithm +
                             " digest in hex");
    }
    out[algorithm] = Lower(value.get<std::string>());
  }
  return out;
}

std::vector<std::string> AlgorithmsFor(const Checksums& declared) {
  std::vector<std::string> out = {"sha256"};
  for (const auto& [algorithm, value] : declared) {
    if (algorithm != "sha256") out.push_back(algorithm);
  }
  return out;
}

std::optional<Fixity> CheckFixity(const Checksums& declared, const Checksums& computed) {
  if (declared.empty()) return std::nullopt;
  Fixity out;
  nlohmann::json mismatches = nlohmann::json::array();
  nlohmann::json computed_json = nlohmann::json::object();
  for (const auto& [algorithm, value] : declared) {
    auto it = computed.find(algorithm);
    const std::string got = it == computed.end() ? "" : it->second;
    computed_json[algorithm] = got;
    if (got == value) continue;
    out.ok = false;
    mismatches.push_back({{"algorithm", algorithm}, {"declared", value}, {"computed", got}});
    out.message += (out.message.empty() ? "" : "; ") + std::string("the original's ") + algorithm +
                   " is " + got + ", the sidecar declares " + value;
  }
  if (out.ok) {
    std::string names;
    for (const auto& [algorithm, value] : declared)
      names += (names.empty() ? "" : ", ") + algorithm;
    out.message = "the original matches the declared " + names;
  }
  out.detail = {{"declared", declared}, {"computed", computed_json}, {"mismatches", mismatches}};
  return out;
}

std::string BagItManifest(std::vector<catalog::FileChecksum> files) {
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  std::string out;
  // The file's own bytes (a name that is not UTF-8 is kept in the catalog
  // in its text form), as sha256sum finds it.
  for (const auto& f : files) out += f.sha256 + "  " + EncodePath(KeyToBytes(f.path)) + "\n";
  return out;
}

Result<std::map<std::string, std::string>> ParseBagItManifest(std::string_view text) {
  std::map<std::string, std::string> out;
  int line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t gap = line.find("  ");
    if (gap == std::string_view::npos || !IsHexDigestOf("sha256", line.substr(0, gap)) ||
        gap + 2 >= line.size()) {
      return InvalidArgument("manifest line " + std::to_string(line_number) +
                             " is not 'SHA256  PATH'");
    }
    out[BytesToKey(DecodePath(line.substr(gap + 2)))] = Lower(std::string(line.substr(0, gap)));
  }
  return out;
}

}  // namespace vidgate::pipeline
