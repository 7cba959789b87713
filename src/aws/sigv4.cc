#include "aws/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <map>

#include "common/util.h"

namespace vidgate::aws {
namespace {

bool Unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trimmed, with every run of white space (line folds included) made one
// space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// RFC 3986 dot-segment removal, with empty segments dropped too.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  const bool trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..") ||
                        path == "." || path == "..";
  if (out.empty() || trailing) out += '/';
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view bytes, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string AmzDate(double epoch_seconds) {
  const auto t = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signed SignV4(const SigningRequest& request, const Credentials& credentials,
              const SigningParams& params) {
  Signed out;
  const std::string amz_date = AmzDate(params.now);
  const std::string date = amz_date.substr(0, 8);
  out.headers.emplace_back("x-amz-date", amz_date);
  if (params.content_sha256_header) {
    out.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  const bool token = !credentials.session_token.empty();
  if (token && !params.omit_session_token) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }

  // Headers: lower-case names, sorted; repeated names joined with ",".
  std::map<std::string, std::string> headers;
  auto add = [&headers](const Header& h) {
    std::string name = Lower(h.first);
    std::string value = CanonicalHeaderValue(h.second);
    auto [it, fresh] = headers.emplace(name, value);
    if (!fresh) it->second += "," + value;
  };
  for (const auto& h : request.headers) add(h);
  for (const auto& h : out.headers) add(h);
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  // Query: encoded names and values, sorted by name, then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query) query.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += k + "=" + v;
  }

  const std::string path = request.path.empty() ? "/" : request.path;
  const std::string canonical_uri =
      params.s3_path
          ? path
          : UriEncode(params.normalize_path ? NormalizePath(path) : path, /*keep_slash=*/true);

  out.canonical_request =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, canonical_uri, canonical_query,
                  canonical_headers, signed_headers, request.payload_hash);
  const std::string scope =
      fmt::format("{}/{}/{}/aws4_request", date, params.region, params.service);
  out.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope,
                                   Sha256Hex(out.canonical_request));
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, params.service);
  key = HmacSha256(key, "aws4_request");
  out.signature = Hex(HmacSha256(key, out.string_to_sign));
  if (token && params.omit_session_token) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  out.headers.emplace_back(
      "authorization",
      fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                  credentials.access_key_id, scope, signed_headers, out.signature));
  return out;
}

}  // namespace vidgate::aws
