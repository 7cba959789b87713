#include "common/secrets.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>

namespace vidgate {
namespace {

// A secret file larger than this is a wrong path, not a secret.
constexpr size_t kMaxSecretFileSize = 64 * 1024;

Result<std::string> ReadSecretFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open secret file", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};

  std::string contents;
  std::array<char, 4096> buf{};
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read secret file", path);
    }
    if (n == 0) break;
    contents.append(buf.data(), static_cast<size_t>(n));
    if (contents.size() > kMaxSecretFileSize) {
      return InvalidArgument(
          fmt::format("secret file '{}' is larger than {} bytes", path, kMaxSecretFileSize));
    }
  }
  while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
    contents.pop_back();
  }
  if (contents.empty()) return InvalidArgument(fmt::format("secret file '{}' is empty", path));
  return contents;
}

}  // namespace

std::string RedactUrl(std::string_view url, const UrlRedaction& how) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, scheme_end + 3));
  std::string_view rest = url.substr(scheme_end + 3);

  // Authority: [user[:password]@]host[:port], up to the path, query or
  // fragment. The last '@' ends the user information ("@" may be in it).
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (how.hide_user) {
      out += kRedacted;
    } else {
      out += userinfo.substr(0, colon);
      if (colon != std::string_view::npos) out += ":" + std::string(kRedacted);
    }
    out += authority.substr(at);
  } else {
    out += authority;
  }

  // Path, then the query's parameters one by one, then the fragment.
  const auto query = rest.find('?');
  const auto fragment = rest.find('#');
  std::string_view path = rest.substr(0, std::min(query, fragment));
  while (!path.empty()) {
    const auto slash = path.find('/', 1);
    std::string_view segment = path.substr(0, slash);  // with its leading '/'
    if (how.hide_path_segments_from > 0 && segment.size() > how.hide_path_segments_from) {
      out += "/" + std::string(kRedacted);
    } else {
      out += segment;
    }
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  if (query != std::string_view::npos && query < fragment) {
    std::string_view params =
        rest.substr(query + 1, fragment == std::string_view::npos ? std::string_view::npos
                                                                  : fragment - query - 1);
    out += '?';
    bool first = true;
    while (true) {
      const auto amp = params.find('&');
      std::string_view param = params.substr(0, amp);
      if (!first) out += '&';
      first = false;
      const auto eq = param.find('=');
      if (eq == std::string_view::npos) {
        out += param.empty() || !how.secret_parameter(param) ? std::string(param)
                                                             : std::string(kRedacted);
      } else {
        std::string_view key = param.substr(0, eq);
        out += std::string(key) + "=";
        out +=
            how.secret_parameter(key) ? std::string(kRedacted) : std::string(param.substr(eq + 1));
      }
      if (amp == std::string_view::npos) break;
      params = params.substr(amp + 1);
    }
  }
  if (fragment != std::string_view::npos) out += "#" + std::string(kRedacted);
  return out;
}

Result<std::string> ResolveSecret(std::string_view spec) {
  if (spec.starts_with("env:")) {
    std::string name(spec.substr(4));
    if (name.empty()) return InvalidArgument("secret \"env:\" names no environment variable");
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return InvalidArgument(fmt::format("environment variable {} is not set", name));
    }
    if (*value == '\0')
      return InvalidArgument(fmt::format("environment variable {} is empty", name));
    return std::string(value);
  }
  if (spec.starts_with("file:")) {
    std::string path(spec.substr(5));
    if (path.empty()) return InvalidArgument("secret \"file:\" names no file");
    return ReadSecretFile(path);
  }
  return std::string(spec);
}

}  // namespace vidgate
