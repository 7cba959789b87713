#include "pipeline/metadata.h"

#include "pipeline/fixity.h"

namespace vidgate::pipeline {
namespace {

// Nesting depth of a JSON text, counted before parsing so that a hostile
// sidecar cannot drive the recursive parser deep.
int NestingDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return max_depth;
}

bool IsEmptyValue(const nlohmann::json& v) {
  return v.is_null() ||
         (v.is_string() &&
          v.get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

}  // namespace

Result<nlohmann::json> ValidateSidecar(std::string_view bytes,
                                       const std::vector<std::string>& required) {
  if (static_cast<int64_t>(bytes.size()) > kMaxSidecarBytes) {
    return InvalidArgument("sidecar is " + std::to_string(bytes.size()) +
                           " bytes, over the limit of 1 MiB");
  }
  if (int depth = NestingDepth(bytes); depth > kMaxSidecarDepth) {
    return InvalidArgument("sidecar is nested " + std::to_string(depth) +
                           " levels deep, over the limit of " + std::to_string(kMaxSidecarDepth));
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    auto pos = what.find("parse error");
    return InvalidArgument("sidecar is not valid JSON: " +
                           (pos == std::string::npos ? what : what.substr(pos)));
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax the parser still refuses: a number too large for a
    // double ("1E999") throws out_of_range, not parse_error (found by
    // metadata_fuzz; it used to end vidgate on every scan).
    std::string what = e.what();
    auto pos = what.find("] ");
    return InvalidArgument("sidecar cannot be read: " +
                           (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  if (!doc.is_object()) return InvalidArgument("sidecar must be a JSON object");
  for (const auto& key : required) {
    auto it = doc.find(key);
    if (it == doc.end()) return InvalidArgument("sidecar lacks the required key '" + key + "'");
    if (IsEmptyValue(*it)) return InvalidArgument("sidecar's required key '" + key + "' is empty");
  }
  VG_RETURN_IF_ERROR(DeclaredChecksums(doc).status());
  return doc;
}

}  // namespace vidgate::pipeline
